"""Settings come from NGSILD_* variables and the serve command line, nowhere else."""

from __future__ import annotations

import pytest

from ngsild.__main__ import main
from ngsild.settings import Settings
from ngsild.store.factory import open_store
from ngsild.store.mongo import MongoStore


def test_defaults_serve_the_embedded_store_on_loopback() -> None:
    """With nothing set, the broker listens on 127.0.0.1:1026 with SQLite and may contact any host."""
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 1026)
    assert settings.store.startswith("sqlite:///")
    assert settings.egress.allow_all


def test_environment_variables_are_typed() -> None:
    """NGSILD_<FIELD> variables set the matching field, converted to its type."""
    settings = Settings.from_env(
        {"NGSILD_PORT": "2000", "NGSILD_EGRESS_ALLOW": "127.0.0.0/8,::1", "NGSILD_CONTEXT_TIMEOUT_S": "1.5"}
    )
    assert settings.port == 2000 and settings.context_timeout_s == 1.5
    assert settings.egress.allows_host("127.0.0.1") and not settings.egress.allows_host("10.0.0.1")


def test_command_line_overrides_environment() -> None:
    """serve options win over the environment they start from."""
    base = Settings.from_env({"NGSILD_PORT": "2000"})
    command, settings = Settings.from_args(
        ["serve", "--port", "3000", "--store", "sqlite://:memory:", "--egress-allow", "localhost"], base
    )
    assert command == "serve"
    assert settings.port == 3000 and settings.store == "sqlite://:memory:"
    assert settings.egress.allows_host("localhost") and not settings.egress.allows_host("example.org")


def test_malformed_egress_list_fails_at_startup() -> None:
    """A typo in the allow-list stops the broker before it serves anything."""
    with pytest.raises(ValueError):
        Settings.from_args(["serve", "--egress-allow", "not a host!"], Settings.from_env({}))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--store", "mongodb://127.0.0.1:notaport"], "invalid MongoDB URL"),
        (["--store", "mongodb://127.0.0.1:27017", "--store-write-concern", ""], "write concern"),
        (["--store", "postgres://127.0.0.1/db"], "unknown store URL"),
    ],
)
def test_unusable_store_settings_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """A store URL or store option the broker cannot use stops it before it serves, with status 2."""
    assert main(["serve", *argv]) == 2
    assert message in capsys.readouterr().err


def test_store_options_reach_the_mongodb_adapter() -> None:
    """Write concern, read preference and timeout flags configure the adapter; majority by default."""
    _, settings = Settings.from_args(["serve", "--store", "mongodb://db.example:27017/city"], Settings.from_env({}))
    store = open_store(settings.store, **settings.store_options)
    assert isinstance(store, MongoStore) and store.database_name == "city"
    assert store.write_concern.document == {"w": "majority", "j": True, "wtimeout": 10000}
    _, settings = Settings.from_args(
        ["serve", "--store", "mongodb://db.example", "--store-write-concern", "2",
         "--store-read-preference", "secondaryPreferred", "--store-timeout", "0.5"],
        Settings.from_env({}),
    )  # fmt: skip
    store = open_store(settings.store, **settings.store_options)
    assert isinstance(store, MongoStore) and store.database_name == "ngsild"
    assert store.write_concern.document == {"w": 2, "j": True, "wtimeout": 1000}
    assert store.read_preference.mongos_mode == "secondaryPreferred" and store.timeout_ms == 500

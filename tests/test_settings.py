"""Settings come from NGSILD_* variables and the serve command line, nowhere else."""

from __future__ import annotations

import pytest

from ngsild.__main__ import main
from ngsild.settings import Settings


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


def test_mongodb_store_is_refused_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    """Until the MongoDB adapter lands, asking for it exits with status 2 and says so."""
    assert main(["serve", "--store", "mongodb://127.0.0.1:27017"]) == 2
    assert "MongoDB store is not available" in capsys.readouterr().err

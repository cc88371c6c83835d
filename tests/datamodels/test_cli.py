"""``python -m datamodels``: exit codes 0 (valid), 1 (violations / load errors), 2 (cannot run), and
one ``path: rule: message`` line per violation.

The main paths run as a subprocess, as a user would; the remaining cases call ``main`` in-process
(same code, without paying a Python start-up each).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from datamodels.__main__ import main
from tests.datamodels.sdm import NEEDS_SHARED, SHARED, example_path

if not SHARED.is_dir():
    pytest.skip(NEEDS_SHARED, allow_module_level=True)

PROJECT = Path(__file__).resolve().parents[2]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datamodels", *map(str, args)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_inline(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- as a subprocess -------------------------------------------------------------------------------------


def test_a_valid_normalized_entity_exits_0_silently() -> None:
    """The entity's own type picks the model; a valid entity prints nothing."""
    result = run("validate", example_path("ParkingSpot", "example-normalized.jsonld"), "--source", SHARED)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_violations_exit_1_with_one_line_each() -> None:
    """Every violation is a ``path: rule: message`` line on stdout."""
    result = run("validate", example_path("AirQualityObserved", "example-normalized.jsonld"), "--source", SHARED)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "$.dateObserved: format: '2016-03-15T11:00:00' is not a 'date-time'",
        "$.tsp: type: 73.3 is not of type 'integer'",
        "$.windDirection: maximum: 186 is greater than the maximum of 180",
    ]


@pytest.mark.parametrize(
    ("file", "extra", "says"),
    [
        (example_path("PointOfInterest", "example.jsonld"), (), "is not valid JSON"),
        (example_path("ParkingSpot", "example.json"), ("--type", "Spaceship"), "no model for type 'Spaceship'"),
    ],
    ids=["invalid-json", "unknown-type"],
)
def test_what_cannot_be_validated_exits_2(file: Path, extra: tuple[str, ...], says: str) -> None:
    """Invalid JSON and unknown types are usage errors, explained on stderr."""
    result = run("validate", file, "--source", SHARED, *extra)
    assert result.returncode == 2 and result.stdout == ""
    assert says in result.stderr


def test_list_prints_every_model_of_the_source() -> None:
    """``list`` prints Domain/Type lines, sorted, and no errors for the shared pack."""
    result = run("list", "--source", SHARED)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 34 and lines == sorted(lines)
    assert {"Parking/ParkingSpot", "GBFS/station_information"} <= set(lines)


# ---- in-process ------------------------------------------------------------------------------------------


def test_type_iris_and_the_type_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A type IRI is matched by its last segment; --type overrides the entity's type."""
    entity = json.loads(example_path("Streetlight", "example.json").read_text())
    entity["type"] = "https://smartdatamodels.org/dataModel.Streetlighting/Streetlight"
    file = tmp_path / "entity.json"
    file.write_text(json.dumps(entity))
    assert run_inline(capsys, "validate", file, "--source", SHARED) == (0, "", "")
    code, out, _ = run_inline(capsys, "validate", file, "--source", SHARED, "--type", "Streetlighting/StreetlightModel")
    assert code == 1
    assert "$: required: 'name' is a required property" in out.splitlines()


@pytest.mark.parametrize(
    ("file", "says"),
    [(SHARED / "no-such-file.json", "cannot read"), (SHARED / "refs.json", "no string 'type'")],
    ids=["missing-file", "no-type"],
)
def test_unreadable_or_untyped_files_exit_2(file: Path, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that cannot be read, or holds no typed entity, is a usage error."""
    code, out, err = run_inline(capsys, "validate", file, "--source", SHARED)
    assert (code, out) == (2, "") and says in err


def test_list_without_a_source_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No cache yet: the message says to pull or name a source."""
    code, _, err = run_inline(capsys, "list", "--cache", tmp_path / "empty")
    assert code == 2 and "--source" in err


def test_list_reports_load_errors_on_stderr_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Models that load are listed; the ones that do not are explained on stderr."""
    (tmp_path / "Demo" / "Good").mkdir(parents=True)
    (tmp_path / "Demo" / "Good" / "schema.json").write_text('{"type": "object"}')
    (tmp_path / "Demo" / "Bad").mkdir()
    (tmp_path / "Demo" / "Bad" / "schema.json").write_text('{"type": 5}')
    code, out, err = run_inline(capsys, "list", "--source", tmp_path)
    assert (code, out) == (1, "Demo/Good\n")
    assert "Bad/schema.json: not a valid JSON Schema" in err


def test_pull_of_an_unknown_bare_type_exits_2_before_any_download(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An uncatalogued bare type is refused up front, naming the Domain/Type form."""
    code, _, err = run_inline(capsys, "pull", "Spaceship", "--cache", tmp_path / "cache")
    assert code == 2 and "Domain/Type" in err
    assert not (tmp_path / "cache").exists()

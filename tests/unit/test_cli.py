"""cli.main: commands, exit codes and messages, in process and as `python -m medama_py`."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from medama_py import cli
from medama_py.version import VERSION

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.server import Server

VERSION_LINE = re.compile(r"^Medama Analytics \S+, commit=\S+$")


def test_version_prints_one_line_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["version"], {}) == 0
    out, err = capsys.readouterr()
    assert VERSION_LINE.match(out.strip())
    assert out.strip().startswith(f"Medama Analytics {VERSION}, commit=")
    assert out.count("\n") == 1
    assert err == ""


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([], {}) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("Usage: medama <command> [flags]")


@pytest.mark.parametrize("command", ["stop", "serve", "-port", "START"])
def test_unknown_command_exits_1(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([command], {}) == 1
    assert f'ERROR: medama: unknown command "{command}"' in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["-h", "--help", "-help"])
def test_start_help_exits_0_with_the_flag_list(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["start", flag], {}) == 0
    text = "".join(capsys.readouterr())
    for name in ("-port", "-appdb", "-analyticsdb", "-logger", "-level", "-corsorigins", "-demo", "-env", "-autossl"):
        assert name in text


@pytest.mark.parametrize("argv", [["-nope"], ["-port"], ["positional"], ["--bogus=1"]])
def test_unknown_or_incomplete_flag_exits_2_with_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["start", *argv], {}) == 2
    err = capsys.readouterr().err
    assert "Usage of start:" in err


@pytest.mark.parametrize(("argv", "flag"), [(["-port", "abc"], "-port"), (["-demo=perhaps"], "-demo")])
def test_bad_flag_value_exits_2_naming_the_flag(argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["start", *argv], {}) == 2
    first_line = capsys.readouterr().err.splitlines()[0]
    assert flag in first_line


@pytest.mark.parametrize(
    ("argv", "environ", "needle"),
    [
        (["-env"], {"PORT": "abc"}, "PORT"),
        (["-env"], {"DEMO_MODE": "yes"}, "DEMO_MODE"),
        (["-logger", "xml"], {}, 'invalid logger type "xml"'),
        (["-level", "verbose"], {}, 'invalid log level "verbose"'),
        (["-port", "99999"], {}, "-port"),
        (["-autossl", "not a domain"], {}, "-autossl"),
        (["-env"], {"AUTO_SSL": "example.com", "AUTO_SSL_EMAIL": "nobody"}, "-autosslemail"),
    ],
)
def test_startup_config_errors_exit_1_with_error_prefix(
    argv: list[str], environ: dict[str, str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["start", *argv], environ) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: ")
    assert needle in err


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medama_py", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.e2e  # runs `python -m medama_py`
def test_module_entry_point_exit_codes() -> None:
    version = _run("version")
    assert (version.returncode, version.stderr) == (0, "")
    assert VERSION_LINE.match(version.stdout.strip())

    assert _run().returncode == 2
    unknown = _run("bogus")
    assert unknown.returncode == 1
    assert 'ERROR: medama: unknown command "bogus"' in unknown.stderr

    autossl = _run("start", "-autossl", "example.com", "-autosslemail", "not-an-email")
    assert autossl.returncode == 1
    assert "-autosslemail" in autossl.stderr
    assert "Traceback" not in autossl.stderr

    assert _run("start", "-h").returncode == 0
    assert _run("start", "-port", "x").returncode == 2


@pytest.mark.e2e  # starts `medama start`
def test_port_in_use_exits_1(server: Server, tmp_path: Path) -> None:
    taken = _run(
        "start",
        "-port",
        str(server.port),
        "-appdb",
        str(tmp_path / "other_meta.db"),
        "-analyticsdb",
        str(tmp_path / "other_analytics.db"),
    )
    assert taken.returncode == 1
    assert "ERROR:" in taken.stderr
    assert "Traceback" not in taken.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["-start", "yesterday"], "flag -start must be an RFC 3339 date-time such as 2024-06-01T00:00:00Z"),
        (["-end", "2024-02-30T00:00:00Z"], "flag -end is not a valid date-time: '2024-02-30T00:00:00Z'"),
    ],
)
def test_export_names_the_bad_time_flag(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    assert cli.main(["export", "-hostname", "a.example", "-out", str(out), *flags], {}) == 2
    assert capsys.readouterr().err == f"ERROR: {message}\n"
    assert not out.exists()

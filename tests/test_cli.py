"""The command line's exit-code contract: 0 done, 2 bad input/usage (one line), 1 internal."""

import subprocess
import sys

import pytest

from imu_knee import cli


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_no_command_prints_help_and_exits_2(capsys):
    code, out, _ = run_cli(capsys)
    assert code == 2
    assert "analyze" in out and "simulate" in out


@pytest.mark.parametrize("argv", [["bogus"], ["--no-such-flag"]])
def test_usage_errors_are_one_line_exit_2(capsys, argv):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("imu-knee: ")


def test_internal_errors_exit_1_without_traceback(capsys, monkeypatch):
    monkeypatch.setattr(cli, "_command_module", lambda name: (_ for _ in ()).throw(RuntimeError("boom")))
    code, _, err = run_cli(capsys, "scan")
    assert code == 1
    assert "internal error" in err and "Traceback" not in err


def test_console_script_runs_as_module():
    proc = subprocess.run([sys.executable, "-m", "imu_knee", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.startswith("imu-knee ")

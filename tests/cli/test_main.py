"""The top-level command: help, version, and one-line errors."""

import subprocess
import sys

from genoscreen.cli import main


def test_help_lists_every_command(capsys):
    try:
        main(["--help"])
    except SystemExit as exit_:
        assert exit_.code == 0
    out = capsys.readouterr().out
    for command in ("make-examples", "call", "affinity", "screen"):
        assert command in out, command


def test_version_runs_as_module():
    result = subprocess.run([sys.executable, "-m", "genoscreen", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("genoscreen ")

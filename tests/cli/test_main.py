"""The top-level command: help, version, and one-line errors."""

import subprocess
import sys

from genoscreen.cli import main


def _top_help(capsys) -> str:
    try:
        main(["--help"])
    except SystemExit as exit_:
        assert exit_.code == 0
    return capsys.readouterr().out


def test_help_lists_every_command(capsys):
    out = _top_help(capsys)
    for command in ("make-examples", "call", "affinity", "screen"):
        assert command in out, command


def test_version_runs_as_module():
    result = subprocess.run([sys.executable, "-m", "genoscreen", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("genoscreen ")


def _commands():
    from genoscreen.cli import build_parser
    from genoscreen.cli.help import sub_parsers

    return list(sub_parsers(build_parser()))


def test_user_commands_are_listed_before_workflow_plumbing(capsys):
    out = _top_help(capsys)
    listing = [line.split()[0] for line in out.split("COMMAND\n", 1)[1].split("\noptions:")[0].splitlines()
               if line.startswith("    ") and not line.startswith("     ")]
    assert listing[:4] == ["call", "screen", "affinity", "evaluate"], listing
    assert listing.index("screen") < listing.index("make-examples") < listing.index("merge-hits")
    assert "User commands: call, screen, affinity, evaluate" in out


def test_every_command_help_shows_an_example_and_its_defaults():
    """Each sub-command's --help ends with an example that parses as a command line of that command; every option
    with a default (not None/False) shows it; options taking a value have a metavar of their own, the same one for
    a flag wherever it appears (except --out, named by what each command writes)."""
    import argparse
    import shlex

    from genoscreen.cli import build_parser
    from genoscreen.cli.help import shows_default

    commands = _commands()
    assert len(commands) >= 20
    metavars: dict[str, set] = {}
    for path, parser in commands:
        text = parser.format_help()
        name = " ".join(path)
        example = text.split("example:\n\n", 1)[-1].strip() if "example:\n\n" in text else ""
        assert example.startswith(f"genoscreen {name} ") or path == ("affinity",) and example.startswith(
            "genoscreen affinity "), (name, text[-300:])
        args = build_parser().parse_args(shlex.split(example)[1:])  # a real command line, SystemExit if not
        assert hasattr(args, "func"), name
        for action in parser._actions:
            if not action.option_strings or action.default in (None, False, argparse.SUPPRESS, []):
                continue
            options = text.split("\noptions:\n", 1)[1]
            block = options.split(f"  {', '.join(action.option_strings)} ", 1)[1].split("\n  -", 1)[0]
            assert shows_default(" ".join(block.split()), action.default), (name, action.option_strings, action.default)
        for action in parser._actions:
            if action.nargs == 0 or not action.option_strings or action.choices:
                continue
            assert action.metavar, (name, action.option_strings)
            if action.option_strings[0] != "--out":
                metavars.setdefault(action.option_strings[0], set()).add(action.metavar)
    assert {flag: m for flag, m in metavars.items() if len(m) > 1} == {}

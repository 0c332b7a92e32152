"""User-facing errors: the CLI prints these as one line (no traceback) and exits non-zero."""


class GenoscreenError(Exception):
    """An error caused by the user's input; the message names the file, the record and the fix."""


class InputError(GenoscreenError):
    """A file or record that cannot be read as given."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (what SLURM sends at a time limit), raised like Ctrl-C so the same cleanup runs: `atomic_path`
    removes its temporary output, worker pools shut down. `genoscreen.cli.main` installs the handler."""

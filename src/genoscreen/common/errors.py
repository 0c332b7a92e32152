"""User-facing errors: the CLI prints these as one line (no traceback) and exits non-zero."""


class GenoscreenError(Exception):
    """An error caused by the user's input; the message names the file, the record and the fix."""


class InputError(GenoscreenError):
    """A file or record that cannot be read as given."""

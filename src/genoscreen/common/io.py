"""Atomic output paths, the checks on output paths made before any work, and reading of (b)gzipped text files."""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator, Mapping

from genoscreen.common.errors import InputError

PathSpec = str | os.PathLike | Iterable[str | os.PathLike] | None  # one path, several, or none (flag not given)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OverflowError, ValueError):
        return False
    return True


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove the `.NAME.tmpPID*` siblings of `path` whose process is gone (killed by SIGKILL, a node crash).

    Temporaries of live processes, this one included, are kept. Returns what was removed.
    """
    final = Path(path)
    pattern = re.compile(rf"\.{re.escape(final.stem)}\.tmp(\d+)(\..*)?")
    removed = []
    try:
        entries = list(os.scandir(final.parent))
    except OSError:  # the folder does not exist yet, or cannot be listed: nothing to sweep
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match and not _alive(int(match.group(1))):
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it to `path` only if the block succeeds.

    The temporary name keeps the final suffix (so format detection by extension still works) and is removed on
    failure, Ctrl-C or SIGTERM (see `errors.Terminated`), so no partial output is ever left under the final name.
    Temporaries of `path` left by dead processes (SIGKILL) are removed first.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(final)
    tmp = final.with_name(f".{final.stem}.tmp{os.getpid()}{''.join(final.suffixes) or ''}")
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file for writing and rename it to `path` when the block completes."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as handle:
            yield handle


def command_line(argv: list[str]) -> str:
    """The genoscreen command as typed (`argv` after the program name), quoted so a shell can rerun it."""
    import shlex

    return shlex.join(["genoscreen", *map(str, argv)])


def is_gzipped(path: str | os.PathLike) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open a plain or (b)gzipped text file for reading."""
    if is_gzipped(path):
        return gzip.open(path, "rt")
    return open(path, "rt")


def open_binary(path: str | os.PathLike) -> IO[bytes]:
    """Open a plain or (b)gzipped file for reading bytes."""
    return gzip.open(path, "rb") if is_gzipped(path) else open(path, "rb")


def text_lines(path: str | os.PathLike) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text, problem) for each line of a plain or (b)gzipped UTF-8 file (\\r\\n read as \\n).

    A line that is not UTF-8 comes with the problem ("byte 0xff at column 7 is not UTF-8") and its text decoded
    with U+FFFD for the bad bytes, so a reader can skip that one record, name it, and go on.
    """
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            problem = None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                problem = f"byte 0x{raw[err.start]:02x} at column {err.start + 1} is not UTF-8"
                text = raw.decode("utf-8", "replace")
            yield number, text.replace("\r\n", "\n"), problem


def strip_compression_suffix(path: str | os.PathLike) -> str:
    """'lib.smi.gz' -> 'lib.smi': the name used for format detection."""
    name = Path(path).name.lower()
    for suffix in (".gz", ".bgz", ".gzip"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _paths(spec: PathSpec) -> list[Path]:
    if spec is None:
        return []
    if isinstance(spec, (str, os.PathLike)):
        return [] if str(spec) in ("", "-") else [Path(spec)]  # '-': stdout
    return [path for item in spec for path in _paths(item)]


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _writable_folder(label: str, path: Path) -> None:
    """InputError unless `path`'s folder, or the nearest existing folder above it, accepts new files."""
    folder = path.resolve().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(f"{label} {path}: {folder} is a file, not a folder; choose another {label}")
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".genoscreen-write-test"):
            pass
    except OSError as err:
        raise InputError(f"{label} {path}: cannot write in {folder} ({err.strerror or err}); choose a writable "
                         "folder") from None


def check_outputs(outputs: Mapping[str, PathSpec], inputs: Mapping[str, PathSpec] | None = None) -> None:
    """Refuse, before any work, outputs that would destroy an input or each other, or that cannot be written.

    `outputs` and `inputs` map a flag name (the label in the message, e.g. "--out") to a path, several paths or
    None; give the files read from an input folder (a model's weights, an examples folder's shards) as inputs, as
    writing beside them may be intended. An output must not resolve to an existing input or hold one (folder
    outputs are replaced whole); it must differ from every other output and not hold it; and its folder, or the
    nearest existing one above it, must be a writable folder. Raises InputError naming both flags and the fix.
    """
    resolved_inputs = [(label, path, path.resolve()) for label, spec in (inputs or {}).items()
                       for path in _paths(spec) if path.exists()]
    seen: list[tuple[str, Path, Path]] = []
    for label, spec in outputs.items():
        for path in _paths(spec):
            real = path.resolve()
            for in_label, in_path, in_real in resolved_inputs:
                if real == in_real:
                    problem = f"is the input {in_label} {in_path}"
                elif _within(in_real, real):
                    problem = f"holds the input {in_label} {in_path}"
                else:
                    continue
                raise InputError(f"{label} {path}: {problem}; writing it would overwrite the input; choose another "
                                 f"{label}")
            for other_label, other_path, other_real in seen:
                if _within(real, other_real) or _within(other_real, real):
                    raise InputError(f"{label} {path} and {other_label} {other_path}: the same path (or one inside "
                                     "the other); give each output its own name")
            _writable_folder(label, path)
            seen.append((label, path, real))

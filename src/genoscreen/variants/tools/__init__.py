"""Thin wrappers around external binaries (one module per binary), each checking the binary is installed."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from genoscreen.common.errors import GenoscreenError

log = logging.getLogger(__name__)


class ToolError(GenoscreenError):
    """An external tool is missing or failed."""


def require(binary: str, apt_package: str) -> str:
    """Absolute path of `binary`, or ToolError saying how to install it."""
    path = shutil.which(binary)
    if path is None:
        raise ToolError(f"{binary}: not installed (not on PATH); install it: `apt-get install {apt_package}`")
    return path


def run(cmd: Sequence[str], *, stdout=None, cwd: str | Path | None = None, what: str | None = None) -> str:
    """Run a command, raising ToolError with the end of its stderr when it fails; returns stderr text."""
    cmd = [str(c) for c in cmd]
    log.debug("running: %s", " ".join(cmd))
    proc = subprocess.run(cmd, stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=cwd, text=False)
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        text = err.strip() or (proc.stdout or b"").decode(errors="replace").strip()
        tail = " | ".join(text.splitlines()[-3:])
        raise ToolError(f"{what or Path(cmd[0]).name} failed (exit {proc.returncode}): {tail}")
    return err

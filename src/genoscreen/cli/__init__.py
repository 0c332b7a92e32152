"""The `genoscreen` command: thin argparse entry points over the library.

Each module in this package adds its sub-commands with `register(subparsers)`; handlers import the heavy
libraries (JAX, pysam, RDKit) lazily so that `--help` is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading

from genoscreen import __version__
from genoscreen.common.errors import GenoscreenError, Terminated
from genoscreen.cli.help import finish as finish_help
from genoscreen.common.logging import setup_logging

log = logging.getLogger("genoscreen")


def build_parser() -> argparse.ArgumentParser:
    from genoscreen.cli import affinity, caller, consequences, explain, screen, variants, workflow

    parser = argparse.ArgumentParser(
        prog="genoscreen",
        description=(
            "Germline variant calling from aligned reads with a pileup CNN (make-examples -> call-variants -> "
            "postprocess, or `call` for all three), and drug-target binding affinity prediction and screening "
            "(`affinity ...`, `screen`). Models are JAX/Flax and run on CPU, GPU or TPU."
        ),
    )
    parser.add_argument("--version", action="version", version=f"genoscreen {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (variants, caller, affinity, screen, consequences, explain, workflow):
        module.register(sub)
    finish_help(parser)
    return parser


@contextlib.contextmanager
def sigterm_as_interrupt():
    """While the block runs, SIGTERM (SLURM's time limit, `kill`) raises `Terminated`, a KeyboardInterrupt: the
    cleanup of Ctrl-C runs (temporary outputs removed) instead of the process dying with its temporaries left."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        yield
        return
    pid = os.getpid()

    def handler(signum, frame):
        if os.getpid() != pid:  # a forked child that inherited the handler: die as SIGTERM intends
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command line, for output headers
    setup_logging(-1 if args.quiet else args.verbose)
    claims = contextlib.ExitStack()  # the CPUs this command holds, released when it returns
    if argv is None:  # a command-line process (not a caller's in-process call): its CPUs follow --threads
        from genoscreen.common.cpus import limit_cpus

        limit_cpus(getattr(args, "threads", None), claims)
    try:
        with claims, sigterm_as_interrupt():
            result = args.func(args)
    except GenoscreenError as err:
        print(f"genoscreen {args.command}: error: {err}", file=sys.stderr)
        return 2
    except Terminated:
        print("genoscreen: terminated (SIGTERM); partial outputs removed", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("genoscreen: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)

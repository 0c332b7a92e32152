"""Fallback entry for bench/gpu_train_affinity.sh: `genoscreen affinity ...` with only the affinity sub-commands.

Used only when the full CLI cannot import on a bare GPU machine (another module's dependency missing); same
handlers, same flags, same one-line errors.
"""

import argparse
import logging
import sys

from genoscreen.cli import affinity
from genoscreen.common.errors import GenoscreenError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
parser = argparse.ArgumentParser(prog="genoscreen")
affinity.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args()
try:
    sys.exit(int(args.func(args) or 0))
except GenoscreenError as err:
    print(f"genoscreen {args.command}: error: {err}", file=sys.stderr)
    sys.exit(2)

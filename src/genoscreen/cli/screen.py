"""CLI: `genoscreen screen` (every compound × every target) and `genoscreen affinity panels` (a model's panels)."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


DEFAULT_MODEL = "dta-bindingdb"  # the shipped general model: `screen` and `affinity predict` without --model


def register(sub: argparse._SubParsersAction) -> None:
    """Add `screen` to the top-level parser."""
    p = sub.add_parser(
        "screen",
        help="score every compound of a library against every target of a panel or FASTA",
        description=(
            "Score every compound of LIB against every target with a DeepDTA model. Each compound and target is "
            "encoded once and pairs run through a factorised head in tiles, in memory bounded by the tile; all "
            "local devices are used. Output columns: compound_id, target_id, prediction, rank (1 = strongest "
            "within the target), sorted by target_id then rank. Invalid SMILES go to OUT.errors.tsv."
        ),
    )
    p.add_argument("--model", default=DEFAULT_MODEL, metavar="MODEL_DIR",
                   help="model directory, as written by `affinity train`, or a shipped model's name: dta-bindingdb "
                        "(the general model: BindingDB Kd + Davis), dta-davis, dta-kiba (default: %(default)s)")
    p.add_argument("--compounds", required=True, metavar="LIB",
                   help="compound library: .smi (SMILES id), .tsv/.csv (smiles + drug_id/compound_id/id column) "
                        "or .sdf, optionally gzipped")
    add_column_args(p)
    targets = p.add_mutually_exclusive_group(required=True)
    targets.add_argument("--targets", metavar="T.fasta", help="protein FASTA of the targets to screen")
    targets.add_argument("--panel", metavar="NAME",
                         help="a target panel the model carries (see `genoscreen affinity panels --model M`)")
    p.add_argument("--mutants", metavar="FASTA",
                   help="mutant targets (GENE:p.Thr315Ile from `genoscreen consequences`, or GENE(T315I)) whose wild "
                        "types are in --targets: screened too, and OUT.shifts.tsv gets each compound's predicted "
                        "change from wild type to mutant (delta; negative = affinity lost), ranked by |delta|")
    p.add_argument("--out", required=True, metavar="HITS",
                   help="output table: TSV, or Parquet when the name ends in .parquet; written only when complete")
    p.add_argument("--top-k", type=int, metavar="K",
                   help="keep only the K best compounds per target (default: every pair)")
    p.add_argument("--min-affinity", type=float, metavar="X",
                   help="keep only predictions >= X (in the model's label units, e.g. pKd for dta-davis)")
    p.add_argument("--allow-empty", action="store_true",
                   help="a compound file with no valid compound writes a hits table with only its header instead of "
                        "failing (the workflow uses it for library chunks)")
    p.set_defaults(func=run_screen)


def add_column_args(p: argparse.ArgumentParser) -> None:
    """--id-column / --smiles-column of every command that reads a compound file."""
    p.add_argument("--id-column", metavar="COL",
                   help="where the compound ids are: a header name (.tsv/.csv), a field number from 1 (.smi, "
                        "tables) or an SDF property (default: .smi field 2; drug_id, compound_id or id)")
    p.add_argument("--smiles-column", metavar="COL",
                   help="where the SMILES are: a header name (.tsv/.csv) or a field number from 1 (default: .smi "
                        "field 1; the smiles column). DeepPurpose `name SMILES` lines: a .smi with --id-column 1 "
                        "--smiles-column 2")


def columns_of(args: argparse.Namespace):
    """The `Columns` the --id-column / --smiles-column flags name."""
    from genoscreen.affinity.io.compounds import Columns

    return Columns(id=args.id_column, smiles=args.smiles_column)


def register_panels(affinity_sub: argparse._SubParsersAction) -> None:
    """Add `panels` to the `genoscreen affinity` sub-parsers."""
    p = affinity_sub.add_parser(
        "panels",
        help="list the target panels a model carries, or add one from a FASTA",
        description=(
            "Without --add: print a table of the panels in MODEL_DIR/panels (name, targets, whether they match "
            "the model's current weights, source FASTA name). With --add NAME --targets T.fasta: encode the "
            "targets with the model's target branch and store their ids and encodings (no sequences) as panel "
            "NAME, for `genoscreen screen --panel NAME`."
        ),
    )
    p.add_argument("--model", required=True, metavar="MODEL_DIR", help="model directory")
    p.add_argument("--add", metavar="NAME", help="name of a panel to build (letters, digits, '_', '-', '.')")
    p.add_argument("--targets", metavar="T.fasta", help="protein FASTA to encode into the panel (with --add)")
    p.add_argument("--force", action="store_true", help="replace an existing panel of that name")
    p.set_defaults(func=run_panels)


def run_screen(args: argparse.Namespace) -> int:
    from genoscreen.screening.screen import screen

    screen(args.model, args.compounds, args.out, targets=args.targets, panel=args.panel, top_k=args.top_k,
           min_affinity=args.min_affinity, allow_empty=args.allow_empty, columns=columns_of(args),
           mutants=args.mutants)
    return 0


def run_panels(args: argparse.Namespace) -> int:
    from genoscreen.common.errors import InputError
    from genoscreen.screening import panels

    if args.add is None:
        if args.targets is not None:
            raise InputError("--targets is only used with --add NAME; add --add NAME to build a panel")
        rows = panels.describe_panels(args.model)
        print("name\ttargets\tstatus\tsource")
        for row in rows:
            print("\t".join(str(v) for v in row))
        return 0
    if args.targets is None:
        raise InputError(f"--add {args.add}: needs --targets T.fasta, the sequences to encode")
    path = panels.add_panel(args.model, args.add, args.targets, force=args.force)
    log.info("wrote panel %s (%s)", args.add, path)
    return 0

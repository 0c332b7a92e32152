"""CLI: `genoscreen explain affinity` — why the affinity model predicts what it does (integrated gradients)."""

from __future__ import annotations

import argparse

from genoscreen.cli.argtypes import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("explain", help="explain predictions: attributions onto atoms and residues",
                            description="Integrated gradients of predictions onto their inputs.")
    explain_sub = parser.add_subparsers(dest="explain_command", metavar="WHAT", required=True)
    p = explain_sub.add_parser(
        "affinity", help="attributions of each pair's predicted affinity onto the drug's atoms and the residues",
        description="For each pair of --pairs: integrated gradients of the prediction from the all-zero encoding "
                    "baseline, per SMILES character (summed per atom of the standardised SMILES) and per residue; "
                    "they sum to prediction - baseline (pairs.tsv gives the completeness error). Writes OUT/pairs.tsv, "
                    "OUT/atoms.tsv, OUT/residues.tsv and one PNG per pair (atoms coloured, residue track).",
        epilog="example: genoscreen explain affinity --model dta-davis --drugs lib.smi --targets kinases.fasta "
               "--pairs pairs.tsv --out explained/")
    p.add_argument("--model", required=True, metavar="MODEL_DIR", help="affinity model folder or shipped name")
    p.add_argument("--drugs", required=True, metavar="LIB", help="compound file (any format `screen` reads)")
    p.add_argument("--targets", required=True, metavar="FASTA", help="protein FASTA")
    p.add_argument("--pairs", required=True, metavar="TSV", help="drug_id, target_id pairs to explain")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (replaced when complete)")
    p.add_argument("--steps", type=positive_int, default=128, metavar="N", help="integration steps (default 128)")
    p.set_defaults(func=_explain_affinity)


def _explain_affinity(args: argparse.Namespace) -> int:
    from genoscreen.affinity.explain import explain_affinity

    explain_affinity(args.model, args.drugs, args.targets, args.pairs, args.out, steps=args.steps)
    return 0

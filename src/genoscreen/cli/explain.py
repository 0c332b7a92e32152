"""CLI: `genoscreen explain affinity|call` — why a prediction or a call (integrated gradients)."""

from __future__ import annotations

import argparse

from genoscreen.cli.argtypes import positive_int
from genoscreen.cli.screen import add_column_args, columns_of


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("explain", help="explain predictions: attributions onto atoms and residues",
                            description="Integrated gradients of predictions onto their inputs.")
    explain_sub = parser.add_subparsers(dest="explain_command", metavar="WHAT", required=True)
    p = explain_sub.add_parser(
        "affinity", help="attributions of each pair's predicted affinity onto the drug's atoms and the residues",
        description="For each pair of --pairs: integrated gradients of the prediction from the all-zero encoding "
                    "baseline, per SMILES character (summed per atom of the standardised SMILES) and per residue; "
                    "they sum to prediction - baseline (pairs.tsv gives the completeness error). Writes OUT/pairs.tsv, "
                    "OUT/atoms.tsv, OUT/residues.tsv and one PNG per pair (atoms coloured, residue track).")
    p.add_argument("--model", required=True, metavar="MODEL_DIR", help="affinity model folder or shipped name")
    p.add_argument("--drugs", required=True, metavar="LIB", help="compound file (any format `screen` reads)")
    add_column_args(p)
    p.add_argument("--targets", required=True, metavar="FASTA", nargs="+", action="extend",
                   help="protein FASTA(s) holding the pairs' targets (e.g. wild types and mutants)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--pairs", metavar="TSV", help="drug_id, target_id pairs to explain")
    which.add_argument("--hits-table", metavar="TSV", help="a hits table of `genoscreen screen` (compound_id, target_id, "
                       "rank): explain its --top best compounds of each target")
    p.add_argument("--top", type=positive_int, default=3, metavar="N",
                   help="with --hits-table: the N best-ranked compounds of each target (default 3)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (replaced when complete)")
    p.add_argument("--steps", type=positive_int, default=128, metavar="N", help="integration steps (default 128)")
    p.set_defaults(func=_explain_affinity)

    p = explain_sub.add_parser(
        "call", help="attributions of a called genotype onto its pileup (per read row and per channel)",
        description="Remakes the pileup of the variant at --site of --vcf (a VCF genoscreen wrote) from --bam and "
                    "explains the network's probability of the called genotype by integrated gradients from the "
                    "featureless pileup (each channel at its mean): OUT/summary.tsv, OUT/rows.tsv (per read row; rows 0-3 are the reference), "
                    "OUT/channels.tsv (base, quality, mapping quality, strand, supports-allele ...) and "
                    "OUT/pileup.png (the pileup beside its attribution map).")
    p.add_argument("--bam", required=True, help="the reads the VCF was called from (indexed)")
    p.add_argument("--ref", required=True, help="the reference (indexed FASTA)")
    p.add_argument("--vcf", required=True, metavar="VCF", help="calls of genoscreen call")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--site", metavar="CONTIG:POS", help="the variant to explain (1-based position)")
    which.add_argument("--regions", metavar="REGIONS",
                       help="explain every call of --vcf carrying an alt allele in these regions (CONTIG:START-END, "
                            "comma-separated): OUT/summary.tsv (one row per call, its folder) and a folder per call")
    p.add_argument("--model", metavar="MODEL_DIR", help="caller model (default: the shipped one)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (replaced when complete)")
    p.add_argument("--steps", type=positive_int, default=128, metavar="N", help="integration steps (default 128)")
    p.set_defaults(func=_explain_call)


def _explain_affinity(args: argparse.Namespace) -> int:
    from genoscreen.affinity.explain import explain_affinity

    explain_affinity(args.model, args.drugs, args.targets, args.pairs, args.out, steps=args.steps, hits=args.hits_table,
                     top=args.top, columns=columns_of(args))
    return 0


def _explain_call(args: argparse.Namespace) -> int:
    from genoscreen.caller.explain import explain_call

    explain_call(args.bam, args.ref, args.vcf, args.site, args.out, model_dir=args.model, steps=args.steps,
                 regions=args.regions)
    return 0

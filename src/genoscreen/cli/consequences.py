"""CLI: `genoscreen consequences` — a thin wrapper over genoscreen.consequences."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "consequences",
        help="protein consequences of called variants: HGVS p. per transcript and the mutant proteins",
        description="For each PASS variant of --vcf that changes a protein of --annotation (GFF3 or GTF: missense, "
                    "in-frame insertion/deletion, stop gain or loss, frameshift, start loss), its transcript, HGVS "
                    "p. and the mutant protein. Alleles phased on one haplotype (0|1 with a PS) are applied "
                    "together; unphased ones each on their own. Writes --out (TSV), OUT.skipped.tsv (alleles not "
                    "translated, with the reason) and, with --fasta, the canonical transcripts' mutant proteins "
                    "named GENE:p.Change (targets for `genoscreen screen`).",
    )
    p.add_argument("--vcf", required=True, metavar="VCF", help="variants (genoscreen call's VCF)")
    p.add_argument("--ref", required=True, help="the reference the VCF was called on (indexed FASTA)")
    p.add_argument("--annotation", required=True, metavar="GFF",
                   help="gene annotation: GFF3, or GTF when the name ends in .gtf (optionally gzipped)")
    p.add_argument("--out", required=True, metavar="TSV", help="consequences table to write")
    p.add_argument("--fasta", metavar="FASTA", help="also write the mutant proteins (canonical transcripts)")
    p.add_argument("--sample", help="the VCF sample (default: its first)")
    p.set_defaults(func=_consequences)


def _consequences(args: argparse.Namespace) -> int:
    from genoscreen.consequences.proteins import consequences

    consequences(args.vcf, args.ref, args.annotation, args.out, fasta_out=args.fasta, sample=args.sample)
    return 0

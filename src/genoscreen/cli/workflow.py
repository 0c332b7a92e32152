"""CLI: the demo data set, the HTML report, and the workflow's gather steps (used by the Snakemake rules)."""

from __future__ import annotations

import argparse
import sys

from genoscreen.cli.screen import add_column_args, columns_of


def _key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=PATH")
    key, value = text.split("=", 1)
    return key, value


def register(sub: argparse._SubParsersAction) -> None:
    """Add `demo-data`, `report`, `concat-vcfs`, `split-compounds` and `merge-hits`."""
    p = sub.add_parser(
        "demo-data",
        help="write the self-contained demo data set (genome, BAMs with known variants, truth, compounds)",
        description=(
            "Generate the demo the default workflow runs on: a seeded random genome, two samples with known SNPs and "
            "indels (het and hom), 2x150 reads simulated with a position-dependent error model, aligned with mappy "
            "into sorted indexed BAMs, truth VCFs, confident BEDs, and a few approved kinase inhibitors (.smi). "
            "Deterministic: the same seed gives the same files."
        ),
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the demo's fixed seed)")
    p.set_defaults(func=_demo_data)

    p = sub.add_parser(
        "report",
        help="write the workflow's HTML report (variant metrics, call counts, affinity distribution, top hits)",
        description="Collect the workflow's outputs into one self-contained HTML file with matplotlib plots.",
    )
    p.add_argument("--vcf", type=_key_value, action="append", default=[], metavar="SAMPLE=VCF", help="a sample's calls (repeat)")
    p.add_argument("--evaluation", type=_key_value, action="append", default=[], metavar="SAMPLE=JSON",
                   help="`genoscreen evaluate` JSON of a sample against its truth (repeat)")
    p.add_argument("--hits", type=_key_value, action="append", default=[], metavar="NAME=TSV", help="a screening hits table (repeat)")
    p.add_argument("--top-hits", type=int, default=10, help="hits listed per target (default 10)")
    p.add_argument("--targets-shown", type=int, default=12, help="targets with a top-hits table (default 12)")
    p.add_argument("--title", default="genoscreen report", help="page title")
    p.add_argument("--about", type=_key_value, action="append", default=[], metavar="SETTING=VALUE",
                   help="what the run used (reference, panel, shards...), listed at the top (repeat)")
    p.add_argument("--used-model", type=_key_value, action="append", default=[], metavar="NAME=MODEL_DIR",
                   help="a model the run used, listed with the digest of its weights (repeat)")
    p.add_argument("--library", type=_key_value, action="append", default=[], metavar="NAME=LIB",
                   help="the compound library of hits table NAME, to report how many compounds were screened (repeat)")
    p.add_argument("--compound-errors", type=_key_value, action="append", default=[], metavar="NAME=TSV",
                   help="the invalid compounds of hits table NAME (merge-hits --errors), subtracted (repeat)")
    p.add_argument("--proteins", type=_key_value, action="append", default=[], metavar="SAMPLE=TSV",
                   help="`genoscreen consequences` table of a sample (repeat)")
    p.add_argument("--shifts", type=_key_value, action="append", default=[], metavar="SAMPLE=TSV",
                   help="`screen --mutants` shift table of a sample (repeat, also for several libraries)")
    p.add_argument("--explained", action="append", default=[], metavar="DIR",
                   help="a folder of `genoscreen explain affinity` or `explain call --regions`, drawn in the report "
                        "(repeat)")
    p.add_argument("--command", dest="made_by", metavar="TEXT",
                   help="the command that made the results, shown with the version and date (default: this one)")
    p.add_argument("--out", required=True, metavar="HTML", help="output HTML file")
    p.set_defaults(func=_report)

    p = sub.add_parser(
        "concat-vcfs",
        help="gather shard VCFs of one sample into one sorted, bgzipped, tabix-indexed VCF",
        description="Concatenate per-shard VCFs (pysam only; no bcftools needed), sort, drop duplicates at shard edges, index.",
    )
    p.add_argument("inputs", nargs="+", metavar="VCF", help="shard VCFs of one sample")
    p.add_argument("--out", required=True, metavar="VCF", help="output .vcf.gz (a .tbi index is written beside it)")
    p.set_defaults(func=_concat_vcfs)

    p = sub.add_parser(
        "split-compounds",
        help="split a compound library into chunks for parallel screening (format kept)",
        description="Split a compound library (any file `screen` reads: .smi/.smiles/.ism, .tsv, .csv, .sdf/.sd/.mol, "
                    "optionally gzipped) into contiguous chunks of near-equal size, in its format.",
    )
    p.add_argument("library", metavar="LIB", help="compound file")
    p.add_argument("--out", nargs="+", required=True, metavar="CHUNK",
                   help="chunk files to write (their number sets the chunk count)")
    p.add_argument("--index", help="JSON file recording each chunk's first record and size")
    add_column_args(p)
    p.set_defaults(func=_split_compounds)

    p = sub.add_parser(
        "merge-hits",
        help="merge per-chunk screening hits: re-rank per target, keep the top K",
        description="Merge `genoscreen screen` outputs of chunks of one library into one table sorted by target then rank.",
    )
    p.add_argument("inputs", nargs="+", metavar="HITS", help="per-chunk hits tables (TSV)")
    p.add_argument("--out", required=True, metavar="HITS", help="merged hits TSV")
    p.add_argument("--top-k", type=int, default=None, help="keep the K best compounds per target (default: all)")
    p.add_argument("--errors", help="also merge the chunks' <hits>.errors.tsv into this file")
    p.add_argument("--index", help="the chunk index of `split-compounds --index`: the errors' rows become rows of "
                                   "the library (inputs in chunk order)")
    p.add_argument("--truncated", metavar="TSV",
                   help="also merge the chunks' <hits>.truncated.tsv (inputs cut to the model's length) into this file")
    p.set_defaults(func=_merge_hits)


def _demo_data(args: argparse.Namespace) -> int:
    import json

    from genoscreen.common.io import check_outputs
    from genoscreen.demo import DemoSpec, generate

    check_outputs({"--out": args.out})
    spec = DemoSpec() if args.seed is None else DemoSpec(seed=args.seed)
    summary = generate(args.out, spec)
    json.dump(summary, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _report(args: argparse.Namespace) -> int:
    from genoscreen.common.io import check_outputs, command_line
    from genoscreen.report import build_report

    check_outputs({"--out": args.out}, {flag: [path for _, path in pairs] for flag, pairs in
                                        (("--vcf", args.vcf), ("--evaluation", args.evaluation), ("--hits", args.hits),
                                         ("--library", args.library), ("--compound-errors", args.compound_errors),
                                         ("--proteins", args.proteins), ("--shifts", args.shifts),
                                         ("--explained", [(None, path) for path in args.explained]))})
    build_report(
        args.out,
        vcfs=dict(args.vcf),
        evaluations=dict(args.evaluation),
        hits=dict(args.hits),
        top_hits=args.top_hits,
        targets_shown=args.targets_shown,
        title=args.title,
        about=dict(args.about),
        models=dict(args.used_model),
        libraries=dict(args.library),
        compound_errors=dict(args.compound_errors),
        proteins=dict(args.proteins),
        shifts=list(args.shifts),
        explained=list(args.explained),
        command=args.made_by or command_line(getattr(args, "argv", ["report"])),
    )
    return 0


def _concat_vcfs(args: argparse.Namespace) -> int:
    from genoscreen.common.io import check_outputs
    from genoscreen.workflow.gather import concat_vcfs

    from genoscreen.caller import vcf

    check_outputs(vcf.outputs_to_check({"--out": args.out}), {"inputs": args.inputs})
    concat_vcfs(args.inputs, args.out)
    return 0


def _split_compounds(args: argparse.Namespace) -> int:
    from genoscreen.common.io import check_outputs
    from genoscreen.workflow.chunks import split_library

    check_outputs({"--out": args.out, "--index": args.index}, {"library": args.library})
    split_library(args.library, args.out, args.index, columns_of(args))
    return 0


def _merge_hits(args: argparse.Namespace) -> int:
    from genoscreen.common.io import check_outputs
    from genoscreen.workflow.gather import merge_hits

    check_outputs({"--out": args.out, "--errors": args.errors, "--truncated": args.truncated},
                  {"inputs": args.inputs, "--index": args.index})
    merge_hits(args.inputs, args.out, args.top_k, args.errors, args.index, args.truncated)
    return 0

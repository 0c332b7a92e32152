"""CLI: variant-calling stage 1 (`make-examples`), the evaluator (`evaluate`) and `simulate-reads`."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from genoscreen.cli.argtypes import non_negative_int, positive_float, positive_int, unit_fraction

log = logging.getLogger(__name__)


def _add_region_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--regions", help="comma-separated regions CONTIG[:START-END] (1-based, inclusive), e.g. "
                                     "chr20:10000001-10045000; default: every contig with reads")
    p.add_argument("--bed", help="BED file of regions to work on (intersected with --regions when both are given)")
    p.add_argument("--contig-map", help="rename contigs onto the reference's names when the BAM/VCF/BED use "
                                        "another naming: 20=chr20,21=chr21 or a two-column file")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the parser."""
    me = sub.add_parser(
        "make-examples",
        help="aligned reads -> candidate variants -> pileup tensors (labelled with --truth)",
        description="Find candidate variants in a BAM/CRAM and write one pileup tensor per candidate alt allele "
                    "(and per pair of alts at multi-allelic sites) into an examples folder: pileup_config.json, "
                    "examples-NNNNN.npz shards and summary.json.",
    )
    me.add_argument("--bam", required=True, help="coordinate-sorted BAM or CRAM (indexed, or indexed on the fly)")
    me.add_argument("--ref", required=True, help="reference FASTA (plain or bgzipped, with .fai/.gzi)")
    _add_region_args(me)
    me.add_argument("--out", required=True, metavar="DIR", help="output examples folder (replaced atomically)")
    me.add_argument("--truth", help="truth VCF: label each example 0/1/2 copies of its alt(s)")
    me.add_argument("--sample", help="with a multi-sample BAM: use only this sample's read groups (SM); required "
                                     "when the read groups name several samples")
    me.add_argument("--confident-bed", help="with --truth: keep only candidates inside these confident regions")
    me.add_argument("--threads", type=positive_int, default=1,
                    help="worker processes, one region shard each (default 1)")
    me.add_argument("--shard-size", type=positive_int, default=100_000, help="bp per region shard (default 100000)")
    shape = me.add_mutually_exclusive_group()
    shape.add_argument("--model", metavar="MODEL_DIR",
                       help="make the pileups this caller model was trained on (its pileup_config.json); default: "
                            "those of the shipped model, so `make-examples | call-variants` agree without options")
    shape.add_argument("--preset", help="a named pileup preset instead (to train a new model): "
                                        "default (64x33, 10 channels) or test (20x15)")
    me.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="with --preset: change one field of the pileup config (repeatable; keys: height, width, "
                         "ref_rows, channels as a comma-separated list), e.g. --set width=65")
    me.add_argument("--min-mapq", type=non_negative_int, default=5,
                    help="skip reads with mapping quality below (default 5)")
    me.add_argument("--min-base-quality", type=non_negative_int, default=10,
                    help="skip bases with quality below (default 10)")
    me.add_argument("--keep-duplicates", action="store_true", help="count reads flagged duplicate")
    me.add_argument("--keep-secondary", action="store_true", help="count secondary alignments")
    me.add_argument("--keep-supplementary", action="store_true", help="count supplementary alignments")
    me.add_argument("--keep-qcfail", action="store_true", help="count reads flagged QC-fail")
    me.add_argument("--min-alt-count", type=positive_int, default=2, help="reads needed for an alt allele (default 2)")
    me.add_argument("--min-snv-fraction", type=unit_fraction, default=0.12, help="SNV allele fraction (default 0.12)")
    me.add_argument("--min-indel-fraction", type=unit_fraction, default=0.06, help="indel allele fraction (default 0.06)")
    me.add_argument("--no-realign", action="store_true",
                    help="count indels from the BAM's CIGARs only; by default reads in windows with soft clips or "
                         "scattered indels are realigned against read-backed haplotypes first (recovers insertions "
                         "that bwa soft-clips or writes in several ways in repeats)")
    me.set_defaults(func=_make_examples)

    ev = sub.add_parser(
        "evaluate",
        help="compare a call VCF with a truth VCF (hap.py-style SNP/INDEL precision, recall, F1)",
        description="Normalise both VCFs (split multi-allelics, left-align, split MNPs), match allele and genotype "
                    "inside --bed/--regions; a genotype mismatch counts as one FP and one FN. Prints a table; "
                    "--json writes the figures as JSON.",
    )
    ev.add_argument("--truth", required=True, help="truth VCF (bgzipped+indexed or plain)")
    ev.add_argument("--calls", required=True, help="call VCF to evaluate (non-PASS records are ignored)")
    ev.add_argument("--ref", required=True, help="reference FASTA the VCFs are on")
    ev.add_argument("--bed", help="confident regions: only variants inside count")
    ev.add_argument("--regions", help="restrict to these regions (CONTIG[:START-END], comma-separated)")
    ev.add_argument("--contig-map", help="rename VCF/BED contigs onto the reference's names, e.g. 20=chr20")
    ev.add_argument("--json", dest="json_out", help="also write the figures to this JSON file ('-' for stdout)")
    ev.set_defaults(func=_evaluate)

    sr = sub.add_parser(
        "simulate-reads",
        help="simulate an aligned BAM of a genome carrying a truth VCF's variants (ART + bwa mem)",
        description="Put the truth VCF's variants on two haplotypes of each region (unphased hets on a seeded random "
                    "haplotype), simulate 2xL Illumina reads with ART (error profile learned from --profile-bam), "
                    "align with bwa mem to the reference, sort and index. Writes OUT.bam, OUT.bam.bai, "
                    "OUT.bam.confident.bed (regions minus their edges, intersected with --benchmark-bed) and "
                    "OUT.bam.json.",
    )
    sr.add_argument("--ref", required=True, help="reference FASTA (plain or bgzipped, indexed)")
    sr.add_argument("--truth", required=True, help="VCF of the genome's variants (e.g. a GIAB truth set)")
    sr.add_argument("--regions", required=True, help="regions to simulate, CONTIG:START-END (1-based), comma-separated")
    sr.add_argument("--out", required=True, metavar="OUT", help="output BAM path")
    sr.add_argument("--coverage", type=positive_float, default=30.0,
                    help="mean read depth over both haplotypes (default 30)")
    sr.add_argument("--profile-bam", help="real paired-end BAM to learn the ART quality/error profile from "
                                          "(default: ART's built-in HiSeq 2500 profile)")
    sr.add_argument("--art-system", metavar="NAME",
                    help="ART built-in profile instead of a learned one: HS20 (HiSeq 2000, <=100 bp), HS25 (HiSeq 2500, "
                         "<=150), HSXn/HSXt (HiSeq X PCR-free/TruSeq, <=150), MSv3 (MiSeq, <=250), NS50 (NextSeq, <=75)")
    sr.add_argument("--quality-binning", choices=["none", "novaseq"], default="none",
                    help="bin base qualities after simulation: novaseq = RTA3's 4 levels 2/12/23/37 (default none)")
    sr.add_argument("--duplicate-fraction", type=float, default=0.0,
                    help="share of read pairs copied as unmarked PCR duplicates (counted in --coverage; default 0)")
    sr.add_argument("--read-length", type=positive_int, help="read length (default 150, or the profile's if shorter)")
    sr.add_argument("--fragment-mean", type=positive_int, default=400, help="mean fragment length (default 400)")
    sr.add_argument("--fragment-sd", type=non_negative_int, default=50, help="fragment length s.d. (default 50)")
    sr.add_argument("--benchmark-bed", help="truth's confident regions, intersected into OUT.bam.confident.bed")
    sr.add_argument("--edge", type=non_negative_int, default=600,
                    help="bp dropped at each region end in the confident BED (coverage falls there; default 600)")
    sr.add_argument("--seed", type=int, default=0, help="seed for haplotype assignment and ART (default 0)")
    sr.add_argument("--threads", type=positive_int, default=1, help="threads for bwa/samtools (default 1)")
    sr.add_argument("--workdir", help="scratch folder, reused for the bwa index and ART profile "
                                      "(default OUT.work next to OUT)")
    sr.add_argument("--contig-map", help="rename VCF contigs onto the reference's names, e.g. 20=chr20")
    sr.add_argument("--sample", default="SIM", help="read-group sample name (default SIM)")
    sr.add_argument("--artifact-fraction", type=float, default=0.0,
                    help="share of the coverage drawn from an artifact haplotype (reference plus random non-truth "
                         "substitutions/indels): low-fraction sites that label as 0, the negatives that clean "
                         "simulation lacks (default 0; 0.05-0.2 for training sets)")
    sr.set_defaults(func=_simulate_reads)

    ds = sub.add_parser(
        "downsample",
        help="downsample a BAM to a target depth or fraction (samtools view -s, pairs kept together)",
        description="Keep a random, seeded share of the read pairs of a BAM with `samtools view -s`, either a "
                    "--fraction or as many as bring the mean depth over --regions (measured with samtools coverage) "
                    "to --depth. Writes OUT and OUT.bai. Used for coverage-robust training data and titration "
                    "benchmarks. Example: genoscreen downsample --bam in.bam --regions chr20:1-500000 --depth 10 "
                    "--out in.10x.bam",
    )
    ds.add_argument("--bam", required=True, help="coordinate-sorted, indexed BAM")
    ds.add_argument("--out", required=True, metavar="OUT", help="output BAM (indexed)")
    what = ds.add_mutually_exclusive_group(required=True)
    what.add_argument("--depth", type=float, help="target mean depth over --regions")
    what.add_argument("--fraction", type=float, help="share of read pairs to keep, in (0, 1]")
    ds.add_argument("--regions", help="regions to measure the depth over, CONTIG:START-END (1-based), comma-separated")
    ds.add_argument("--seed", type=int, default=0, help="seed of the pair selection (default 0)")
    ds.add_argument("--threads", type=positive_int, default=1, help="samtools threads (default 1)")
    ds.set_defaults(func=_downsample)


def _make_examples(args: argparse.Namespace) -> int:
    from genoscreen.variants.candidates import CandidateThresholds, ReadFilters
    from genoscreen.variants.make_examples import make_examples
    from genoscreen.variants.pileup_config import PRESETS
    from genoscreen.variants.realign import RealignOptions

    from genoscreen.common.config import override, preset
    from genoscreen.common.errors import InputError
    from genoscreen.common.io import check_outputs
    from genoscreen.variants.pileup import check_channels

    check_outputs({"--out": args.out}, {"--bam": args.bam, "--ref": args.ref, "--bed": args.bed, "--truth": args.truth,
                                        "--confident-bed": args.confident_bed, "--contig-map": args.contig_map})
    if args.set and args.preset is None:
        raise InputError("--set changes a pileup preset (a new model's shape); give --preset default too (a "
                         "trained model's pileups are fixed by its pileup_config.json)")
    if args.preset is not None:
        config = override(preset(PRESETS, args.preset, "pileup"), args.set)
        try:
            check_channels(config)
        except ValueError as err:
            raise InputError(f"--set: {err}") from None
    else:
        from genoscreen.caller.model_dir import read_model_info
        from genoscreen.caller.pipeline import default_model_dir

        config = read_model_info(args.model or default_model_dir())[2]
    summary = make_examples(
        args.bam, args.ref, args.out, regions=args.regions, bed=args.bed, truth=args.truth,
        confident_bed=args.confident_bed, threads=args.threads, config=config,
        contig_map=args.contig_map, shard_size=args.shard_size,
        filters=ReadFilters(args.min_mapq, args.min_base_quality, args.keep_duplicates, args.keep_secondary,
                            args.keep_supplementary, args.keep_qcfail),
        thresholds=CandidateThresholds(args.min_alt_count, args.min_snv_fraction, args.min_indel_fraction),
        realign=RealignOptions(enabled=not args.no_realign), sample=args.sample,
    )
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from genoscreen.common.io import atomic_open, check_outputs
    from genoscreen.variants.evaluate import evaluate, format_table

    check_outputs({"--json": args.json_out}, {"--truth": args.truth, "--calls": args.calls, "--ref": args.ref,
                                              "--bed": args.bed, "--contig-map": args.contig_map})
    result = evaluate(args.truth, args.calls, args.ref, bed=args.bed, regions=args.regions,
                      contig_map=args.contig_map)
    if args.json_out == "-":
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(format_table(result))
    if args.json_out:
        with atomic_open(args.json_out) as handle:
            json.dump(result, handle, indent=2)
            handle.write("\n")
    return 0


def _simulate_reads(args: argparse.Namespace) -> int:
    from genoscreen.common.io import check_outputs
    from genoscreen.variants.regions import ContigMap
    from genoscreen.variants.simulate import simulate_reads

    check_outputs({"--out": args.out, "--out's index": f"{args.out}.bai",
                   "--out's confident BED": f"{args.out}.confident.bed", "--out's JSON": f"{args.out}.json"},
                  {"--ref": args.ref, "--truth": args.truth, "--profile-bam": args.profile_bam,
                   "--benchmark-bed": args.benchmark_bed, "--contig-map": args.contig_map})
    info = simulate_reads(
        args.ref, args.truth, args.regions, args.out, coverage=args.coverage, profile_bam=args.profile_bam,
        art_system=args.art_system, quality_binning=args.quality_binning, duplicate_fraction=args.duplicate_fraction,
        read_length=args.read_length, fragment_mean=args.fragment_mean, fragment_sd=args.fragment_sd,
        benchmark_bed=args.benchmark_bed, seed=args.seed, threads=args.threads, workdir=args.workdir,
        edge=args.edge, contig_map=ContigMap.parse(args.contig_map), sample_name=args.sample,
        artifact_fraction=args.artifact_fraction,
    )
    json.dump(info, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _downsample(args: argparse.Namespace) -> int:
    from genoscreen.variants.downsample import downsample
    from genoscreen.variants.reads import open_alignments
    from genoscreen.variants.regions import parse_regions

    with open_alignments(args.bam) as bam:
        lengths = dict(zip(bam.references, bam.lengths))
    regions = parse_regions(args.regions, lengths) if args.regions else []
    info = downsample(args.bam, args.out, fraction=args.fraction, depth=args.depth, regions=regions, seed=args.seed,
                      threads=args.threads)
    json.dump(info, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0

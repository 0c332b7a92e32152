"""CLI: the caller's stages 2-3 (`train-caller`, `call-variants`, `postprocess`), the one-shot `call`, and
`calibrate-caller`."""

from __future__ import annotations

import argparse
import logging

from genoscreen.caller.configs import PRESETS, CallerConfig
from genoscreen.cli.argtypes import non_negative_int, positive_float, positive_int, unit_fraction
from genoscreen.common.config import add_config_flags, config_from_args

log = logging.getLogger(__name__)

# train-caller's shorthand flags: each is `--set KEY=VALUE` for its key, checked by its argparse type
TRAIN_FLAGS = {
    "--epochs": ("train.epochs", positive_int),
    "--batch-size": ("train.batch_size", positive_int),
    "--learning-rate": ("train.learning_rate", positive_float),
    "--label-smoothing": ("train.label_smoothing", unit_fraction),
    "--max-examples-per-epoch": ("train.max_examples_per_epoch", non_negative_int),
    "--seed": ("train.seed", int),
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the parser."""
    p = sub.add_parser(
        "train-caller",
        help="train the genotype CNN on labelled examples",
        description="Train the pileup CNN on labelled examples folders (make-examples --truth). Validates every "
        "epoch on each --val-examples folder, keeps the best epoch by the F1 of --select-on in OUT, and writes a "
        "resumable checkpoint to --workdir; rerunning the same command resumes. Uses every local device (data "
        "parallel).",
    )
    p.add_argument("--examples", nargs="+", required=True, metavar="DIR", help="labelled examples folders to train on")
    p.add_argument("--val-examples", nargs="*", default=[], metavar="DIR",
                   help="labelled examples folders to validate on each epoch (put the real dev set last)")
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model directory to write (best epoch)")
    p.add_argument("--init", metavar="MODEL_DIR", help="start from this model's weights (fine-tuning)")
    p.add_argument("--preset", default="default", help="caller preset: default or test (CPU-sized, for tests)")
    add_config_flags(p, CallerConfig, TRAIN_FLAGS, PRESETS)
    p.add_argument("--select-on", metavar="NAME",
                   help="basename of the --val-examples folder whose F1 picks the best epoch, or 'mean' for the "
                        "mean F1 over all of them (default: the last folder)")
    p.add_argument("--workdir", metavar="DIR", help="checkpoint and history folder (default: MODEL_DIR.train)")
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint and start over")
    p.set_defaults(func=_train)

    p = sub.add_parser(
        "calibrate-caller",
        help="fit calibrated genotype qualities (GQ, QUAL) for a caller model",
        description="Fit a calibration of a caller model's genotype probabilities on labelled examples folders "
        "(make-examples --truth) so that GQ and QUAL are Phred-scaled empirical error rates, and store it in "
        "MODEL_DIR/model.json under \"calibration\" (weights untouched; every later call-variants/call applies "
        "it). Fits on the network's raw probabilities, replacing any earlier calibration. Use examples the model "
        "was not trained on, and check the result on other held-out folders with bench/calibration.py.\n\n"
        "Example: genoscreen calibrate-caller --model my_model --examples ex_val_w19 ex_dev",
    )
    p.add_argument("--model", required=True, metavar="MODEL_DIR",
                   help="caller model directory to calibrate (its model.json is rewritten)")
    p.add_argument("--examples", nargs="+", required=True, metavar="DIR",
                   help="labelled examples folders to fit on (held out from training)")
    p.add_argument("--method", default="temperature", choices=["temperature", "temperature+bias", "temperature+mix"],
                   help="temperature: softmax(log p / T), keeps every call; temperature+bias: also a per-class "
                   "bias (may change calls near a class boundary); temperature+mix: (1 - m) softmax(log p / T) + m/3, "
                   "an error floor m fitted too (caps GQ/QUAL near -10 log10(2m/3)), keeps every call. "
                   "Default: temperature")
    p.set_defaults(func=_calibrate)

    p = sub.add_parser(
        "caller-card",
        help="write a caller model's MODEL_CARD.md from the files of the run that made it",
        description="Generate the model card of a caller model from its training run: the training-data table and "
        "examples counts, the validation curve (train-caller's history.json), the calibration and its held-out "
        "reliability table (bench/calibration.py JSON), held-out evaluations (genoscreen evaluate --json), the "
        "titration on real reads (bench/titration.py JSON) and wall times (Snakemake benchmark files). `snakemake "
        "train_caller` runs it. Example: genoscreen caller-card --model results/training/caller/calibrated "
        "--training-data config/caller_training.tsv --history results/training/caller/checkpoints/history.json "
        "--out MODEL_CARD.md",
    )
    p.add_argument("--model", required=True, metavar="MODEL_DIR", help="the caller model directory")
    p.add_argument("--training-data", required=True, metavar="TSV", help="the training-data table of the run")
    p.add_argument("--history", required=True, nargs="+", metavar="JSON",
                   help="history.json in train-caller's --workdir, one per training stage in order")
    p.add_argument("--calibration", metavar="JSON", help="bench/calibration.py JSON on held-out examples")
    p.add_argument("--titration", metavar="JSON", help="bench/titration.py JSON")
    p.add_argument("--heldout", nargs="*", default=[], metavar="JSON",
                   help="genoscreen evaluate --json files of held-out BAMs (named ROW.DEPTH.eval.json)")
    p.add_argument("--benchmarks", metavar="DIR", help="Snakemake benchmarks folder (wall time per rule)")
    p.add_argument("--notes", metavar="MD", help="prose to append (never replaces a figure)")
    p.add_argument("--name", help="the model's name, the card's title (default: the --model folder's name)")
    p.add_argument("--out", required=True, metavar="MD", help="the card to write (MODEL_CARD.md)")
    p.set_defaults(func=_caller_card)

    p = sub.add_parser(
        "call-variants",
        help="genotype probabilities for every example (stage 2)",
        description="Run the caller model over an examples folder and write the probabilities (.npz) that "
        "`postprocess` turns into a VCF. The examples must have the model's pileup shape.",
    )
    p.add_argument("--examples", required=True, metavar="DIR", help="examples folder from make-examples")
    p.add_argument("--model", metavar="MODEL_DIR", help="caller model (default: the shipped caller-wgs-illumina)")
    p.add_argument("--out", required=True, metavar="PROBS", help="output probabilities file (.npz)")
    p.add_argument("--threads", type=positive_int, help="CPUs the inference may use (default: all it was given)")
    p.set_defaults(func=_call_variants)

    p = sub.add_parser(
        "postprocess",
        help="probabilities -> VCF (and gVCF) (stage 3)",
        description="Merge the per-allele probabilities of each site into one genotype and write a sorted, "
        "bgzipped, tabix-indexed VCF 4.2 (GT, GQ, PL, QUAL, DP, AD, VAF; FILTER PASS/RefCall/LowQual).",
    )
    p.add_argument("--probs", required=True, metavar="PROBS", help="probabilities file from call-variants")
    p.add_argument("--ref", required=True, metavar="FASTA", help="reference FASTA the examples were made with")
    p.add_argument("--out", required=True, metavar="VCF", help="output VCF: .vcf.gz (bgzipped, with a .tbi index), .vcf, .bcf (with a .csi index) or - for stdout")
    p.add_argument("--gvcf", metavar="GVCF", help="also write a gVCF (.g.vcf.gz) with reference blocks over the "
                   "regions make-examples called, from the reads it read (both recorded in PROBS)")
    p.add_argument("--bam", metavar="BAM", help="the reads, when not those recorded in PROBS (moved, or a probs "
                   "file from an older version): for gVCF reference blocks and the sample name (SM)")
    _add_region_args(p, "gVCF blocks cover these regions (those given to make-examples)")
    p.add_argument("--sample", help="sample name in the VCF (default: the BAM's read-group SM, else SAMPLE)")
    p.add_argument("--min-qual", type=float, default=1.0, help="variants with QUAL below this are LowQual")
    p.set_defaults(func=_postprocess)

    p = sub.add_parser(
        "call",
        help="call variants from a BAM in one command (all three stages)",
        description="make-examples, call-variants and postprocess in one process, with no intermediate files.",
    )
    p.add_argument("--bam", required=True, help="coordinate-sorted, indexed BAM/CRAM")
    p.add_argument("--ref", required=True, metavar="FASTA", help="reference FASTA (with .fai)")
    _add_region_args(p, "call only inside these regions (default: every contig with reads)")
    p.add_argument("--out", required=True, metavar="VCF", help="output VCF: .vcf.gz (bgzipped, with a .tbi index), .vcf, .bcf (with a .csi index) or - for stdout")
    p.add_argument("--model", metavar="MODEL_DIR", help="caller model (default: the shipped caller-wgs-illumina)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="make-examples worker processes, and the CPUs the whole command may use (default 1)")
    p.add_argument("--sample", help="sample name in the VCF (default: the BAM's read-group SM); with a BAM whose "
                   "read groups name several samples, only this sample's reads are used (required there)")
    p.add_argument("--gvcf", metavar="GVCF", help="also write a gVCF (.g.vcf.gz) with reference blocks")
    p.add_argument("--min-qual", type=float, default=1.0, help="variants with QUAL below this are LowQual")
    p.set_defaults(func=_call)


def _add_region_args(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--regions", metavar="SPEC", help=f"{what}: chr:start-end[,chr:start-end...] (1-based)")
    p.add_argument("--bed", metavar="BED", help=f"{what}: a BED file (intersected with --regions when both)")
    p.add_argument("--contig-map", metavar="MAP",
                   help="BAM/BED contig names -> reference names, e.g. '20=chr20' or a two-column file")


def _train(args) -> int:
    from genoscreen.caller.configs import get_config
    from genoscreen.caller.train import train_and_evaluate
    from genoscreen.common.io import check_outputs

    check_outputs({"--out": args.out}, {"--examples": args.examples, "--val-examples": args.val_examples,
                                        "--init": args.init})
    config = config_from_args(get_config(args.preset), args, TRAIN_FLAGS)
    train_and_evaluate(config, args.examples, args.out, args.val_examples, init=args.init,
                       select_on=args.select_on, workdir=args.workdir, resume=not args.restart)
    return 0


def _calibrate(args) -> int:
    from pathlib import Path

    from genoscreen.caller.calibrate import calibrate_model
    from genoscreen.caller.calibration import format_table
    from genoscreen.caller.model_dir import MODEL_JSON
    from genoscreen.common.io import check_outputs

    # model.json is rewritten in place by design: only its folder's writability is checked
    check_outputs({"--model": Path(args.model) / MODEL_JSON}, {"--examples": args.examples})
    result = calibrate_model(args.model, args.examples, args.method)
    entry = result["entry"]
    log.info("calibration (%s): temperature %.4g, bias %s; NLL %.4f -> %.4f on %d examples", entry["method"],
             entry["temperature"], entry["bias"], entry["nll_before"], entry["nll_after"], entry["n_examples"])
    for when in ("before", "after"):
        log.info("GQ reliability %s calibration (in-sample: the fitting examples):", when)
        for line in format_table(result[when]["GQ"], "GQ"):
            log.info("  %s", line)
    log.info("wrote the \"calibration\" entry of %s/model.json", args.model)
    return 0


def _caller_card(args) -> int:
    import json
    from pathlib import Path

    from genoscreen.caller.card import render_caller_card
    from genoscreen.caller.model_dir import model_files
    from genoscreen.common.errors import InputError
    from genoscreen.common.io import atomic_open, check_outputs

    check_outputs({"--out": args.out}, {  # the workflow writes the card into the model folder, beside its files
        "--model": model_files(args.model), "--training-data": args.training_data,
        "--history": args.history, "--calibration": args.calibration, "--titration": args.titration,
        "--heldout": args.heldout, "--benchmarks": args.benchmarks, "--notes": args.notes})

    def read(path):
        try:
            return json.loads(Path(path).read_text()) if path else None
        except (OSError, ValueError) as err:
            raise InputError(f"{path}: cannot read it as JSON ({err}); rerun the step that writes it") from None

    text = render_caller_card(args.model, training_data=args.training_data,
                              histories=[read(path) for path in args.history],
                              calibration=read(args.calibration), titration=read(args.titration),
                              heldout=args.heldout, benchmarks=args.benchmarks,
                              notes=Path(args.notes).read_text() if args.notes else None, name=args.name)
    with atomic_open(args.out) as handle:
        handle.write(text)
    log.info("wrote %s", args.out)
    return 0


def _call_variants(args) -> int:
    from pathlib import Path

    from genoscreen.caller.call_variants import call_variants
    from genoscreen.caller.model_dir import model_files
    from genoscreen.caller.pipeline import default_model_dir
    from genoscreen.common.io import check_outputs

    model = args.model or default_model_dir()
    check_outputs({"--out": args.out}, {"--examples": [args.examples, *Path(args.examples).glob("*")],
                                        "--model": model_files(model)})
    call_variants(args.examples, model, args.out)
    return 0


def _postprocess(args) -> int:
    from genoscreen.caller import vcf
    from genoscreen.caller.data import read_probs
    from genoscreen.caller.postprocess import postprocess
    from genoscreen.common.errors import InputError
    from genoscreen.common.io import check_outputs
    from genoscreen.variants.reads import read_group_sample

    check_outputs(_vcf_outputs(args), {"--probs": args.probs, "--ref": args.ref, "--bam": args.bam, "--bed": args.bed,
                                       "--contig-map": args.contig_map})
    sites, probs, meta = read_probs(args.probs)
    bam = args.bam or meta.get("bam")
    if args.gvcf and not bam:
        raise InputError(f"--gvcf: reference blocks need the reads and {args.probs} does not name them (written by "
                         "an older version); pass --bam (and the --regions/--bed given to make-examples)")
    sample = args.sample or (read_group_sample(args.bam, args.ref) if args.bam else None)
    regions = bam_names = None
    read_groups = tuple(meta.get("read_groups") or ())
    if args.gvcf:
        from genoscreen.variants.make_examples import plan
        from genoscreen.variants.regions import merge_regions, parse_regions, reference_lengths

        recorded = meta.get("regions") and meta.get("bam_names") is not None
        if recorded and not (args.bam or args.regions or args.bed or args.contig_map):
            regions = parse_regions(",".join(meta["regions"]), reference_lengths(args.ref))
            bam_names = meta["bam_names"]
        else:
            work = plan(bam, args.ref, args.regions or (",".join(meta["regions"]) if recorded else None), args.bed,
                        contig_map=args.contig_map, sample=args.sample or meta.get("sample"))
            regions, bam_names, read_groups = merge_regions(work.shards), work.bam_names, work.filters.read_groups
    meta = {**meta, "command": vcf.command_line(args.argv)}
    postprocess(sites, probs, args.ref, args.out, sample=sample, meta=meta, min_qual=args.min_qual,
                gvcf=args.gvcf, bam=bam, regions=regions, bam_names=bam_names, read_groups=read_groups,
                what=str(args.probs))
    return 0


def _vcf_outputs(args) -> dict:
    """--out and --gvcf with their indexes, for `check_outputs`."""
    from genoscreen.caller import vcf

    return vcf.outputs_to_check({"--out": args.out, "--gvcf": args.gvcf})


def _call(args) -> int:
    from genoscreen.caller import vcf
    from genoscreen.caller.model_dir import model_files
    from genoscreen.caller.pipeline import call, default_model_dir
    from genoscreen.common.io import check_outputs

    check_outputs(_vcf_outputs(args), {"--bam": args.bam, "--ref": args.ref, "--bed": args.bed,
                                       "--contig-map": args.contig_map,
                                       "--model": model_files(args.model or default_model_dir())})
    call(args.bam, args.ref, args.out, regions=args.regions, bed=args.bed, model_dir=args.model,
         threads=args.threads, sample=args.sample, gvcf=args.gvcf, contig_map=args.contig_map,
         min_qual=args.min_qual, command=vcf.command_line(args.argv))
    return 0

"""The help of every command, finished in one place once the modules have registered their sub-commands: defaults
shown, one metavar per kind of value, an example per command, user commands listed before workflow plumbing."""

from __future__ import annotations

import argparse
import re
import textwrap

from genoscreen.cli.argtypes import non_negative_int, positive_float, positive_int, unit_fraction

# `genoscreen --help` lists the commands in this order: what a user runs, then the caller's stages and training,
# then the steps the Snakemake workflow runs (a command missing here goes last).
USER_COMMANDS = ("call", "screen", "affinity", "evaluate", "consequences", "explain")
TRAINING_COMMANDS = ("simulate-reads", "downsample", "train-caller", "calibrate-caller", "caller-card")
PLUMBING_COMMANDS = ("make-examples", "call-variants", "postprocess", "demo-data", "report", "concat-vcfs",
                     "split-compounds", "merge-hits")

# One metavar per flag wherever it appears (a path by its format, a count N, a real number X); --out names what
# each command writes, so it is set where the command is defined.
METAVARS = {
    "--bam": "BAM", "--profile-bam": "BAM", "--ref": "FASTA", "--targets": "FASTA", "--truth": "VCF",
    "--calls": "VCF", "--gvcf": "GVCF", "--bed": "BED", "--confident-bed": "BED", "--benchmark-bed": "BED",
    "--regions": "REGIONS", "--contig-map": "MAP", "--sample": "NAME", "--name": "NAME", "--title": "TEXT",
    "--drugs": "LIB", "--compounds": "LIB", "--json": "JSON", "--index": "JSON", "--errors": "TSV",
    "--workdir": "DIR", "--preset": "NAME", "--top-k": "K", "--seed": "N", "--threads": "N", "--epochs": "N",
    "--patience": "N", "--batch-size": "N", "--max-examples-per-epoch": "N", "--shard-size": "BP",
    "--read-length": "BP", "--fragment-mean": "BP", "--fragment-sd": "BP", "--edge": "BP", "--depth": "X",
    "--coverage": "X", "--vcf": "VCF", "--annotation": "GFF",
}

EXAMPLES = {
    "affinity mutants": "genoscreen affinity mutants --targets davis/targets.fasta --out davis_mutants.fasta",
    "affinity merge": "genoscreen affinity merge --drugs bindingdb/drugs.tsv davis/drugs.tsv --targets "
                      "bindingdb/targets.fasta davis/targets.fasta --pairs bindingdb/pairs.tsv davis/pairs.tsv "
                      "--out merged",
    "explain": "genoscreen explain affinity --model dta-davis --drugs lib.smi --targets kinases.fasta "
               "--pairs pairs.tsv --out explained",
    "explain affinity": "genoscreen explain affinity --model dta-davis --drugs lib.smi --targets kinases.fasta "
                        "--pairs pairs.tsv --out explained",
    "explain call": "genoscreen explain call --bam NA12878.bam --ref hg38.fa --vcf NA12878.vcf.gz "
                    "--site chr20:10001234 --out why_chr20_10001234",
    "consequences": "genoscreen consequences --vcf NA12878.vcf.gz --ref hg38.fa --annotation genes.gff3 "
                    "--out NA12878.proteins.tsv --fasta NA12878.mutants.fasta",
    "call": "genoscreen call --bam NA12878.bam --ref hg38.fa --regions chr20 --out NA12878.vcf.gz --threads 8",
    "screen": "genoscreen screen --model dta-davis --panel davis --compounds library.smi "
              "--top-k 100 --out hits.tsv",
    "affinity": "genoscreen affinity predict --model resources/models/dta-davis --drugs lib.smi --targets "
                "kinases.fasta --pairs pairs.tsv --out preds.tsv",
    "affinity train": "genoscreen affinity train --drugs drugs.tsv --targets targets.fasta --pairs pairs.tsv "
                      "--preset davis --val-fold 4 --out models/dta-mine",
    "affinity cv": "genoscreen affinity cv --drugs drugs.tsv --targets targets.fasta --pairs pairs.tsv "
                   "--preset davis --out cv/davis",
    "affinity predict": "genoscreen affinity predict --model resources/models/dta-davis --drugs lib.smi "
                        "--targets kinases.fasta --pairs pairs.tsv --out preds.tsv",
    "affinity evaluate": "genoscreen affinity evaluate --predictions preds.tsv --labels pairs.tsv --out metrics.json",
    "affinity panels": "genoscreen affinity panels --model resources/models/dta-davis --add mine --targets mine.fasta",
    "evaluate": "genoscreen evaluate --truth giab.vcf.gz --calls NA12878.vcf.gz --ref hg38.fa --bed confident.bed "
                "--json eval.json",
    "simulate-reads": "genoscreen simulate-reads --ref grch38.fa --truth hg002.vcf.gz --regions chr20:1-2000000 "
                      "--coverage 30 --art-system HS25 --out sim/hg002",
    "downsample": "genoscreen downsample --bam full.bam --regions chr20:1-2000000 --depth 15 --out 15x.bam",
    "train-caller": "genoscreen train-caller --examples ex/train1 ex/train2 --val-examples ex/val --epochs 20 "
                    "--out models/caller",
    "calibrate-caller": "genoscreen calibrate-caller --model models/caller --examples ex/val",
    "caller-card": "genoscreen caller-card --model models/caller --training-data config/caller_training.tsv "
                   "--history checkpoints/history.json --out models/caller/MODEL_CARD.md",
    "make-examples": "genoscreen make-examples --bam NA12878.bam --ref hg38.fa --regions chr20:1-1000000 "
                     "--out ex/shard1",
    "call-variants": "genoscreen call-variants --examples ex/shard1 --out probs/shard1.npz",
    "postprocess": "genoscreen postprocess --probs probs/shard1.npz --ref hg38.fa --out calls/shard1.vcf.gz",
    "demo-data": "genoscreen demo-data --out demo_data",
    "report": "genoscreen report --vcf a=results/variants/a.vcf.gz --evaluation a=results/variants/a.eval.json "
              "--hits lib=results/screening/lib.hits.tsv --out report.html",
    "concat-vcfs": "genoscreen concat-vcfs calls/shard1.vcf.gz calls/shard2.vcf.gz --out sample.vcf.gz",
    "split-compounds": "genoscreen split-compounds library.smi --out chunk0.smi chunk1.smi --index chunks.json",
    "merge-hits": "genoscreen merge-hits chunk0.smi.hits.tsv chunk1.smi.hits.tsv --top-k 100 --index chunks.json "
                  "--errors lib.errors.tsv --out lib.hits.tsv",
}


def shows_default(text: str, default) -> bool:
    """Whether a help text already gives `default` ("default 30", "default: 30" for 30 or 30.0)."""
    values = {str(default)} | ({str(int(default))} if isinstance(default, float) and default.is_integer() else set())
    return any(re.search(rf"\bdefault:? {re.escape(v)}(?![\w.])", text) for v in values)


class HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default (unless None/False or its help already says it) and keeps example lines
    (indented by two spaces) as written, while prose paragraphs are wrapped as usual."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (not action.option_strings or default in (None, False, argparse.SUPPRESS) or default == []
                or "%(default)" in text or shows_default(text, default)):
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for block in text.split("\n\n"):
            if block.startswith("  "):
                paragraphs.append("\n".join(indent + line for line in block.splitlines()))
            else:  # as argparse wraps, but never inside a hyphenated word (command names)
                paragraphs.append(textwrap.fill(" ".join(block.split()), width, initial_indent=indent,
                                                subsequent_indent=indent, break_on_hyphens=False))
        return "\n\n".join(paragraphs)


def sub_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command path, parser) of every sub-command under `parser`, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from sub_parsers(sub, (*path, name))


def _order_commands(parser: argparse.ArgumentParser) -> None:
    order = {name: i for i, name in enumerate(USER_COMMANDS + TRAINING_COMMANDS + PLUMBING_COMMANDS)}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action._choices_actions.sort(key=lambda choice: order.get(choice.dest, len(order)))


def finish(parser: argparse.ArgumentParser) -> None:
    """Apply the formatter, metavars, examples and command order to `parser` and all its sub-commands."""
    _order_commands(parser)
    parser.formatter_class = HelpFormatter
    parser.epilog = (f"User commands: {', '.join(USER_COMMANDS)}. Building models: {', '.join(TRAINING_COMMANDS)}. "
                     f"Workflow steps (run by Snakemake): {', '.join(PLUMBING_COMMANDS)}. "
                     f"`genoscreen COMMAND --help` shows a command's options, defaults and an example.")
    for path, sub in sub_parsers(parser):
        sub.formatter_class = HelpFormatter
        example = EXAMPLES.get(" ".join(path))
        if example:
            sub.epilog = "example:\n\n  " + example
        for action in sub._actions:
            if action.nargs == 0 or not action.option_strings:
                continue
            metavar = METAVARS.get(action.option_strings[0])
            if metavar and not action.choices:
                action.metavar = metavar
            elif action.metavar is None and not action.choices:
                action.metavar = ("N" if action.type in (int, positive_int, non_negative_int)
                                  else "X" if action.type in (float, positive_float, unit_fraction) else "VALUE")

# Helpers shared by the rules. The config and the sample sheet are validated here, at parse time, by
# genoscreen.workflow.config.load: any mistake stops the run with one line before a job starts.

import shlex
import sys
from pathlib import Path

from genoscreen.common.errors import GenoscreenError
from genoscreen.workflow.chunks import library_format
from genoscreen.workflow.config import load

try:
    PLAN = load(config, Path(workflow.basedir) / "workflow" / "schemas")
except GenoscreenError as err:
    sys.exit(f"genoscreen workflow: {err}")

ENV = "../../envs/genoscreen.yaml"
TOOLS_ENV = "../../envs/tools.yaml"
REF = config["reference"]
RES = config["resources"]
SAMPLES = PLAN.samples
SHARDS = PLAN.shard_regions
LIBRARIES = PLAN.libraries
SCREEN = config["screening"]
REAL_SETS = {v["name"]: v for v in config["training"]["caller"]["real_sets"]}
CHUNKS = [f"{i:03d}" for i in range(SCREEN["chunks"])]


wildcard_constraints:
    sample="|".join(SAMPLES) or "NO_SAMPLES",
    shard=r"\d+",
    chunk=r"\d+",
    name=r"[A-Za-z0-9_.-]+",
    fmt=r"\.(smi|tsv|csv|sdf)",


def res(step, key):
    return RES[step][key]


def samples_with_truth():
    return [name for name, s in SAMPLES.items() if s.truth]


def final_outputs():
    """The default target's inputs: a VCF per sample, an evaluation per sample with truth, hits per library, the report."""
    outputs = expand("results/variants/{sample}.vcf.gz.tbi", sample=SAMPLES)
    outputs += expand("results/variants/{sample}.eval.json", sample=samples_with_truth())
    outputs += expand("results/screening/{name}.hits.tsv", name=LIBRARIES)
    outputs.append("results/report.html")
    return outputs


def print_accuracy():
    """After a successful run: the accuracy of each sample with truth (the demo's own accuracy)."""
    from genoscreen.report import accuracy_lines

    evaluations = {s: f"results/variants/{s}.eval.json" for s in samples_with_truth()}
    evaluations = {s: p for s, p in evaluations.items() if Path(p).exists()}
    if evaluations:
        print("genoscreen: accuracy against the truth (inside each confident BED):", file=sys.stderr)
        for line in accuracy_lines(evaluations):
            print(f"  {line}", file=sys.stderr)
    if Path("results/report.html").exists():
        print("genoscreen: report written to results/report.html", file=sys.stderr)


def library_fmt(name):
    """'.smi', '.tsv', '.csv' or '.sdf': chunks of a library keep its format."""
    return library_format(LIBRARIES[name])


def screen_targets_arg():
    if SCREEN["panel"]:
        return f"--panel {SCREEN['panel']}"
    return f"--targets {SCREEN['targets']}"


def report_args(wildcards, input):
    """--vcf / --evaluation / --hits NAME=PATH arguments of `genoscreen report`."""
    args = [f"--vcf {s}={p}" for s, p in zip(SAMPLES, input.vcfs)]
    args += [f"--evaluation {s}={p}" for s, p in zip(samples_with_truth(), input.evaluations)]
    args += [f"--hits {n}={p}" for n, p in zip(LIBRARIES, input.hits)]
    about = {"reference": REF}
    if SAMPLES:
        about["caller model"] = config["variants"]["model"]
        about["shards"] = f"{len(SHARDS)} (at most {config['variants']['shard_size']:,} bp each)"
    if LIBRARIES:
        about["affinity model"] = SCREEN["model"]
        about["targets"] = f"panel {SCREEN['panel']}" if SCREEN["panel"] else SCREEN["targets"]
    args += [shlex.quote(f"--about={k}={v}") for k, v in about.items()]
    return " ".join(args)


def caller_val_examples():
    """Validation examples of train-caller: the held-back simulated region(s), then the real sets (last = selection)."""
    caller = config["training"]["caller"]
    val = []
    if caller["val_regions"]:
        val += expand("results/training/caller/examples/val.cov{coverage}", coverage=caller["val_coverages"])
    val += expand("results/training/caller/examples/real.{name}", name=REAL_SETS)
    return val


def finetune_examples():
    """The real sets to fine-tune on, each repeated as configured (repeating a folder oversamples it)."""
    finetune = config["training"]["caller"]["finetune"] or {"examples": {}}
    unknown = set(finetune["examples"]) - set(REAL_SETS)
    if unknown:
        sys.exit(f"genoscreen workflow: config: training.caller.finetune.examples: {sorted(unknown)} not in real_sets")
    return [f"results/training/caller/examples/real.{name}" for name, n in finetune["examples"].items() for _ in range(n)]

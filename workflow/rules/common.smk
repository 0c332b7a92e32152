# Helpers shared by the rules. The config and the sample sheet are validated here, at parse time, by
# genoscreen.workflow.config.load: any mistake stops the run with one line before a job starts.

import dataclasses
import json
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
RESULTS = config["results_dir"]  # every output of the default target and of `cohort` (not the training targets')


wildcard_constraints:
    sample="|".join(SAMPLES) or "NO_SAMPLES",
    shard=r"\d+",
    chunk=r"\d+",
    name=r"[A-Za-z0-9_.-]+",
    fmt=r"\.(smi|tsv|csv|sdf)",
    dataset=r"[A-Za-z0-9_-]+",


def results(path):
    """`path` under the config's results_dir."""
    return f"{RESULTS}/{path}"


def res(step, key):
    return RES[step][key]


def samples_with_truth():
    return [name for name, s in SAMPLES.items() if s.truth]


def final_outputs():
    """The default target's inputs: a VCF per sample, an evaluation per sample with truth, hits per library, the report."""
    outputs = expand(results("variants/{sample}.vcf.gz.tbi"), sample=SAMPLES)
    if config["variants"]["gvcf"]:
        outputs += expand(results("variants/{sample}.g.vcf.gz.tbi"), sample=SAMPLES)
    outputs += expand(results("variants/{sample}.eval.json"), sample=samples_with_truth())
    outputs += expand(results("screening/{name}.hits.tsv"), name=LIBRARIES)
    outputs += variant_screen_outputs()["shifts"]
    outputs += [path for paths in explain_outputs().values() for path in paths]
    outputs.append(results("report.html"))
    return outputs


def variant_screen_outputs():
    """The variant-aware screen's tables ({"proteins": per sample, "shifts": per sample and library}), when the
    config's variant_screen.annotation turns it on."""
    if not config["variant_screen"]["annotation"] or not SAMPLES:
        return {"proteins": [], "shifts": []}
    return {"proteins": expand(results("variant_screen/{sample}.proteins.tsv"), sample=SAMPLES),
            "shifts": expand(results("variant_screen/{sample}.{name}.hits.tsv.shifts.tsv"), sample=SAMPLES,
                             name=LIBRARIES)}


def explain_targets():
    """The FASTA(s) holding the library hits' target sequences for `explain_hits`: screening.targets, else
    explain.targets (a panel keeps no sequences); [] when there are none."""
    return [path for path in (SCREEN["targets"], config["explain"]["targets"]) if path][:1]


def explain_outputs():
    """The explanation folders the config asks for: {"hits": per library, "variant_screen": per sample and library,
    "calls": per sample}."""
    explain = config["explain"]
    top = explain["top_hits"] > 0
    return {
        "hits": expand(results("explain/hits/{name}"), name=LIBRARIES) if top and explain_targets() else [],
        "variant_screen": [
            results(f"explain/variant_screen/{s}.{n}") for s, n in zip(*_sample_library_pairs())
        ] if top and variant_screen_outputs()["shifts"] else [],
        "calls": expand(results("explain/calls/{sample}"), sample=SAMPLES) if explain["regions"] else [],
    }


def _sample_library_pairs():
    pairs = [(s, n) for s in SAMPLES for n in LIBRARIES]
    return [s for s, _ in pairs], [n for _, n in pairs]


def print_accuracy():
    """After a successful run: the accuracy of each sample with truth (the demo's own accuracy)."""
    from genoscreen.report import accuracy_lines

    evaluations = {s: results(f"variants/{s}.eval.json") for s in samples_with_truth()}
    evaluations = {s: p for s, p in evaluations.items() if Path(p).exists()}
    if evaluations:
        print("genoscreen: accuracy against the truth (inside each confident BED):", file=sys.stderr)
        for line in accuracy_lines(evaluations):
            print(f"  {line}", file=sys.stderr)
    if Path(results("report.html")).exists():
        print(f"genoscreen: report written to {results('report.html')}", file=sys.stderr)


def library_fmt(name):
    """'.smi', '.tsv', '.csv' or '.sdf': chunks of a library keep its format."""
    return library_format(LIBRARIES[name])


def compound_column_args():
    """--id-column / --smiles-column of split-compounds and screen, from screening.id_column / smiles_column."""
    args = [f"--{flag}-column {shlex.quote(str(SCREEN[key]))}" for flag, key in (("id", "id_column"),
                                                                                 ("smiles", "smiles_column"))
            if SCREEN[key] is not None]
    return " ".join(args)


def screen_targets_arg():
    if SCREEN["panel"]:
        return f"--panel {SCREEN['panel']}"
    return f"--targets {SCREEN['targets']}"


def report_args(wildcards, input):
    """--vcf / --evaluation / --hits NAME=PATH arguments of `genoscreen report`."""
    args = [f"--vcf {s}={p}" for s, p in zip(SAMPLES, input.vcfs)]
    args += [f"--evaluation {s}={p}" for s, p in zip(samples_with_truth(), input.evaluations)]
    args += [f"--hits {n}={p}" for n, p in zip(LIBRARIES, input.hits)]
    args += [shlex.quote(f"--library={n}={p}") for n, p in LIBRARIES.items()]
    args += [f"--compound-errors {n}={p}" for n, p in zip(LIBRARIES, input.errors)]
    args += [f"--proteins {s}={p}" for s, p in zip(SAMPLES, input.proteins)]
    args += [f"--shifts {s}={p}" for s, p in zip([s for s in SAMPLES for _ in LIBRARIES], input.shifts)]
    args += [f"--explained {p}" for p in (*input.explained_hits, *input.explained_variants, *input.explained_calls)]
    about = {"results": RESULTS, "reference": REF}
    if SAMPLES:
        args.append(shlex.quote(f"--used-model=caller={config['variants']['model']}"))
        about["shards"] = f"{len(SHARDS)} (at most {config['variants']['shard_size']:,} bp each)"
    if LIBRARIES:
        args.append(shlex.quote(f"--used-model=affinity={SCREEN['model']}"))
        about["targets"] = f"panel {SCREEN['panel']}" if SCREEN["panel"] else SCREEN["targets"]
    args += [shlex.quote(f"--about={k}={v}") for k, v in about.items()]
    # the config that made the results (not the whole command line: a param that changed would rerun the report)
    settings = workflow.config_settings
    command = ["snakemake", "--configfile", *(str(f) for f in settings.configfiles or ["config/config.yaml"])]
    if settings.config_args:
        command += ["--config", *settings.config_args]
    args.append(shlex.quote(f"--command={shlex.join(command)}"))
    return " ".join(args)


def caller_training_data():
    """The rows of the caller's training-data table by name ({} when training.caller.data is not set)."""
    from genoscreen.workflow.config import read_training_data

    caller = config["training"]["caller"]
    if not caller["data"]:
        return {}
    try:
        rows = read_training_data(caller["data"], Path(workflow.basedir) / "workflow" / "schemas" / "caller_training.schema.yaml",
                                  REAL_SETS, caller["profile_bams"])
    except GenoscreenError as err:
        sys.exit(f"genoscreen workflow: {err}")
    for row in rows:  # a row's spec file changes (and reruns its jobs) only when the row does
        spec = Path(training_row_spec(row.name))
        text = json.dumps(dataclasses.asdict(row), indent=1, sort_keys=True) + "\n"
        if not spec.exists() or spec.read_text() != text:
            spec.parent.mkdir(parents=True, exist_ok=True)
            spec.write_text(text)
    return {row.name: row for row in rows}


def training_row_spec(name):
    return f"results/training/caller/rows/{name}.json"


def training_profile_bam(row):
    if row.profile and row.profile.startswith("learned:"):
        return config["training"]["caller"]["profile_bams"][row.profile.split(":", 1)[1]]
    return []


def simulate_args(row, profile_bam):
    """genoscreen simulate-reads arguments of a simulated row."""
    args = [f"--regions {row.regions}", f"--coverage {row.depth}", f"--read-length {row.read_length}",
            f"--fragment-mean {row.fragment_mean}", f"--fragment-sd {row.fragment_sd}",
            f"--quality-binning {row.quality_binning}", f"--duplicate-fraction {row.duplicates}",
            f"--artifact-fraction {row.artifacts}", f"--seed {row.seed}"]
    args.append(f"--profile-bam {profile_bam}" if profile_bam else f"--art-system {row.profile}")
    return " ".join(args)


def training_full_bam(row):
    if row.source == "sim":
        return f"results/training/caller/bams/{row.name}.full.bam"
    return REAL_SETS[row.source]["bam"]


def training_example_inputs(row, depth):
    """BAM, reference, truth (and confident BED) of one (row, depth) examples folder."""
    caller = config["training"]["caller"]
    bam = training_full_bam(row) if depth == "full" else f"results/training/caller/bams/{row.name}.{depth}.bam"
    if row.source == "sim":
        return {"bam": bam, "ref": caller["reference"], "truth": caller["truth"],
                "bed": f"results/training/caller/bams/{row.name}.full.bam.confident.bed"}
    real = REAL_SETS[row.source]
    inputs = {"bam": bam, "ref": real["reference"], "truth": real["truth"], "spec": training_row_spec(row.name)}
    # Scored rows (val, test) are labelled only where the truth is known to be complete: outside GIAB's confident
    # regions a real variant may be missing from the truth VCF, so "no truth variant" is no label. Train rows take
    # the truth over their whole regions (the dev half they come from has no confident BED).
    if real["confident_bed"] and row.split != "train":
        inputs["bed"] = real["confident_bed"]
    return inputs


def labelled_args(row, inputs):
    args = [f"--regions {row.regions}"]
    if "bed" in inputs.keys():
        args.append(f"--confident-bed {inputs.bed}")
    if row.source != "sim" and REAL_SETS[row.source]["contig_map"]:
        args.append(f"--contig-map {REAL_SETS[row.source]['contig_map']}")
    return " ".join(args)


def caller_examples(split, repeat=False, real_weight=None):
    """Examples folders of a split's rows at each of their depths (train rows repeated `weight` times, or real rows
    `real_weight` times when given: the fine-tuning mix)."""
    def times(row):
        if not repeat:
            return 1
        return real_weight if real_weight and row.source != "sim" else row.weight

    return [f"results/training/caller/examples/{folder}" for row in CALLER_DATA.values() if row.split == split
            for _ in range(times(row)) for folder in row.folders]


def caller_network():
    """The network that gets calibrated: the fine-tuned one when training.caller.finetune is set."""
    if config["training"]["caller"]["finetune"]:
        return "results/training/caller/finetuned"
    return "results/training/caller/network"


def caller_histories():
    """train-caller histories of the run, in order (the card shows each stage's validation curve)."""
    histories = "results/training/caller/checkpoints/history.json"
    if config["training"]["caller"]["finetune"]:
        histories += " results/training/caller/checkpoints-finetune/history.json"
    return histories


def caller_heldout_outputs():
    """Evaluation JSONs of `genoscreen call` on every simulated test row at each depth (held-out windows)."""
    return [f"results/training/caller/heldout/{folder}.eval.json" for row in CALLER_DATA.values()
            if row.split == "test" and row.source == "sim" for folder in row.folders]


MERGED = ("drugs", "targets", "pairs")  # a data set with `sources` trains on their merge (rule affinity_merge)


def affinity_setting(key):
    """A training.affinity data set's setting, as an input/params function of the {dataset} wildcard (its drugs,
    targets and pairs: the merged files when it lists `sources`)."""

    def setting(wildcards):
        dataset = config["training"]["affinity"][wildcards.dataset]
        if key in MERGED and dataset["sources"]:
            return f"results/training/affinity/{wildcards.dataset}/merged/{MERGED_FILES[key]}"
        return dataset[key]

    return setting


MERGED_FILES = {"drugs": "drugs.tsv", "targets": "targets.fasta", "pairs": "pairs.tsv"}


def affinity_sources(key):
    """The `sources` files of one kind (drugs, targets or pairs) of a merged data set, in order."""
    return lambda wildcards: [s[key] for s in config["training"]["affinity"][wildcards.dataset]["sources"]]


def affinity_targets(wildcards):
    """The data set's targets FASTA, or its copy with the mutants rebuilt (`mutant_targets: true`)."""
    if config["training"]["affinity"][wildcards.dataset]["mutant_targets"]:
        return f"results/training/affinity/{wildcards.dataset}/targets.fasta"
    return affinity_setting("targets")(wildcards)


def affinity_cv_input(wildcards):
    """The CV summary the model card cites: only where the data set names folds to hold out."""
    if config["training"]["affinity"][wildcards.dataset]["cv_folds"]:
        return [f"results/training/affinity/{wildcards.dataset}/cv"]
    return []

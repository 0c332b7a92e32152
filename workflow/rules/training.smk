# Training targets (not part of the default target): rebuild the shipped models from the workflow.
#   snakemake --cores 8 train_caller train_affinity --configfile config/config.yaml config/training.yaml
# Caller: simulate reads of the training regions at several coverages (ART + bwa, envs/tools.yaml), make labelled
# examples, train the CNN validated on a held-back simulated region and on real reads, then (when `finetune` is
# set) fine-tune it on oversampled real examples, as the shipped model was. Affinity: k-fold CV and a final model
# per data set (with its panel of targets).

TRAIN_CALLER = config["training"]["caller"]
TRAIN_AFFINITY = config["training"]["affinity"]

if TRAIN_CALLER["reference"]:

    rule simulate_reads:
        input:
            ref=TRAIN_CALLER["reference"],
            truth=TRAIN_CALLER["truth"],
            bed=TRAIN_CALLER["confident_bed"],
            profile=TRAIN_CALLER["profile_bam"] or [],
        output:
            bam="results/training/caller/sim/{split}.cov{coverage}.bam",
            bai="results/training/caller/sim/{split}.cov{coverage}.bam.bai",
            bed="results/training/caller/sim/{split}.cov{coverage}.bam.confident.bed",
        params:
            regions=lambda wildcards: ",".join(TRAIN_CALLER[f"{wildcards.split}_regions"]),
            profile=lambda wildcards, input: f"--profile-bam {input.profile}" if input.profile else "",
            workdir=lambda wildcards, output: f"{output.bam}.work",
            seed=lambda wildcards: int(float(wildcards.coverage)) + (0 if wildcards.split == "train" else 1000),
            extra=TRAIN_CALLER["simulate_args"],
        log:
            "logs/simulate_reads/{split}.cov{coverage}.log",
        benchmark:
            "benchmarks/simulate_reads/{split}.cov{coverage}.tsv"
        wildcard_constraints:
            split="train|val",
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            TOOLS_ENV
        shell:
            "genoscreen simulate-reads --ref {input.ref} --truth {input.truth} --regions {params.regions} "
            "--benchmark-bed {input.bed} --coverage {wildcards.coverage} {params.profile} --seed {params.seed} "
            "--threads {threads} --workdir {params.workdir} --sample SIM --out {output.bam} {params.extra} 2> {log}"

    rule labelled_examples:
        input:
            bam="results/training/caller/sim/{split}.cov{coverage}.bam",
            bed="results/training/caller/sim/{split}.cov{coverage}.bam.confident.bed",
            ref=TRAIN_CALLER["reference"],
            truth=TRAIN_CALLER["truth"],
        output:
            directory("results/training/caller/examples/{split}.cov{coverage}"),
        params:
            regions=lambda wildcards: ",".join(TRAIN_CALLER[f"{wildcards.split}_regions"]),
        log:
            "logs/labelled_examples/{split}.cov{coverage}.log",
        benchmark:
            "benchmarks/labelled_examples/{split}.cov{coverage}.tsv"
        wildcard_constraints:
            split="train|val",
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen make-examples --bam {input.bam} --ref {input.ref} --regions {params.regions} "
            "--truth {input.truth} --confident-bed {input.bed} --threads {threads} --out {output} 2> {log}"

    rule real_examples:
        input:
            bam=lambda wildcards: REAL_SETS[wildcards.name]["bam"],
            ref=lambda wildcards: REAL_SETS[wildcards.name]["reference"],
            truth=lambda wildcards: REAL_SETS[wildcards.name]["truth"],
            bed=lambda wildcards: REAL_SETS[wildcards.name]["confident_bed"],
        output:
            directory("results/training/caller/examples/real.{name}"),
        params:
            regions=lambda wildcards: REAL_SETS[wildcards.name]["regions"],
            contig_map=lambda wildcards: f"--contig-map {REAL_SETS[wildcards.name]['contig_map']}" if REAL_SETS[wildcards.name].get("contig_map") else "",
        log:
            "logs/real_examples/{name}.log",
        benchmark:
            "benchmarks/real_examples/{name}.tsv"
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen make-examples --bam {input.bam} --ref {input.ref} --regions {params.regions} "
            "--truth {input.truth} --confident-bed {input.bed} {params.contig_map} --threads {threads} --out {output} 2> {log}"

    rule train_caller_sim:
        input:
            train=expand("results/training/caller/examples/train.cov{coverage}", coverage=TRAIN_CALLER["coverages"]),
            val=caller_val_examples(),
        output:
            directory("results/models/caller-sim" if TRAIN_CALLER["finetune"] else "results/models/caller-wgs-illumina"),
        params:
            workdir="results/training/caller/checkpoints-sim",
            extra=TRAIN_CALLER["train_args"],
        log:
            "logs/train_caller_sim.log",
        benchmark:
            "benchmarks/train_caller_sim.tsv"
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen train-caller --examples {input.train} --val-examples {input.val} --out {output} "
            "--workdir {params.workdir} {params.extra} 2> {log}"


if TRAIN_CALLER["reference"] and TRAIN_CALLER["finetune"]:

    rule finetune_caller:
        input:
            init="results/models/caller-sim",
            examples=finetune_examples(),
            val=caller_val_examples(),
        output:
            directory("results/models/caller-wgs-illumina"),
        params:
            workdir="results/training/caller/checkpoints-finetune",
            extra=TRAIN_CALLER["finetune"]["args"],
        log:
            "logs/finetune_caller.log",
        benchmark:
            "benchmarks/finetune_caller.tsv"
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen train-caller --init {input.init} --examples {input.examples} --val-examples {input.val} "
            "--out {output} --workdir {params.workdir} {params.extra} 2> {log}"


if TRAIN_CALLER["reference"]:

    rule train_caller:
        input:
            "results/models/caller-wgs-illumina",


if TRAIN_AFFINITY:

    rule affinity_cv:
        input:
            drugs=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["drugs"],
            targets=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["targets"],
            pairs=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["pairs"],
        output:
            directory("results/training/affinity/{dataset}/cv"),
        params:
            preset=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["preset"],
            extra=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["cv_args"],
        log:
            "logs/affinity_cv/{dataset}.log",
        benchmark:
            "benchmarks/affinity_cv/{dataset}.tsv"
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen affinity cv --drugs {input.drugs} --targets {input.targets} --pairs {input.pairs} "
            "--preset {params.preset} --out {output} {params.extra} 2> {log}"

    rule affinity_train:
        input:
            drugs=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["drugs"],
            targets=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["targets"],
            pairs=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["pairs"],
            cv="results/training/affinity/{dataset}/cv",
        output:
            directory("results/models/dta-{dataset}"),
        params:
            preset=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["preset"],
            extra=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["train_args"],
        log:
            "logs/affinity_train/{dataset}.log",
        benchmark:
            "benchmarks/affinity_train/{dataset}.tsv"
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen affinity train --drugs {input.drugs} --targets {input.targets} --pairs {input.pairs} "
            "--preset {params.preset} --cv-summary {input.cv}/cv_summary.json --out {output} {params.extra} 2> {log} "
            "&& genoscreen affinity panels --model {output} --add {wildcards.dataset} --targets {input.targets} 2>> {log}"

    rule train_affinity:
        input:
            expand("results/models/dta-{dataset}", dataset=TRAIN_AFFINITY),

# Training targets (not part of the default target): rebuild the shipped models from the workflow.
#   snakemake --cores 8 train_caller train_affinity --configfile config/config.yaml config/training.yaml
# Caller: the training set is the table `training.caller.data` (config/caller_training.tsv): each row is a BAM,
# simulated from a real genome's truth (ART with a built-in or learned profile, bwa mem) or a real set's reads, and
# enters training at each of its depths (samtools view -s). Labelled examples of every (BAM, depth); the CNN is
# trained on the train rows, picks its epoch by the mean F1 of the val rows, and its GQs are calibrated on the val
# rows. Affinity: k-fold CV and a final model per data set (with its panel of targets).

TRAIN_CALLER = config["training"]["caller"]
TRAIN_AFFINITY = config["training"]["affinity"]
CALLER_DATA = caller_training_data()

if CALLER_DATA:

    rule training_bam_sim:
        input:
            ref=TRAIN_CALLER["reference"],
            truth=TRAIN_CALLER["truth"],
            bed=TRAIN_CALLER["confident_bed"],
            profile=lambda wildcards: training_profile_bam(CALLER_DATA[wildcards.name]),
            spec=training_row_spec("{name}"),
        output:
            bam="results/training/caller/bams/{name}.full.bam",
            bai="results/training/caller/bams/{name}.full.bam.bai",
            bed="results/training/caller/bams/{name}.full.bam.confident.bed",
        params:
            args=lambda wildcards, input: simulate_args(CALLER_DATA[wildcards.name], input.profile),
            workdir="results/training/caller/bams/work",
        log:
            "logs/training_bam_sim/{name}.log",
        benchmark:
            "benchmarks/training_bam_sim/{name}.tsv"
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            TOOLS_ENV
        shell:
            "genoscreen simulate-reads --ref {input.ref} --truth {input.truth} --benchmark-bed {input.bed} "
            "{params.args} --threads {threads} --workdir {params.workdir}/{wildcards.name} --sample SIM "
            "--out {output.bam} > {log} 2>&1"

    rule training_bam_depth:
        input:
            bam=lambda wildcards: training_full_bam(CALLER_DATA[wildcards.name]),
            spec=training_row_spec("{name}"),
        output:
            bam="results/training/caller/bams/{name}.{depth}x.bam",
            bai="results/training/caller/bams/{name}.{depth}x.bam.bai",
        params:
            regions=lambda wildcards: CALLER_DATA[wildcards.name].regions,
            seed=lambda wildcards: CALLER_DATA[wildcards.name].seed,
        wildcard_constraints:
            depth=r"[0-9.]+",
            name=r"[A-Za-z0-9_-]+",
        log:
            "logs/training_bam_depth/{name}.{depth}x.log",
        threads: 1
        conda:
            TOOLS_ENV
        shell:
            "genoscreen downsample --bam {input.bam} --regions {params.regions} --depth {wildcards.depth} "
            "--seed {params.seed} --out {output.bam} > {log} 2>&1"

    rule training_examples:
        input:
            unpack(lambda wildcards: training_example_inputs(CALLER_DATA[wildcards.name], wildcards.depth)),
        output:
            directory("results/training/caller/examples/{name}.{depth}"),
        params:
            args=lambda wildcards, input: labelled_args(CALLER_DATA[wildcards.name], input),
        wildcard_constraints:
            depth=r"full|[0-9.]+x",
            name=r"[A-Za-z0-9_-]+",
        log:
            "logs/training_examples/{name}.{depth}.log",
        benchmark:
            "benchmarks/training_examples/{name}.{depth}.tsv"
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen make-examples --bam {input.bam} --ref {input.ref} --truth {input.truth} {params.args} "
            "--preset default --threads {threads} --out {output} > {log} 2>&1"  # the caller preset's pileup

    rule train_caller_network:
        input:
            train=caller_examples("train", repeat=True),
            val=caller_examples("val"),
        output:
            directory("results/training/caller/network"),
        params:
            workdir="results/training/caller/checkpoints",
            extra=TRAIN_CALLER["train_args"],
        log:
            "logs/train_caller_network.log",
        benchmark:
            "benchmarks/train_caller_network.tsv"
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen train-caller --examples {input.train} --val-examples {input.val} --select-on mean "
            "--out {output} --workdir {params.workdir} {params.extra} 2> {log}"

    rule finetune_caller_network:
        input:
            init="results/training/caller/network",
            train=caller_examples("train", repeat=True, real_weight=(TRAIN_CALLER["finetune"] or {}).get("real_weight")),
            val=caller_examples("val"),
        output:
            directory("results/training/caller/finetuned"),
        params:
            workdir="results/training/caller/checkpoints-finetune",
            extra=(TRAIN_CALLER["finetune"] or {}).get("args", ""),
        log:
            "logs/finetune_caller_network.log",
        benchmark:
            "benchmarks/train_caller_finetune.tsv"
        threads: res("train", "threads")
        resources:
            mem_mb=res("train", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen train-caller --init {input.init} --examples {input.train} --val-examples {input.val} "
            "--select-on mean --out {output} --workdir {params.workdir} {params.extra} 2> {log}"

    rule calibrate_caller:
        input:
            network=caller_network(),
            val=caller_examples("val"),
        output:
            directory("results/training/caller/calibrated"),
        params:
            method=TRAIN_CALLER["calibration"],
        log:
            "logs/calibrate_caller.log",
        conda:
            ENV
        shell:
            "rm -rf {output} && cp -r {input.network} {output} && "
            "genoscreen calibrate-caller --model {output} --examples {input.val} --method {params.method} 2> {log}"

    rule caller_heldout:
        input:
            unpack(lambda wildcards: training_example_inputs(CALLER_DATA[wildcards.name], wildcards.depth)),
            model="results/training/caller/calibrated",
        output:
            vcf="results/training/caller/heldout/{name}.{depth}.vcf.gz",
            json="results/training/caller/heldout/{name}.{depth}.eval.json",
        params:
            bed=lambda wildcards, input: f"--bed {input.bed}" if "bed" in input.keys() else "",
            regions=lambda wildcards: CALLER_DATA[wildcards.name].regions,
        wildcard_constraints:
            depth=r"full|[0-9.]+x",
            name=r"[A-Za-z0-9_-]+",
        log:
            "logs/caller_heldout/{name}.{depth}.log",
        threads: res("train", "threads")
        conda:
            ENV
        shell:
            "genoscreen call --model {input.model} --bam {input.bam} --ref {input.ref} --regions {params.regions} "
            "--threads {threads} --out {output.vcf} 2> {log} && "
            "genoscreen evaluate --truth {input.truth} --calls {output.vcf} --ref {input.ref} "
            "--regions {params.regions} {params.bed} --json {output.json} >> {log} 2>&1"

    rule caller_calibration_table:
        input:
            model="results/training/caller/calibrated",
            test=caller_examples("test"),
        output:
            json="results/training/caller/bench/calibration.json",
        params:
            prefix="results/training/caller/bench/calibration",
        log:
            "logs/caller_calibration_table.log",
        conda:
            ENV
        shell:
            "python bench/calibration.py --model {input.model} --examples {input.test} --out-prefix {params.prefix} "
            "> {log} 2>&1"

    rule caller_titration:
        input:
            model="results/training/caller/calibrated",
        output:
            json="results/training/caller/bench/titration.json",
        params:
            prefix="results/training/caller/bench/titration",
            workdir="results/training/caller/bench/titration_work",
        log:
            "logs/caller_titration.log",
        threads: res("train", "threads")
        conda:
            TOOLS_ENV
        shell:
            "python bench/titration.py --model {input.model} --threads {threads} --workdir {params.workdir} "
            "--out-prefix {params.prefix} --json {output.json} --include-in-sample > {log} 2>&1"

    rule caller_release:
        input:
            model="results/training/caller/calibrated",
            data=TRAIN_CALLER["data"],
            calibration="results/training/caller/bench/calibration.json",
            titration="results/training/caller/bench/titration.json",
            heldout=caller_heldout_outputs(),
            notes=TRAIN_CALLER["card_notes"] or [],
        output:
            directory("results/models/caller-wgs-illumina"),
        params:
            history=caller_histories(),
            benchmarks="benchmarks",
            notes=lambda wildcards, input: f"--notes {input.notes}" if input.notes else "",
        log:
            "logs/caller_release.log",
        conda:
            ENV
        shell:
            "rm -rf {output}.tmp && cp -r {input.model} {output}.tmp && "
            "genoscreen caller-card --model {output}.tmp --name caller-wgs-illumina --training-data {input.data} "
            "--history {params.history} "
            "--calibration {input.calibration} --titration {input.titration} --heldout {input.heldout} "
            "--benchmarks {params.benchmarks} {params.notes} --out {output}.tmp/MODEL_CARD.md 2> {log} && "
            "mv {output}.tmp {output}"

    rule train_caller:
        input:
            "results/models/caller-wgs-illumina",


if TRAIN_AFFINITY:

    rule affinity_merge:
        input:
            drugs=affinity_sources("drugs"),
            targets=affinity_sources("targets"),
            pairs=affinity_sources("pairs"),
        output:
            **{key: f"results/training/affinity/{{dataset}}/merged/{name}" for key, name in MERGED_FILES.items()},
        log:
            "logs/affinity_merge/{dataset}.log",
        conda:
            ENV
        shell:
            "genoscreen affinity merge --drugs {input.drugs} --targets {input.targets} --pairs {input.pairs} "
            "--out results/training/affinity/{wildcards.dataset}/merged 2> {log}"

    rule affinity_mutant_targets:
        input:
            affinity_setting("targets"),
        output:
            fasta="results/training/affinity/{dataset}/targets.fasta",
            report="results/training/affinity/{dataset}/targets.mutants.tsv",
        log:
            "logs/affinity_mutant_targets/{dataset}.log",
        conda:
            ENV
        shell:
            "genoscreen affinity mutants --targets {input} --out {output.fasta} --report {output.report} 2> {log}"

    rule affinity_cv:
        input:
            drugs=affinity_setting("drugs"),
            targets=affinity_targets,
            pairs=affinity_setting("pairs"),
        output:
            directory("results/training/affinity/{dataset}/cv"),
        params:
            preset=affinity_setting("preset"),
            split=affinity_setting("cv_split"),
            folds=lambda wildcards: " ".join(str(f) for f in TRAIN_AFFINITY[wildcards.dataset]["cv_folds"]),
            extra=affinity_setting("cv_args"),
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
            "--preset {params.preset} --split {params.split} --folds {params.folds} --out {output} {params.extra} 2> {log}"

    rule affinity_train:
        input:
            drugs=affinity_setting("drugs"),
            targets=affinity_targets,
            pairs=affinity_setting("pairs"),
            cv=affinity_cv_input,
            notes=lambda wildcards: TRAIN_AFFINITY[wildcards.dataset]["card_notes"] or [],
        output:
            directory("results/models/dta-{dataset}"),
        params:
            preset=affinity_setting("preset"),
            extra=affinity_setting("train_args"),
            cv=lambda wildcards, input: f"--cv-summary {input.cv}/cv_summary.json" if input.cv else "",
            notes=lambda wildcards, input: f"--card-notes {input.notes}" if input.notes else "",
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
            "--preset {params.preset} {params.cv} {params.notes} --out {output} {params.extra} 2> {log} "
            "&& genoscreen affinity panels --model {output} --add {wildcards.dataset} --targets {input.targets} 2>> {log}"

    rule train_affinity:
        input:
            expand("results/models/dta-{dataset}", dataset=TRAIN_AFFINITY),

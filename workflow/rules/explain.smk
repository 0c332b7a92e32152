# Explanations (config `explain`): integrated gradients of the best hits' predicted affinities onto atoms and residues
# (`genoscreen explain affinity --hits`) and of the calls in regions of interest onto their pileups
# (`genoscreen explain call --regions`); the report draws them.

EXPLAIN = config["explain"]


rule explain_hits:
    input:
        hits=results("screening/{name}.hits.tsv"),
        compounds=lambda wildcards: LIBRARIES[wildcards.name],
        targets=explain_targets(),
        model=SCREEN["model"],
    output:
        directory(results("explain/hits/{name}")),
    params:
        columns=compound_column_args(),
        top=EXPLAIN["top_hits"],
        steps=EXPLAIN["steps"],
    log:
        results("logs/explain_hits/{name}.log"),
    benchmark:
        results("benchmarks/explain_hits/{name}.tsv")
    threads: res("screen", "threads")
    resources:
        mem_mb=res("screen", "mem_mb"),
    conda:
        ENV
    shell:
        "genoscreen explain affinity --model {input.model} --drugs {input.compounds} {params.columns} "
        "--targets {input.targets} --hits-table {input.hits} --top {params.top} --steps {params.steps} --out {output} "
        "2> {log}"


rule explain_variant_screen:
    input:
        hits=results("variant_screen/{sample}.{name}.hits.tsv"),
        compounds=lambda wildcards: LIBRARIES[wildcards.name],
        targets=config["variant_screen"]["targets"] or [],
        mutants=results("variant_screen/{sample}.mutants.fasta"),
        model=SCREEN["model"],
    output:
        directory(results("explain/variant_screen/{sample}.{name}")),
    params:
        columns=compound_column_args(),
        top=EXPLAIN["top_hits"],
        steps=EXPLAIN["steps"],
    log:
        results("logs/explain_variant_screen/{sample}.{name}.log"),
    benchmark:
        results("benchmarks/explain_variant_screen/{sample}.{name}.tsv")
    threads: res("screen", "threads")
    resources:
        mem_mb=res("screen", "mem_mb"),
    conda:
        ENV
    shell:
        "genoscreen explain affinity --model {input.model} --drugs {input.compounds} {params.columns} "
        "--targets {input.targets} {input.mutants} --hits-table {input.hits} --top {params.top} --steps {params.steps} "
        "--out {output} 2> {log}"


rule explain_calls:
    input:
        vcf=results("variants/{sample}.vcf.gz"),
        tbi=results("variants/{sample}.vcf.gz.tbi"),
        bam=lambda wildcards: SAMPLES[wildcards.sample].bam,
        ref=REF,
        model=config["variants"]["model"],
    output:
        directory(results("explain/calls/{sample}")),
    params:
        regions=",".join(EXPLAIN["regions"]),
        steps=EXPLAIN["steps"],
    log:
        results("logs/explain_calls/{sample}.log"),
    benchmark:
        results("benchmarks/explain_calls/{sample}.tsv")
    threads: res("call_variants", "threads")
    resources:
        mem_mb=res("call_variants", "mem_mb"),
    conda:
        ENV
    shell:
        "genoscreen explain call --bam {input.bam} --ref {input.ref} --vcf {input.vcf} --model {input.model} "
        "--regions {params.regions} --steps {params.steps} --out {output} 2> {log}"

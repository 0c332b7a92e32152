# Variant calling, scattered over shards of the genome (variants.shard_size) and gathered per sample:
# make-examples -> call-variants -> postprocess per shard, then concat-vcfs, then evaluate when truth is given.


rule make_examples:
    input:
        bam=lambda wildcards: SAMPLES[wildcards.sample].bam,
        ref=REF,
    output:
        temp(directory("results/work/variants/{sample}/examples/{shard}")),
    params:
        region=lambda wildcards: SHARDS[wildcards.shard],
        contig_map=f"--contig-map {config['variants']['contig_map']}" if config["variants"]["contig_map"] else "",
        extra=config["variants"]["make_examples_args"],
    log:
        "logs/make_examples/{sample}/{shard}.log",
    benchmark:
        "benchmarks/make_examples/{sample}/{shard}.tsv"
    threads: res("make_examples", "threads")
    resources:
        mem_mb=res("make_examples", "mem_mb"),
    conda:
        ENV
    shell:
        "genoscreen make-examples --bam {input.bam} --ref {input.ref} --regions {params.region} "
        "--out {output} --threads {threads} {params.contig_map} {params.extra} > {log} 2>&1"


rule call_variants:
    input:
        examples="results/work/variants/{sample}/examples/{shard}",
        model=config["variants"]["model"],
    output:
        temp("results/work/variants/{sample}/probs/{shard}.npz"),
    log:
        "logs/call_variants/{sample}/{shard}.log",
    benchmark:
        "benchmarks/call_variants/{sample}/{shard}.tsv"
    threads: res("call_variants", "threads")
    resources:
        mem_mb=res("call_variants", "mem_mb"),
    conda:
        ENV
    shell:
        "genoscreen call-variants --examples {input.examples} --model {input.model} --out {output} "
        "--threads {threads} 2> {log}"


rule postprocess:
    input:
        probs="results/work/variants/{sample}/probs/{shard}.npz",
        ref=REF,
    output:
        vcf=temp("results/work/variants/{sample}/calls/{shard}.vcf.gz"),
        tbi=temp("results/work/variants/{sample}/calls/{shard}.vcf.gz.tbi"),
    log:
        "logs/postprocess/{sample}/{shard}.log",
    benchmark:
        "benchmarks/postprocess/{sample}/{shard}.tsv"
    threads: res("postprocess", "threads")
    resources:
        mem_mb=res("postprocess", "mem_mb"),
    conda:
        ENV
    shell:
        "genoscreen postprocess --probs {input.probs} --ref {input.ref} --sample {wildcards.sample} "
        "--out {output.vcf} 2> {log}"


rule gather_vcfs:
    input:
        expand("results/work/variants/{{sample}}/calls/{shard}.vcf.gz", shard=SHARDS),
    output:
        vcf="results/variants/{sample}.vcf.gz",
        tbi="results/variants/{sample}.vcf.gz.tbi",
    params:
    log:
        "logs/gather_vcfs/{sample}.log",
    benchmark:
        "benchmarks/gather_vcfs/{sample}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        ENV
    shell:
        "genoscreen concat-vcfs {input} --out {output.vcf} 2> {log}"


rule evaluate:
    input:
        calls="results/variants/{sample}.vcf.gz",
        truth=lambda wildcards: SAMPLES[wildcards.sample].truth,
        bed=lambda wildcards: SAMPLES[wildcards.sample].confident_bed or [],
        ref=REF,
    output:
        json="results/variants/{sample}.eval.json",
        table="results/variants/{sample}.eval.tsv",
    params:
        bed=lambda wildcards, input: f"--bed {input.bed}" if input.bed else "",
        regions=f"--regions {','.join(config['variants']['regions'])}" if config["variants"]["regions"] else "",
    log:
        "logs/evaluate/{sample}.log",
    benchmark:
        "benchmarks/evaluate/{sample}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        ENV
    shell:
        "genoscreen evaluate --truth {input.truth} --calls {input.calls} --ref {input.ref} {params.bed} {params.regions} "
        "--json {output.json} > {output.table} 2> {log}"

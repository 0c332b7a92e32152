# Variant calling, scattered over shards of the genome (variants.shard_size) and gathered per sample:
# make-examples -> call-variants -> postprocess per shard, then concat-vcfs, then evaluate when truth is given.
# With variants.gvcf, postprocess also writes each shard's gVCF (the probabilities file names the reads and
# regions), gathered per sample; `snakemake cohort` merges the samples' gVCFs into one multi-sample VCF.

GVCF = config["variants"]["gvcf"]


rule make_examples:
    input:
        bam=lambda wildcards: SAMPLES[wildcards.sample].bam,
        ref=REF,
        model=config["variants"]["model"],  # the pileups it was trained on
    output:
        temp(directory(results("work/variants/{sample}/examples/{shard}"))),
    params:
        region=lambda wildcards: SHARDS[wildcards.shard],
        contig_map=f"--contig-map {config['variants']['contig_map']}" if config["variants"]["contig_map"] else "",
        extra=config["variants"]["make_examples_args"],
    log:
        results("logs/make_examples/{sample}/{shard}.log"),
    benchmark:
        results("benchmarks/make_examples/{sample}/{shard}.tsv")
    threads: res("make_examples", "threads")
    resources:
        mem_mb=res("make_examples", "mem_mb"),
    conda:
        ENV
    shell:
        "genoscreen make-examples --bam {input.bam} --ref {input.ref} --model {input.model} --regions {params.region} "
        "--out {output} --threads {threads} {params.contig_map} {params.extra} > {log} 2>&1"


rule call_variants:
    input:
        examples=results("work/variants/{sample}/examples/{shard}"),
        model=config["variants"]["model"],
    output:
        temp(results("work/variants/{sample}/probs/{shard}.npz")),
    log:
        results("logs/call_variants/{sample}/{shard}.log"),
    benchmark:
        results("benchmarks/call_variants/{sample}/{shard}.tsv")
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
        probs=results("work/variants/{sample}/probs/{shard}.npz"),
        ref=REF,
    output:
        vcf=temp(results("work/variants/{sample}/calls/{shard}.vcf.gz")),
        tbi=temp(results("work/variants/{sample}/calls/{shard}.vcf.gz.tbi")),
        **({"gvcf": temp(results("work/variants/{sample}/calls/{shard}.g.vcf.gz")),
            "gtbi": temp(results("work/variants/{sample}/calls/{shard}.g.vcf.gz.tbi"))} if GVCF else {}),
    params:
        gvcf=lambda wildcards, output: f"--gvcf {output.gvcf}" if GVCF else "",
    log:
        results("logs/postprocess/{sample}/{shard}.log"),
    benchmark:
        results("benchmarks/postprocess/{sample}/{shard}.tsv")
    threads: res("postprocess", "threads")
    resources:
        mem_mb=res("postprocess", "mem_mb"),
    conda:
        ENV
    shell:
        "genoscreen postprocess --probs {input.probs} --ref {input.ref} --sample {wildcards.sample} "
        "--out {output.vcf} {params.gvcf} 2> {log}"


rule gather_vcfs:
    input:
        expand(results("work/variants/{{sample}}/calls/{shard}{{kind}}.vcf.gz"), shard=SHARDS),
    output:
        vcf=results("variants/{sample}{kind}.vcf.gz"),
        tbi=results("variants/{sample}{kind}.vcf.gz.tbi"),
    wildcard_constraints:
        kind=r"|\.g",
    params:
    log:
        results("logs/gather_vcfs/{sample}{kind}.log"),
    benchmark:
        results("benchmarks/gather_vcfs/{sample}{kind}.tsv")
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        ENV
    shell:
        "genoscreen concat-vcfs {input} --out {output.vcf} 2> {log}"


rule evaluate:
    input:
        calls=results("variants/{sample}.vcf.gz"),
        truth=lambda wildcards: SAMPLES[wildcards.sample].truth,
        bed=lambda wildcards: SAMPLES[wildcards.sample].confident_bed or [],
        ref=REF,
    output:
        json=results("variants/{sample}.eval.json"),
        table=report(
            results("variants/{sample}.eval.tsv"),
            caption="../report/evaluate.rst",
            category="2. Variants",
            labels={"sample": "{sample}", "table": "accuracy against truth"},
        ),
    params:
        bed=lambda wildcards, input: f"--bed {input.bed}" if input.bed else "",
        regions=f"--regions {','.join(config['variants']['regions'])}" if config["variants"]["regions"] else "",
    log:
        results("logs/evaluate/{sample}.log"),
    benchmark:
        results("benchmarks/evaluate/{sample}.tsv")
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        ENV
    shell:
        "genoscreen evaluate --truth {input.truth} --calls {input.calls} --ref {input.ref} {params.bed} {params.regions} "
        "--json {output.json} > {output.table} 2> {log}"


rule cohort:
    # The samples' gVCFs merged with `bcftools merge --gvcf`: at a site any sample called, every other sample gets
    # the genotype, GQ and depth of its reference block there (0/0, or ./. where it had no reads), so a cohort VCF
    # tells hom-ref from no-call. No joint re-genotyping from the PLs (what GLnexus adds): each sample's genotype is
    # the one its own model call gave. Alleles no sample carries and the <*> of pure reference blocks are dropped;
    # +fill-tags adds AC/AN/AF/NS.
    input:
        gvcfs=expand(results("variants/{sample}.g.vcf.gz"), sample=SAMPLES),
        ref=REF,
    output:
        vcf=results("variants/cohort.vcf.gz"),
        tbi=results("variants/cohort.vcf.gz.tbi"),
    log:
        results("logs/cohort.log"),
    benchmark:
        results("benchmarks/cohort.tsv")
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        TOOLS_ENV
    shell:
        "(bcftools merge --gvcf {input.ref} -m all -Ou {input.gvcfs} "
        "| bcftools view --trim-alt-alleles -Ou | bcftools view -e 'ALT=\"<*>\" || ALT=\".\"' -Ou "
        "| bcftools +fill-tags -Oz -o {output.vcf} -- -t AC,AN,AF,NS && bcftools index -t {output.vcf}) 2> {log}"

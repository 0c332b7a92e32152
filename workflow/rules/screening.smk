# Screening: every compound of each library against every target of the panel (or FASTA), in
# `screening.chunks` chunks per library; each chunk keeps its top K per target, so the merged top K is exact.

rule split_compounds:
    input:
        lambda wildcards: LIBRARIES[wildcards.name],
    output:
        chunks=temp(expand(results("work/screening/{{name}}/chunk{chunk}{{fmt}}"), chunk=CHUNKS)),
        index=temp(results("work/screening/{name}/chunks{fmt}.json")),
    params:
        columns=compound_column_args(),
    log:
        results("logs/split_compounds/{name}{fmt}.log"),
    benchmark:
        results("benchmarks/split_compounds/{name}{fmt}.tsv")
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        ENV
    shell:
        "genoscreen split-compounds {input} --out {output.chunks} --index {output.index} {params.columns} 2> {log}"


rule screen_chunk:
    input:
        compounds=results("work/screening/{name}/chunk{chunk}{fmt}"),
        model=SCREEN["model"],
        targets=SCREEN["targets"] or [],
    output:
        hits=temp(results("work/screening/{name}/chunk{chunk}{fmt}.hits.tsv")),
        errors=temp(results("work/screening/{name}/chunk{chunk}{fmt}.hits.tsv.errors.tsv")),
        truncated=temp(results("work/screening/{name}/chunk{chunk}{fmt}.hits.tsv.truncated.tsv")),
    params:
        targets=screen_targets_arg(),
        columns=compound_column_args(),
        top_k=SCREEN["top_k"],
        min_affinity=f"--min-affinity {SCREEN['min_affinity']}" if SCREEN["min_affinity"] is not None else "",
    log:
        results("logs/screen/{name}/chunk{chunk}{fmt}.log"),
    benchmark:
        results("benchmarks/screen/{name}/chunk{chunk}{fmt}.tsv")
    threads: res("screen", "threads")
    resources:
        mem_mb=res("screen", "mem_mb"),
    conda:
        ENV
    shell:
        "genoscreen screen --model {input.model} --compounds {input.compounds} {params.targets} "
        "--top-k {params.top_k} {params.min_affinity} {params.columns} --allow-empty --out {output.hits} 2> {log}"


rule merge_hits:
    input:
        hits=lambda wildcards: expand(
            results("work/screening/{name}/chunk{chunk}{fmt}.hits.tsv"),
            name=wildcards.name,
            chunk=CHUNKS,
            fmt=library_fmt(wildcards.name),
        ),
        index=lambda wildcards: results(f"work/screening/{wildcards.name}/chunks{library_fmt(wildcards.name)}.json"),
        # found by merge-hits next to each hits table; listed so they are staged and then removed (temp)
        errors=lambda wildcards: expand(
            results("work/screening/{name}/chunk{chunk}{fmt}.hits.tsv.errors.tsv"),
            name=wildcards.name,
            chunk=CHUNKS,
            fmt=library_fmt(wildcards.name),
        ),
        truncated=lambda wildcards: expand(
            results("work/screening/{name}/chunk{chunk}{fmt}.hits.tsv.truncated.tsv"),
            name=wildcards.name,
            chunk=CHUNKS,
            fmt=library_fmt(wildcards.name),
        ),
    output:
        hits=report(
            results("screening/{name}.hits.tsv"),
            caption="../report/hits.rst",
            category="3. Screening",
            labels={"library": "{name}", "table": "ranked hits"},
        ),
        errors=report(
            results("screening/{name}.errors.tsv"),
            caption="../report/errors.rst",
            category="3. Screening",
            labels={"library": "{name}", "table": "skipped records"},
        ),
        truncated=results("screening/{name}.truncated.tsv"),
    params:
        top_k=SCREEN["top_k"],
    log:
        results("logs/merge_hits/{name}.log"),
    benchmark:
        results("benchmarks/merge_hits/{name}.tsv")
    threads: 1
    resources:
        mem_mb=4000,
    conda:
        ENV
    shell:
        "genoscreen merge-hits {input.hits} --out {output.hits} --top-k {params.top_k} --errors {output.errors} "
        "--truncated {output.truncated} --index {input.index} 2> {log}"

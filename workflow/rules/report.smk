# The HTML report: call counts per sample, accuracy against truth, affinity distribution, top hits per target.


rule report:
    input:
        vcfs=expand(results("variants/{sample}.vcf.gz"), sample=SAMPLES),
        evaluations=expand(results("variants/{sample}.eval.json"), sample=samples_with_truth()),
        hits=expand(results("screening/{name}.hits.tsv"), name=LIBRARIES),
        errors=expand(results("screening/{name}.errors.tsv"), name=LIBRARIES),
        proteins=variant_screen_outputs()["proteins"],
        shifts=variant_screen_outputs()["shifts"],
        explained_hits=explain_outputs()["hits"],
        explained_variants=explain_outputs()["variant_screen"],
        explained_calls=explain_outputs()["calls"],
    output:
        report(results("report.html"), caption="../report/report.rst", category="1. Summary"),
    params:
        args=report_args,
        top_hits=config["report"]["top_hits"],
        targets_shown=config["report"]["targets_shown"],
    log:
        results("logs/report.log"),
    benchmark:
        results("benchmarks/report.tsv")
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        ENV
    shell:
        "genoscreen report {params.args} --top-hits {params.top_hits} --targets-shown {params.targets_shown} "
        "--out {output} 2> {log}"

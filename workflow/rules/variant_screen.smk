# Variant-aware screening (config `variant_screen`): each sample's called protein changes in the annotated genes
# (`genoscreen consequences`) become mutant targets, screened with their wild types against every library
# (`genoscreen screen --mutants`); the report shows each mutation's predicted shifts.

VARIANT_SCREEN = config["variant_screen"]

if VARIANT_SCREEN["annotation"]:

    rule protein_consequences:
        input:
            vcf=results("variants/{sample}.vcf.gz"),
            tbi=results("variants/{sample}.vcf.gz.tbi"),
            ref=REF,
            annotation=VARIANT_SCREEN["annotation"],
        output:
            table=report(
                results("variant_screen/{sample}.proteins.tsv"),
                caption="../report/proteins.rst",
                category="4. Variant screen",
                labels={"sample": "{sample}", "table": "protein changes"},
            ),
            skipped=results("variant_screen/{sample}.proteins.tsv.skipped.tsv"),
            fasta=results("variant_screen/{sample}.mutants.fasta"),
        log:
            results("logs/protein_consequences/{sample}.log"),
        benchmark:
            results("benchmarks/protein_consequences/{sample}.tsv")
        threads: 1
        resources:
            mem_mb=1000,
        conda:
            ENV
        shell:
            "genoscreen consequences --vcf {input.vcf} --ref {input.ref} --annotation {input.annotation} "
            "--out {output.table} --fasta {output.fasta} 2> {log}"

    rule screen_mutants:
        input:
            mutants=results("variant_screen/{sample}.mutants.fasta"),
            targets=VARIANT_SCREEN["targets"],
            compounds=lambda wildcards: LIBRARIES[wildcards.name],
            model=SCREEN["model"],
        output:
            hits=results("variant_screen/{sample}.{name}.hits.tsv"),
            shifts=report(
                results("variant_screen/{sample}.{name}.hits.tsv.shifts.tsv"),
                caption="../report/shifts.rst",
                category="4. Variant screen",
                labels={"sample": "{sample}", "table": "affinity shifts vs {name}"},
            ),
            errors=results("variant_screen/{sample}.{name}.hits.tsv.errors.tsv"),
            truncated=results("variant_screen/{sample}.{name}.hits.tsv.truncated.tsv"),
        params:
            columns=compound_column_args(),
        log:
            results("logs/screen_mutants/{sample}.{name}.log"),
        benchmark:
            results("benchmarks/screen_mutants/{sample}.{name}.tsv")
        threads: res("screen", "threads")
        resources:
            mem_mb=res("screen", "mem_mb"),
        conda:
            ENV
        shell:
            "genoscreen screen --model {input.model} --compounds {input.compounds} --targets {input.targets} "
            "--mutants {input.mutants} {params.columns} --out {output.hits} 2> {log}"

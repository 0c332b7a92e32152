"""genoscreen workflow: BAMs and compound libraries in; VCFs, ranked hits and an HTML report out.

    snakemake --cores 2                                   # the self-contained demo (config/config.yaml)
    snakemake --cores 8 --configfile my.yaml              # your data: a copy of config/config.yaml, edited
    snakemake --profile profiles/slurm --configfile my.yaml   # on a SLURM cluster: one job per shard / chunk
    snakemake --cores 8 train_caller train_affinity --configfile config/config.yaml config/training.yaml

Rules live in workflow/rules/*.smk; each one calls the `genoscreen` CLI. The config is validated against
workflow/schemas/config.schema.yaml before any job runs.
"""

from snakemake.utils import min_version

min_version("8.0")


# The demo's config is the default; a --configfile of your own replaces it (rather than being merged into it, so
# none of the demo's samples or libraries leak into your run). --config KEY=VALUE still overrides either.
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"  # `snakemake --report report.zip`: the main outputs, with provenance


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/variants.smk"
include: "workflow/rules/screening.smk"
include: "workflow/rules/variant_screen.smk"
include: "workflow/rules/explain.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/training.smk"


rule all:
    default_target: True
    input:
        final_outputs(),


onsuccess:
    print_accuracy()

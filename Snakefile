"""genoscreen workflow: BAMs and compound libraries in; VCFs, ranked hits and an HTML report out.

    snakemake --cores 2                                   # the self-contained demo (config/config.yaml)
    snakemake --cores 8 --configfile config/dev.yaml      # your own samples / libraries: copy and edit a config
    snakemake --profile profiles/slurm                    # the same on a SLURM cluster, one job per shard
    snakemake --cores 8 train_caller train_affinity       # rebuild the shipped models (config/training.yaml)

Rules live in workflow/rules/*.smk; each one calls the `genoscreen` CLI. The config is validated against
workflow/schemas/config.schema.yaml before any job runs.
"""

from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/variants.smk"
include: "workflow/rules/screening.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/training.smk"


rule all:
    default_target: True
    input:
        final_outputs(),


onsuccess:
    print_accuracy()

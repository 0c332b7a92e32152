# The self-contained demo data set; only used when the config's `demo.dir` is set (config/config.yaml).

from genoscreen.demo import DemoSpec

if config["demo"]["dir"]:
    DEMO_FILES = list(DemoSpec(seed=config["demo"]["seed"]).paths(config["demo"]["dir"]).values())

    rule demo_data:
        output:
            DEMO_FILES,
        params:
            out=lambda wildcards, output: Path(output[0]).parent,
            seed=config["demo"]["seed"],
        log:
            "logs/demo_data.log",
        benchmark:
            "benchmarks/demo_data.tsv"
        threads: 1
        resources:
            mem_mb=1000,
        conda:
            ENV
        shell:
            "genoscreen demo-data --out {params.out} --seed {params.seed} > {log} 2>&1"

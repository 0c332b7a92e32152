"""The Snakemake workflow, run as users run it (a `snakemake` subprocess), in a scratch working directory.

The demo runs end to end with the shipped models when they are in resources/models; before they exist, with tiny
models trained here in a minute through the public CLI (1 epoch, CPU-sized presets), so only the plumbing is judged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pysam
import pytest
import yaml


ROOT = Path(__file__).resolve().parents[2]
CALLER = ROOT / "resources" / "models" / "caller-wgs-illumina"
DTA = ROOT / "resources" / "models" / "dta-davis"
COMMANDS = ("make-examples", "call-variants", "postprocess", "evaluate", "screen", "train-caller", "affinity")


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), *args],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env,
    )


def genoscreen(*args: str, cwd: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "genoscreen", *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def _missing_commands() -> list[str]:
    import argparse

    from genoscreen.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return [c for c in COMMANDS if c not in sub.choices]


def _has_model(path: Path) -> bool:
    return path.is_dir() and any(path.glob("weights*"))


@pytest.fixture(scope="session")
def model_config(tmp_path_factory) -> dict:
    """Config overrides naming usable models: the shipped ones, else tiny ones trained here."""
    missing = _missing_commands()
    if missing:
        pytest.skip(f"genoscreen commands not there yet: {', '.join(missing)}")
    work = tmp_path_factory.mktemp("models")
    over: dict = {"variants": {}, "screening": {}}
    if _has_model(CALLER):
        over["variants"]["model"] = str(CALLER)
    else:
        from genoscreen.demo import DemoSpec, generate

        spec = DemoSpec(contigs=(("t1", 12000),), samples=("t",))
        generate(work / "demo", spec)
        genoscreen("make-examples", "--bam", "demo/t.bam", "--ref", "demo/genome.fa", "--truth", "demo/t.truth.vcf.gz",
                   "--confident-bed", "demo/t.confident.bed", "--preset", "test", "--out", "examples", cwd=work)
        genoscreen("train-caller", "--examples", "examples", "--preset", "test", "--epochs", "1", "--out", "caller", cwd=work)
        over["variants"] = {"model": str(work / "caller"), "make_examples_args": "--preset test"}
    if _has_model(DTA):
        over["screening"] = {"model": str(DTA), "panel": "davis"}
    else:
        import numpy as np

        from genoscreen.demo.compounds import KINASE_INHIBITORS

        rng = np.random.default_rng(0)
        (work / "targets.fasta").write_text("".join(
            f">K{i}\n{''.join(rng.choice(list('ACDEFGHIKLMNPQRSTVWY'), 90))}\n" for i in range(3)))
        (work / "drugs.tsv").write_text("drug_id\tsmiles\n" + "".join(f"{n}\t{s}\n" for n, s in KINASE_INHIBITORS))
        (work / "pairs.tsv").write_text("drug_id\ttarget_id\tpkd\tfold\n" + "".join(
            f"{n}\tK{i}\t{5 + rng.random() * 3:.2f}\t{i}\n" for n, _ in KINASE_INHIBITORS for i in range(3)))
        genoscreen("affinity", "train", "--drugs", "drugs.tsv", "--targets", "targets.fasta", "--pairs", "pairs.tsv",
                   "--preset", "test", "--epochs", "1", "--out", "dta", cwd=work)
        over["screening"] = {"model": str(work / "dta"), "panel": None, "targets": str(work / "targets.fasta")}
    return over


def _workdir(tmp: Path, overrides: dict, samples: str | None = None) -> Path:
    """A working directory holding the default config (as the repository has it) plus an override file."""
    (tmp / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "config.yaml", tmp / "config" / "config.yaml")
    shutil.copy(ROOT / "config" / "samples.tsv", tmp / "config" / "samples.tsv")
    if samples is not None:
        (tmp / "config" / "samples.tsv").write_text(samples)
    (tmp / "override.yaml").write_text(yaml.safe_dump(overrides))
    return tmp


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, model_config):
    work = _workdir(tmp_path_factory.mktemp("demo"), model_config)
    result = snakemake(work, "--cores", "2", "--configfile", "config/config.yaml", "override.yaml")
    assert result.returncode == 0, result.stderr[-5000:]
    return work, result


def test_demo_writes_vcfs_bcftools_and_pysam_read(demo_run):
    work, _ = demo_run
    for sample in ("demo-a", "demo-b"):
        vcf = work / "results" / "variants" / f"{sample}.vcf.gz"
        assert Path(f"{vcf}.tbi").exists()
        with pysam.VariantFile(str(vcf)) as handle:
            assert list(handle.header.samples) == [sample]
            records = list(handle)
            assert records == sorted(records, key=lambda r: (handle.header.contigs[r.contig].id, r.pos))
            assert list(handle.fetch("demo2"))  # the index works
        if shutil.which("bcftools"):
            view = subprocess.run(["bcftools", "view", "-H", str(vcf)], capture_output=True, text=True)
            assert view.returncode == 0 and view.stderr == "", view.stderr
            assert len(view.stdout.splitlines()) == len(records)


def test_demo_reports_its_accuracy(demo_run):
    work, result = demo_run
    for sample in ("demo-a", "demo-b"):
        metrics = json.loads((work / "results" / "variants" / f"{sample}.eval.json").read_text())
        assert metrics
        assert f"{sample} SNP" in result.stderr and f"{sample} INDEL" in result.stderr
    report = (work / "results" / "report.html").read_text()
    assert "Accuracy against the truth" in report and "Top 10 compounds" in report and report.count("<img") >= 3
    if _has_model(CALLER):  # the shipped model on the demo's simulated reads
        from genoscreen.report import evaluation_rows

        snp = evaluation_rows(work / "results" / "variants" / "demo-a.eval.json")[0]
        assert snp["type"] == "SNP" and snp["f1"] >= 0.9, snp


def test_demo_screens_its_samples_protein_changes(demo_run):
    """variant_screen: demo-a's called gatekeeper SNV of the demo kinase becomes DEMOK1:p.Thr90Ile, screened with
    its wild type against the library; demo-b carries no change in the gene; the report says so per sample."""
    import pandas as pd

    from genoscreen.demo.compounds import KINASE_INHIBITORS

    work, _ = demo_run
    vs = work / "results" / "variant_screen"
    proteins = pd.read_csv(vs / "demo-a.proteins.tsv", sep="\t")
    if _has_model(CALLER):  # a tiny caller trained in a minute may miss it
        assert "DEMOK1:p.Thr90Ile" in set(proteins["mutant_id"].dropna())
    assert pd.read_csv(vs / "demo-b.proteins.tsv", sep="\t").empty
    shifts = pd.read_csv(vs / "demo-a.kinase_inhibitors.hits.tsv.shifts.tsv", sep="\t")
    if _has_model(CALLER):
        assert set(shifts["mutant_id"]) == {"DEMOK1:p.Thr90Ile"} and len(shifts) == len(KINASE_INHIBITORS)
        assert (shifts["delta"] == shifts["mutant_prediction"] - shifts["wt_prediction"]).all() or \
            (shifts["delta"] - (shifts["mutant_prediction"] - shifts["wt_prediction"])).abs().max() < 1e-5
    assert pd.read_csv(vs / "demo-b.kinase_inhibitors.hits.tsv.shifts.tsv", sep="\t").empty
    report = (work / "results" / "report.html").read_text()
    assert "Variant-aware screening" in report
    if _has_model(CALLER):
        assert "demo-a carries DEMOK1:p.Thr90Ile" in report


def test_demo_hits_table_shape(demo_run):
    import pandas as pd

    from genoscreen.demo.compounds import KINASE_INHIBITORS

    work, _ = demo_run
    hits = pd.read_csv(work / "results" / "screening" / "kinase_inhibitors.hits.tsv", sep="\t")
    assert list(hits.columns) == ["compound_id", "target_id", "prediction", "rank"]
    n_targets = hits["target_id"].nunique()
    assert n_targets == (442 if _has_model(DTA) else 3)
    assert len(hits) == n_targets * len(KINASE_INHIBITORS)  # top_k 10 >= 10 compounds: every pair
    assert list(hits["target_id"]) == sorted(hits["target_id"])
    for _, group in hits.groupby("target_id"):
        assert list(group["rank"]) == list(range(1, len(group) + 1))
        assert group["prediction"].is_monotonic_decreasing


def test_demo_explains_its_hits_and_calls(demo_run):
    """config explain: the two best compounds of DEMOK1 and of demo-a's mutant are explained onto atoms and residues;
    the calls in the gene are explained onto their pileups (demo-a's gatekeeper SNV with the shipped caller); the
    report draws them."""
    import pandas as pd

    work, _ = demo_run
    explained = work / "results" / "explain"
    pairs = pd.read_csv(explained / "variant_screen" / "demo-a.kinase_inhibitors" / "pairs.tsv", sep="\t")
    assert sorted(pairs["target_id"].unique()) == ["DEMOK1", "DEMOK1:p.Thr90Ile"] and len(pairs) == 4
    gap = pairs["prediction"] - pairs["baseline"]  # attributions sum to it (the demo's gaps are small: absolute)
    assert ((pairs["attribution_sum"] - gap).abs() < 0.02).all()
    assert all((explained / "variant_screen" / "demo-a.kinase_inhibitors" / image).exists() for image in pairs["image"])
    for sample in ("demo-a", "demo-b"):
        calls = pd.read_csv(explained / "calls" / sample / "summary.tsv", sep="\t")
        assert all((explained / "calls" / sample / folder / "pileup.png").exists() for folder in calls["folder"])
        if sample == "demo-a" and _has_model(CALLER):
            gatekeeper = calls[(calls["ref"] == "C") & (calls["alts"] == "T")]
            assert len(gatekeeper) == 1 and gatekeeper["genotype"].iloc[0] == 1
    report = (work / "results" / "report.html").read_text()
    assert "<h2>Explanations</h2>" in report and report.count("data:image/png;base64") >= 8


def test_snakemake_report_registers_the_main_outputs(demo_run, tmp_path):
    """`snakemake --report report.zip` after the demo: Snakemake's own report holds genoscreen's HTML report, each
    sample's accuracy table, each library's hits and skipped records, and the variant screen's tables."""
    import zipfile

    work, _ = demo_run
    out = tmp_path / "report.zip"
    result = snakemake(work, "--report", str(out), "--configfile", "config/config.yaml", "override.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    names = {Path(n).name for n in zipfile.ZipFile(out).namelist() if "/data/raw/" in n}
    assert {"report.html", "demo-a.eval.tsv", "demo-b.eval.tsv", "kinase_inhibitors.hits.tsv",
            "kinase_inhibitors.errors.tsv", "demo-a.proteins.tsv",
            "demo-a.kinase_inhibitors.hits.tsv.shifts.tsv"} <= names, sorted(names)


def test_second_run_does_nothing(demo_run):
    work, _ = demo_run
    result = snakemake(work, "-n", "--configfile", "config/config.yaml", "override.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_library_chunks_without_valid_compounds(tmp_path, model_config):
    """More chunks than compounds, and a chunk holding only an invalid SMILES: the library still screens, and the
    merged errors table names the bad compound and its library line (the per-chunk files are temp outputs)."""
    import pandas as pd

    from genoscreen.demo.compounds import KINASE_INHIBITORS

    work = _workdir(tmp_path, {**model_config, "screening": {**model_config["screening"], "chunks": 4, "top_k": 5,
                                                              "libraries": {"lib": "lib.smi"}}})
    (work / "lib.smi").write_text("".join(f"{s} {n}\n" for n, s in KINASE_INHIBITORS[:2]) + "C1CC( broken\n")
    result = snakemake(work, "results/screening/lib.hits.tsv", "--cores", "2", "--configfile", "config/config.yaml",
                       "override.yaml")
    assert result.returncode == 0, result.stderr[-5000:]
    hits = pd.read_csv(work / "results" / "screening" / "lib.hits.tsv", sep="\t")
    assert set(hits["compound_id"]) == {n for n, _ in KINASE_INHIBITORS[:2]}
    errors = pd.read_csv(work / "results" / "screening" / "lib.errors.tsv", sep="\t")
    assert errors["id"].tolist() == ["broken"] and errors["chunk"].tolist() == ["chunk003"]
    assert errors["row"].tolist() == [3]  # the library's line, not the chunk's
    assert not list((work / "results" / "work").rglob("*.errors.tsv"))
    truncated = pd.read_csv(work / "results" / "screening" / "lib.truncated.tsv", sep="\t")
    assert truncated["kind"].tolist() == ["target"] * truncated["id"].nunique()  # each target once, not once a chunk
    assert not list((work / "results" / "work").rglob("*.truncated.tsv"))


def _fake_models(tmp: Path) -> dict:
    for name in ("caller", "dta"):
        (tmp / "fake" / name).mkdir(parents=True, exist_ok=True)
    return {"variants": {"model": str(tmp / "fake" / "caller")}, "screening": {"model": str(tmp / "fake" / "dta")}}


@pytest.mark.parametrize(
    "overrides, samples, message",
    [
        ({}, "sample\tbam\nx\tnowhere/x.bam\n", "genoscreen workflow: config/samples.tsv: sample 'x': bam: nowhere/x.bam does not exist"),
        ({"reference": "nowhere/genome.fa"}, None, "genoscreen workflow: config: reference: nowhere/genome.fa does not exist"),
        ({"variants": {"shard_size": "big"}}, None, "genoscreen workflow: config: variants.shard_size: 'big' is not of type 'integer'"),
        ({"screening": {"model": "nowhere/dta"}}, None, "genoscreen workflow: config: screening.model: nowhere/dta does not exist"),
    ],
    ids=["missing-bam", "wrong-reference", "schema-violation", "missing-model"],
)
def test_bad_config_stops_with_one_line_before_any_job(tmp_path, overrides, samples, message):
    base = _fake_models(tmp_path)
    for key, value in overrides.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    work = _workdir(tmp_path, base, samples)
    result = snakemake(work, "--cores", "1", "--configfile", "config/config.yaml", "override.yaml", timeout=120)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("genoscreen workflow:")]
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert not (work / "logs").exists() and not (work / "demo_data").exists() and not (work / "results").exists()


def test_lint_is_clean(tmp_path):
    work = _workdir(tmp_path, _fake_models(tmp_path))
    result = snakemake(work, "--lint", "--configfile", "config/config.yaml", "override.yaml", timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_results_dir_moves_every_output(tmp_path):
    """results_dir: every output of the default target and of `cohort` (temp work files included) lies under it, so
    a dev run leaves the demo's results/ alone; a dry run lists them."""
    base = {**_fake_models(tmp_path), "results_dir": "runs/dev"}
    base["variants"] = {**base["variants"], "gvcf": True}
    work = _workdir(tmp_path, base)
    result = snakemake(work, "-n", "all", "cohort", "--configfile", "config/config.yaml", "override.yaml", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout + result.stderr
    outputs = [path for line in re.findall(r"^\s+output: (.*)$", out, re.M) for path in line.split(", ")]
    made = [path for path in outputs if not path.startswith("demo_data/")]
    assert "runs/dev/report.html" in made and "runs/dev/variants/cohort.vcf.gz" in made
    assert "runs/dev/screening/kinase_inhibitors.hits.tsv" in made
    assert any(path.startswith("runs/dev/work/variants/") for path in made)
    assert all(path.startswith("runs/dev/") for path in made), [p for p in made if not p.startswith("runs/dev/")]


def test_screening_columns_reach_the_jobs(tmp_path):
    """screening.id_column / smiles_column: the chunker and each chunk's screen are told where the ids and SMILES
    of a DeepPurpose-style library are."""
    base = _fake_models(tmp_path)
    base["screening"] = {**base["screening"], "libraries": {"dp": "dp.smi"}, "id_column": 1, "smiles_column": 2,
                         "chunks": 2}
    work = _workdir(tmp_path, base)
    (work / "dp.smi").write_text("ethanol CCO\nethane CC\n")
    result = snakemake(work, "-n", "results/screening/dp.hits.tsv", "--configfile", "config/config.yaml",
                       "override.yaml", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout + result.stderr
    commands = re.findall(r"^Shell command: (genoscreen .*)$", out, re.M)
    split = [c for c in commands if c.startswith("genoscreen split-compounds dp.smi")]
    screens = [c for c in commands if c.startswith("genoscreen screen")]
    assert len(split) == 1 and len(screens) == 2, commands
    assert all("--id-column 1 --smiles-column 2" in c for c in split + screens), commands


def _job_resources(out: str) -> dict[str, list[dict[str, str]]]:
    """The `resources:` line of every job a dry run prints, by rule: [{name: value}, ...]."""
    jobs: dict[str, list[dict[str, str]]] = {}
    for block in re.split(r"^(?:local)?rule ", out, flags=re.M)[1:]:
        rule = block.split(":", 1)[0]
        line = re.search(r"^\s+resources: (.*)$", block, re.M)
        pairs = [item.split("=", 1) for item in line.group(1).split(", ")] if line else []
        jobs.setdefault(rule, []).append({k: v for k, v in pairs})
    return jobs


def test_slurm_profile_dry_run(tmp_path):
    """The SLURM profile's default resources reach every job (profiles/default, applied after it, must not replace
    them); the config's per-step mem_mb wins over the profile's default; a user's partition and account are passed."""
    work = _workdir(tmp_path, {**_fake_models(tmp_path), "variants": {
        "model": str(tmp_path / "fake" / "caller"), "shard_size": 5000}})
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    profile["default-resources"].update(slurm_partition="compute", slurm_account="lab_1")
    (work / "mycluster").mkdir()
    (work / "mycluster" / "config.yaml").write_text(yaml.safe_dump(profile))
    for name, partition, account in ((str(ROOT / "profiles" / "slurm"), "", ""), ("mycluster", "compute", "lab_1")):
        result = snakemake(work, "-n", "--profile", name, "--configfile", "config/config.yaml", "override.yaml",
                           timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        out = result.stdout + result.stderr
        assert re.search(r"^make_examples\s+20$", out, re.M), out[-2000:]  # 50 kb in 5 kb shards x 2 samples
        jobs = _job_resources(out)
        assert len(jobs["make_examples"]) == 20 and "screen_chunk" in jobs and "demo_data" in jobs
        for rule, resources in jobs.items():
            if rule == "all":  # a local rule: no job
                continue
            for job in resources:
                assert job.get("runtime") == "120", (rule, job)
                assert job.get("slurm_partition") == partition and job.get("slurm_account") == account, (rule, job)
        assert {job["mem_mb"] for job in jobs["make_examples"]} == {"2000"}  # config resources.make_examples
        assert {job["mem_mb"] for job in jobs["call_variants"]} == {"3000"}  # config resources.call_variants


def test_training_targets_dry_run(tmp_path, shared):
    shared("genomics", "sim")
    shared("dta", "davis")
    work = _workdir(tmp_path, _fake_models(tmp_path))
    config = yaml.safe_load((ROOT / "config" / "training.yaml").read_text())

    def absolute(node):
        if isinstance(node, dict):
            return {k: absolute(v) for k, v in node.items()}
        if isinstance(node, list):
            return [absolute(v) for v in node]
        return str((ROOT / node).resolve()) if isinstance(node, str) and node.startswith("../") else node

    (work / "training.yaml").write_text(yaml.safe_dump(absolute(config)))
    copied = [config["training"]["caller"][key] for key in ("data", "card_notes")]
    copied += [dataset["card_notes"] for dataset in config["training"]["affinity"].values()]
    for path in copied:  # the recipe's own files, relative to the working directory
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, work / path)
    result = snakemake(work, "-n", "train_caller", "train_affinity", "--configfile", "config/config.yaml",
                       "override.yaml", "training.yaml", timeout=120)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    out = result.stdout + result.stderr
    for rule in ("training_bam_sim", "training_bam_depth", "training_examples", "train_caller_network",
                 "calibrate_caller", "caller_heldout", "caller_calibration_table", "caller_titration", "caller_release",
                 "affinity_cv", "affinity_train"):
        assert rule in out, rule
    # every row of the table enters at each of its depths: simulated, downsampled, labelled
    assert "genoscreen downsample --bam results/training/caller/bams/s04.full.bam" in out
    assert "--art-system MSv3" in out and "--quality-binning novaseq" in out and "--select-on mean" in out


def _dev_reference(dev: Path) -> str:
    return str(dev / "ucsc.hg19.chr20.unittest.fasta.gz")


@pytest.mark.slow
def test_dev_data_workflow(tmp_path, model_config, shared):
    """The real NA12878 dev reads: twenty 2.25 kb shards of chr20, gathered, evaluated against GIAB in the 9 kb BED;
    the gathered VCF holds the same records as one `genoscreen call` over the whole region."""
    dev = shared("genomics", "dev")
    samples = (f"sample\tbam\ttruth\tconfident_bed\nNA12878\t{dev}/NA12878_S1.chr20.10_10p045mb.bam\t"
               f"{dev}/HG001_GIAB_v3.3.2.chr20_9995000_10045000.vcf.gz\t{dev}/HG001_confident_subset.chr20_10000846_10010531.bed\n")
    config = {  # a config of its own: no demo, no screening
        "samples": "config/samples.tsv",
        "reference": _dev_reference(dev),
        "variants": {**model_config["variants"], "regions": ["chr20:10000001-10045000"], "shard_size": 2250},
    }
    work = _workdir(tmp_path, {}, samples)
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(work, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]
    vcf = work / "results" / "variants" / "NA12878.vcf.gz"
    with pysam.VariantFile(str(vcf)) as handle:
        records = list(handle)
    assert records and all(r.contig == "chr20" and 10_000_001 <= r.pos <= 10_045_000 for r in records)
    assert len(list((work / "results" / "benchmarks" / "call_variants" / "NA12878").glob("*.tsv"))) == 20
    if "make_examples_args" not in model_config["variants"]:  # sharding changes no call: compare with one shot
        genoscreen("call", "--bam", f"{dev}/NA12878_S1.chr20.10_10p045mb.bam", "--ref", _dev_reference(dev),
                   "--regions", "chr20:10000001-10045000", "--model", model_config["variants"]["model"],
                   "--out", "oneshot.vcf.gz", cwd=work)
        with pysam.VariantFile(str(work / "oneshot.vcf.gz")) as handle:
            oneshot = [str(r).split("\t")[:7] for r in handle]
        assert [str(r).split("\t")[:7] for r in records] == oneshot
    assert "NA12878 SNP" in result.stderr
    assert (work / "results" / "report.html").exists()


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="needs bcftools (apt-get install bcftools)")
def test_cohort_vcf_of_the_demo_samples(demo_run):
    """variants.gvcf: each sample's gVCF is gathered; `snakemake cohort` merges them into one VCF that bcftools view
    and +fill-tags read; every variant a sample called is there, and the other sample has a genotype at that site."""
    work, _ = demo_run
    (work / "gvcf.yaml").write_text(yaml.safe_dump({"variants": {"gvcf": True}}))
    result = snakemake(work, "--cores", "2", "cohort", "--configfile", "config/config.yaml", "override.yaml",
                       "gvcf.yaml")
    assert result.returncode == 0, result.stderr[-5000:]
    cohort = work / "results" / "variants" / "cohort.vcf.gz"
    for sample in ("demo-a", "demo-b"):
        assert (work / "results" / "variants" / f"{sample}.g.vcf.gz.tbi").exists()
    view = subprocess.run(["bcftools", "view", "-H", str(cohort)], capture_output=True, text=True)
    assert view.returncode == 0 and view.stderr == "" and view.stdout
    fill = subprocess.run(["bcftools", "+fill-tags", str(cohort), "--", "-t", "AC,AN"], capture_output=True, text=True)
    assert fill.returncode == 0, fill.stderr
    with pysam.VariantFile(str(cohort)) as handle:
        assert list(handle.header.samples) == ["demo-a", "demo-b"]
        sites = {(r.contig, r.pos, r.ref, r.alts): r for r in handle}
    assert all("<*>" not in (r.alts or ()) for r in sites.values())
    for sample in ("demo-a", "demo-b"):
        with pysam.VariantFile(str(work / "results" / "variants" / f"{sample}.vcf.gz")) as handle:
            called = [r for r in handle if r.filter.keys() == ["PASS"]]
        assert called
        for rec in called:
            merged = [r for key, r in sites.items() if key[:2] == (rec.contig, rec.pos)]
            assert merged, (sample, rec.contig, rec.pos)
            # bcftools writes a site's alleles against its longest REF (G>GT next to GTCTGT>G becomes GTCTGT>GTTCTGT)
            assert set(_trimmed(rec)) <= {a for r in merged for a in _trimmed(r)}, (sample, rec.pos)
            other = "demo-b" if sample == "demo-a" else "demo-a"
            assert all(None not in r.samples[other]["GT"] for r in merged), (other, rec.pos)  # ~30x: no no-call


def _trimmed(rec) -> list[tuple[str, str]]:
    """Each (REF, ALT) of a record with their common suffix removed (keeping one base)."""
    pairs = []
    for alt in rec.alts:
        ref = rec.ref
        while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
        pairs.append((ref, alt))
    return pairs

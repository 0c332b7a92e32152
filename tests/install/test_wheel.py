"""A normal (not editable) install works: the wheel carries the shipped models and the workflow, and the installed
`genoscreen call` and `genoscreen screen` run with them from a folder outside the checkout.

The wheel is built from a copy of the checkout's files (what git tracks or would track), so no build/ folder is
left in the repository. The test venv reuses this interpreter's installed dependencies (jax, pysam, rdkit...)
through a .pth line; genoscreen itself comes only from the wheel: the venv's own site-packages is searched first,
and the line does not run the checkout's editable-install .pth.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.unit.variants.synth import make_dataset

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {
    "genoscreen/_resources/models/caller-wgs-illumina": ["model.json", "weights.safetensors", "pileup_config.json",
                                                         "inference.jaxexport", "MODEL_CARD.md"],
    "genoscreen/_resources/models/dta-davis": ["config.json", "weights.safetensors", "panels/davis.npz"],
    "genoscreen/_resources/models/dta-kiba": ["config.json", "weights.safetensors", "panels/kiba.npz"],
    "genoscreen/_resources/workflow": ["Snakefile", "workflow/rules/common.smk", "workflow/schemas/config.schema.yaml",
                                       "config/config.yaml", "profiles/slurm/config.yaml", "envs/genoscreen.yaml"],
}
OFFLINE = ("Could not find a version that satisfies", "No matching distribution found", "Network is unreachable")

pytestmark = pytest.mark.slow


def _checkout_copy(dest: Path) -> Path:
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip(f"needs the git checkout to build from: {listed.stderr.strip()}")
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = _checkout_copy(tmp / "src")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", str(source), "-w", str(tmp / "dist")],
                           capture_output=True, text=True)
    if built.returncode != 0 and any(reason in built.stdout + built.stderr for reason in OFFLINE):
        pytest.skip("pip cannot fetch the build requirements (setuptools, wheel) here: offline")
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = (tmp / "dist").glob("genoscreen-*.whl")
    return path


def test_wheel_carries_the_models_and_the_workflow(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f"{folder}/{name}" for folder, files in SHIPPED.items() for name in files
               if f"{folder}/{name}" not in names]
    assert not missing
    assert "genoscreen/common/resources.py" in names
    assert {name.split("/")[0] for name in names} == {"genoscreen", wheel.name.split("-py3")[0] + ".dist-info"}
    for model in ("caller-wgs-illumina", "dta-davis"):  # byte for byte the checkout's
        info = zipfile.ZipFile(wheel).getinfo(f"genoscreen/_resources/models/{model}/weights.safetensors")
        assert info.file_size == (ROOT / "resources" / "models" / model / "weights.safetensors").stat().st_size


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    deps = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    Path(site, "genoscreen_test_deps.pth").write_text("".join(f"{path}\n" for path in deps))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--force-reinstall", str(wheel)], capture_output=True, check=True)
    return venv


def _run(venv: Path, cwd: Path, *argv) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GENOSCREEN_RESOURCES")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_installed_package_is_imported_and_finds_its_models(installed, tmp_path):
    out = _run(installed, tmp_path, installed / "bin" / "python", "-c",
               "import genoscreen, genoscreen.common.resources as r; print(genoscreen.__file__); print(r.models_dir());"
               " print(r.workflow_dir())").stdout.split()
    assert all(Path(line).resolve().is_relative_to(installed.resolve()) for line in out), out
    assert Path(out[1], "dta-davis", "weights.safetensors").is_file() and Path(out[2], "Snakefile").is_file()


def test_installed_call_and_screen_run_outside_the_checkout(installed, tmp_path):
    data = make_dataset(tmp_path / "data")
    work = tmp_path / "work"
    work.mkdir()
    _run(installed, work, "genoscreen", "call", "--bam", data.bam, "--ref", data.ref, "--out", "calls.vcf.gz")
    import pysam

    with pysam.VariantFile(str(work / "calls.vcf.gz")) as vcf:
        assert len(list(vcf)) >= 3  # of the 5 planted variants (the shipped model, 30x synthetic reads)
    (work / "lib.smi").write_text("CC(=O)Oc1ccccc1C(=O)O aspirin\nCN1CCN(Cc2ccc(cc2)C(=O)Nc2ccc(C)c(Nc3nccc(n3)"
                                  "-c3cccnc3)c2)CC1 imatinib\n")
    _run(installed, work, "genoscreen", "screen", "--model", "dta-davis", "--panel", "davis", "--compounds", "lib.smi",
         "--top-k", "1", "--out", "hits.tsv")
    hits = (work / "hits.tsv").read_text().splitlines()
    assert hits[0].split("\t") == ["compound_id", "target_id", "prediction", "rank"] and len(hits) > 100
    assert sorted(p.name for p in work.iterdir()) == ["calls.vcf.gz", "calls.vcf.gz.tbi", "hits.tsv",
                                                      "hits.tsv.errors.tsv", "hits.tsv.truncated.tsv", "lib.smi"]

"""Build hook: the wheel carries the shipped models and the workflow, which stay at the top of the repository.

Everything else is in pyproject.toml. `build_py` copies resources/models and the workflow files into
genoscreen/_resources/ of the build (not of the source tree: nothing is duplicated in git), where
`genoscreen.common.resources` finds them once installed; an editable install finds them in the checkout.
MANIFEST.in puts the same files in the sdist.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {  # path inside genoscreen/_resources: path in the repository
    "models": "resources/models",
    "workflow/Snakefile": "Snakefile",
    "workflow/workflow": "workflow",
    "workflow/config": "config",
    "workflow/profiles": "profiles",
    "workflow/envs": "envs",
}
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake", "*.tmp", ".*.tmp*")


class BuildPyWithResources(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "genoscreen" / "_resources"
        shutil.rmtree(target, ignore_errors=True)
        for inside, source in SHIPPED.items():
            src, dst = ROOT / source, target / inside
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=SKIP)
            else:
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildPyWithResources})

"""The one writer of VCF files: `.vcf.gz` (bgzipped + .tbi), `.vcf`, `.bcf` (+ .csi) or `-` (stdout), as bcftools.

Records arrive as VCF text lines; the file is written under a temporary name and renamed into place with its index
(stdout excepted), so an interrupted run leaves no partial VCF. `output_paths` lists what a path will create, for
`check_outputs` before any work.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Iterable

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_path

STDOUT = "-"
SUFFIXES = (".vcf.gz", ".vcf", ".bcf")
INDEX = {".vcf.gz": ".tbi", ".bcf": ".csi"}


def kind(path: str | Path) -> str:
    """".vcf.gz", ".vcf", ".bcf" or "-"; an InputError for anything else (checked before any work)."""
    if str(path) == STDOUT:
        return STDOUT
    name = Path(path).name
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return suffix
    raise InputError(f"{path}: a VCF output must end in .vcf.gz (bgzipped, with a .tbi index), .vcf, .bcf (with a "
                     ".csi index), or be - for stdout")


def output_paths(path: str | Path) -> list[Path]:
    """The files writing `path` creates (the VCF and its index); none for stdout."""
    suffix = kind(path)
    if suffix == STDOUT:
        return []
    return [Path(path)] + ([Path(f"{path}{INDEX[suffix]}")] if suffix in INDEX else [])


def outputs_to_check(outputs: dict[str, str | Path | None]) -> dict[str, Path]:
    """{flag: VCF path} -> every file those outputs create (the VCFs and their indexes), for `check_outputs`
    before any work; stdout creates none, and only one output may go there."""
    if sum(str(path) == STDOUT for path in outputs.values() if path) > 1:
        raise InputError(f"{' and '.join(f'{flag} -' for flag, path in outputs.items() if str(path) == STDOUT)}: "
                         "only one output can go to stdout")
    return {f"{flag}{' (index)' if i else ''}": path for flag, spec in outputs.items() if spec
            for i, path in enumerate(output_paths(spec))}


def command_line(argv: list[str] | None = None) -> str:
    """`##genoscreenCommand=` value, as bcftools records its own: the command and the date."""
    from genoscreen.common.io import command_line as typed

    return f"{typed(sys.argv[1:] if argv is None else argv)}; Date={time.strftime('%a %b %d %H:%M:%S %Y')}"


def write_vcf(path: str | Path, header: list[str], records: Iterable[str]) -> Path | None:
    """Write `header` lines and `records` (VCF text lines) to `path` in the format its name says."""
    suffix = kind(path)
    if suffix == STDOUT:
        out = sys.stdout
        out.write("\n".join(header) + "\n")
        for line in records:
            out.write(line + "\n")
        out.flush()
        return None
    path = Path(path)
    with atomic_path(path) as tmp:
        if suffix == ".vcf":
            with open(tmp, "w") as handle:
                _write_text(handle, header, records)
            return path
        plain = tmp.with_name(tmp.name + ".plain.vcf")
        try:
            with open(plain, "w") as handle:
                _write_text(handle, header, records)
            if suffix == ".vcf.gz":
                import pysam

                gz = pysam.tabix_index(str(plain), preset="vcf", force=True)  # bgzips `plain` to `plain`.gz
                os.replace(gz, tmp)
                os.replace(f"{gz}.tbi", f"{path}.tbi")
            else:
                _to_bcf(plain, tmp)
                os.replace(f"{tmp}.csi", f"{path}.csi")
        finally:
            for leftover in (plain, Path(f"{plain}.gz"), Path(f"{plain}.gz.tbi"), Path(f"{tmp}.csi")):
                if leftover.exists() and leftover != tmp:
                    leftover.unlink()
    return path


def _write_text(handle, header: list[str], records: Iterable[str]) -> None:
    handle.write("\n".join(header) + "\n")
    for line in records:
        handle.write(line + "\n")


def _to_bcf(plain: Path, out: Path) -> None:
    """BCF (and its .csi index) of a plain VCF, through htslib (pysam)."""
    import pysam
    import pysam.bcftools

    with pysam.VariantFile(str(plain)) as src, pysam.VariantFile(str(out), "wb", header=src.header) as dst:
        for record in src:
            dst.write(record)
    pysam.bcftools.index("--csi", "-f", "-o", f"{out}.csi", str(out), catch_stdout=False)

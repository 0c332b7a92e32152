"""Open aligned reads (BAM/CRAM) safely: refuse empty, truncated, unsorted files; index when the index is missing."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from genoscreen.common.errors import InputError

log = logging.getLogger(__name__)

_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def _index_candidates(path: Path) -> list[Path]:
    suffix = ".crai" if path.suffix == ".cram" else ".bai"
    alt = ".csi"
    return [Path(str(path) + suffix), path.with_suffix(suffix), Path(str(path) + alt)]


def has_index(path: str | Path) -> bool:
    """Whether a BAM/CRAM has an index beside it (.bai/.crai, .csi)."""
    return any(p.exists() for p in _index_candidates(Path(path)))


def index_fix(path: str | Path, tool: str = "samtools index") -> str:
    """How to index `path`: `samtools index PATH`, or, when its folder is read-only, how to index a copy."""
    path = Path(path)
    if os.access(path.parent, os.W_OK):
        return f"`{tool} {path}`"
    return f"its folder is read-only, so index a copy: `cp {path} DIR/ && {tool} DIR/{path.name}`"


def ensure_index(path: str | Path, reference: str | Path | None = None) -> None:
    """Index a coordinate-sorted BAM/CRAM that has no index; refuse clearly when that is impossible."""
    import pysam

    path = Path(path)
    if has_index(path):
        return
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"{path}: no index (.bai/.crai/.csi) and {index_fix(path)}")
    log.info("%s: no index; indexing it", path)
    try:
        pysam.index(str(path))
    except pysam.SamtoolsError as err:
        text = str(err).lower()
        where = _unsorted_at(path, reference)
        if where or "unsorted" in text or "not sorted" in text or "no_coor" in text:
            raise InputError(f"{path}: not sorted by coordinate{f' ({where})' if where else ''}, so it cannot be "
                             f"indexed; sort it: `samtools sort -o sorted.bam {path}`") from None
        raise InputError(f"{path}: cannot be indexed ({str(err).strip().splitlines()[-1]}); is it a valid BAM/CRAM?") from None


def _unsorted_at(path: Path, reference: str | Path | None = None) -> str | None:
    """Where the reads first go out of coordinate order ('read r7 at chr1:100 follows chr1:500'); None if never."""
    import pysam

    last, last_text = (-1, -1), ""
    try:
        with pysam.AlignmentFile(str(path), reference_filename=str(reference) if reference else None) as bam:
            for read in bam.fetch(until_eof=True):
                key = (read.reference_id if read.reference_id >= 0 else 1 << 31, read.reference_start)
                text = f"{read.reference_name}:{read.reference_start + 1}" if read.reference_id >= 0 else "unmapped"
                if key < last:
                    return f"read {read.query_name} at {text} follows {last_text}"
                last, last_text = key, text
    except (OSError, ValueError):
        pass
    return None


def stale_index(path: str | Path) -> Path | None:
    """The BAM/CRAM's index when it is older than the file (made for an earlier version of it), else None."""
    path = Path(path)
    if not path.is_file():
        return None
    for idx in _index_candidates(path):
        if idx.exists():
            return idx if idx.stat().st_mtime < path.stat().st_mtime else None
    return None


def _cram_reference_problem(bam, contig: str) -> str | None:
    """Why a CRAM cannot be decoded with its reference on `contig` (other names, other sequence), or None."""
    import hashlib

    import pysam

    ref = bam.reference_filename
    ref = ref.decode() if isinstance(ref, bytes) else ref
    fix = "pass the reference it was written with (--ref), or convert it with that reference: " \
          f"`samtools view -b -T RIGHT.fa -o reads.bam {bam.filename.decode()}`"
    try:
        fasta = pysam.FastaFile(ref)
    except (OSError, ValueError, TypeError):
        return None
    with fasta:
        if contig not in fasta.references:
            shown = ", ".join(fasta.references[:4]) + (", ..." if len(fasta.references) > 4 else "")
            return (f"it was written against a reference with contig {contig}, which {ref} lacks (it names {shown}); "
                    f"a CRAM is decoded by its own contig names (--contig-map cannot rename them); {fix}")
        m5 = {sq["SN"]: sq.get("M5") for sq in bam.header.to_dict().get("SQ", [])}.get(contig)
        if m5 and hashlib.md5(fasta.fetch(contig).upper().encode()).hexdigest() != m5.lower():
            return (f"{ref} is not the reference it was written with (the MD5 of {contig} differs from the header's "
                    f"M5:{m5}); {fix}")
    return None


def read_error(bam, path: str | Path, contig: str, where: str, err: Exception) -> InputError:
    """The InputError for a failed read of `where` (htslib reports most causes as 'truncated file'): a CRAM's wrong
    reference, a stale index, or else a damaged file."""
    path = Path(path)
    cause = _cram_reference_problem(bam, contig) if getattr(bam, "is_cram", False) else None
    if cause:
        return InputError(f"{path}: cannot decode {where}: {cause}")
    idx = stale_index(path)
    if idx is not None:
        return InputError(f"{path}: cannot read {where}: its index {idx} is older than the file (made for an earlier "
                          f"version of it); re-index: {index_fix(path)}")
    return InputError(f"{path}: cannot read {where} ({err}); the file may be truncated or corrupt")


def read_group_sample(path: str | Path, reference: str | Path | None = None) -> str | None:
    """The SM of the BAM's read groups: None when absent; an InputError when read groups disagree, or when the file
    is missing, empty, truncated or not a BAM/CRAM (the checks of `open_alignments`)."""
    with open_alignments(path, reference, index=False) as handle:
        return header_sample(handle.header, path)


def sample_read_groups(groups: list[dict], sample: str, path: str | Path) -> tuple[str, ...]:
    """The IDs of the header's read groups (`@RG` dicts) whose SM is `sample` (a multi-sample BAM keeps only that
    sample's reads), or an InputError naming the samples the BAM has."""
    ids = tuple(rg["ID"] for rg in groups if rg.get("SM") == sample and rg.get("ID"))
    if not ids:
        samples = sorted({rg.get("SM") for rg in groups if rg.get("SM")})
        raise InputError(f"{path}: no read group of sample {sample!r} (the read groups name "
                         f"{', '.join(samples) if samples else 'no sample'}); pass one of those as --sample")
    return ids


def header_sample(header, path: str | Path) -> str | None:
    """The SM of an alignment header's read groups (None when absent; an InputError when they disagree)."""
    samples = sorted({rg.get("SM") for rg in header.to_dict().get("RG", []) if rg.get("SM")})
    if len(samples) > 1:
        raise InputError(f"{path}: read groups name several samples {samples}; pass --sample to choose the VCF's name")
    return samples[0] if samples else None


def open_alignments(path: str | Path, reference: str | Path | None = None, index: bool = True):
    """Open a BAM/CRAM for region queries, after checking it is non-empty, complete, sorted and indexed.

    `reference` is needed for CRAM. Returns a pysam.AlignmentFile.
    """
    import pysam

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: alignment file not found")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: empty file (0 bytes); expected a coordinate-sorted BAM or CRAM")
    with open(path, "rb") as handle:
        magic = handle.read(4)
        is_bgzf = magic[:2] == b"\x1f\x8b"
        if is_bgzf:
            handle.seek(max(0, size - 28))
            if handle.read(28) != _BGZF_EOF:
                raise InputError(
                    f"{path}: truncated (no BGZF end-of-file marker); the file was cut short, copy or regenerate it"
                )
        elif magic != b"CRAM":
            raise InputError(f"{path}: not a BAM or CRAM file (SAM text must be converted: `samtools sort -o out.bam {path}`)")
    if magic == b"CRAM" and reference is None:
        raise InputError(f"{path}: a CRAM needs its reference; pass --ref")
    try:
        bam = pysam.AlignmentFile(str(path), "rc" if magic == b"CRAM" else "rb",
                                  reference_filename=str(reference) if reference else None)
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the alignment header ({err}); is the file complete?") from None
    sort_order = bam.header.to_dict().get("HD", {}).get("SO")
    if sort_order in ("unsorted", "queryname"):
        bam.close()
        raise InputError(
            f"{path}: header says SO:{sort_order}; reads must be sorted by coordinate: "
            f"`samtools sort -o sorted.bam {path} && samtools index sorted.bam`"
        )
    if not bam.references:
        bam.close()
        raise InputError(f"{path}: the header lists no contigs (@SQ); is this an unaligned BAM? Align it first")
    if index:
        ensure_index(path, reference)
        bam.close()
        bam = pysam.AlignmentFile(str(path), "rc" if magic == b"CRAM" else "rb",
                                  reference_filename=str(reference) if reference else None)
        if magic != b"CRAM":
            try:
                mapped = sum(s.mapped for s in bam.get_index_statistics())
            except ValueError:
                mapped = None
            if mapped == 0:
                bam.close()
                raise InputError(f"{path}: no aligned reads; nothing to call from")
    return bam

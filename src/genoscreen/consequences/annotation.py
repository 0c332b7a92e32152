"""Gene annotation: the one reader of GFF3 and GTF files, giving each transcript's coding sequence (CDS) segments.

Lines are parsed by pysam's GFF3/GTF parsers. A transcript's CDS segments come from its CDS features: GFF3 links a
CDS to its mRNA/transcript by `Parent` and the transcript to its gene by `Parent` (the gene's `Name`, else `gene_name`
or its ID, names it); GTF carries `transcript_id` and `gene_name` (else `gene_id`) on every line. A `##FASTA` section
ends the features. Transcripts are checked as the consequences need them: CDS segments on one contig and strand,
not overlapping, the first one in transcript order of phase 0, a total length that is a multiple of 3; a transcript
that fails is kept out with its reason (`Annotation.skipped`), never fatal.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from genoscreen.common.errors import InputError
from genoscreen.common.io import open_text

TRANSCRIPT_FEATURES = {"mRNA", "transcript"}


@dataclasses.dataclass(frozen=True)
class Transcript:
    """A protein-coding transcript: CDS segments as 0-based half-open genomic intervals, in genomic order."""

    id: str
    gene: str
    contig: str
    strand: str  # "+" or "-"
    cds: tuple[tuple[int, int], ...]

    @property
    def start(self) -> int:
        return self.cds[0][0]

    @property
    def end(self) -> int:
        return self.cds[-1][1]

    @property
    def cds_length(self) -> int:
        return sum(e - s for s, e in self.cds)


@dataclasses.dataclass
class Annotation:
    transcripts: list[Transcript]
    skipped: list[tuple[str, str]]  # (transcript id, reason)

    @property
    def contigs(self) -> set[str]:
        return {t.contig for t in self.transcripts}

    def overlapping(self, contig: str, start: int, end: int) -> list[Transcript]:
        """Transcripts whose CDS span [start, end) overlaps (0-based half-open)."""
        return [t for t in self.transcripts if t.contig == contig and t.start < end and start < t.end]


def _feature_lines(path: Path) -> list[str]:
    lines = []
    with open_text(path) as handle:
        for line in handle:
            if line.startswith("##FASTA"):
                break
            if line.strip() and not line.startswith("#"):
                lines.append(line)
    return lines


def read_annotation(path: str | Path) -> Annotation:
    """Read a GFF3 or GTF file (optionally gzipped; the format by its name: .gtf is GTF, anything else GFF3)."""
    import pysam

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: annotation file not found; check the path")
    is_gtf = path.name.removesuffix(".gz").lower().endswith(".gtf")
    lines = _feature_lines(path)
    cds: dict[str, list] = {}
    parents: dict[str, str] = {}  # GFF3: transcript id -> gene id
    names: dict[str, str] = {}  # GFF3: gene id -> name; GTF: transcript id -> gene name
    parser = pysam.asGTF() if is_gtf else pysam.asGFF3()
    for n, line in enumerate(lines, start=1):
        fields = line.rstrip("\n").split("\t")
        try:
            if len(fields) < 9 or not fields[3].isdigit() or not fields[4].isdigit() or int(fields[4]) < int(fields[3]):
                raise ValueError("expected 9 tab-separated columns with 1-based start <= end")
            record = next(iter(pysam.tabix_iterator(io.StringIO(line), parser)))
            attrs = record.to_dict()
        except Exception as err:  # pysam raises several types for a malformed line
            raise InputError(f"{path}: feature line {n} cannot be read as {'GTF' if is_gtf else 'GFF3'} ({err}): "
                             f"{line.strip()[:80]!r}; fix or remove the line") from None
        feature = record.feature
        if is_gtf:
            tid = attrs.get("transcript_id")
            if feature == "CDS" and tid:
                cds.setdefault(tid, []).append(record)
                names.setdefault(tid, attrs.get("gene_name") or attrs.get("gene_id") or tid)
            continue
        ident = attrs.get("ID")
        if feature == "gene" and ident:
            names[ident] = attrs.get("Name") or attrs.get("gene_name") or ident
        elif feature in TRANSCRIPT_FEATURES and ident:
            parents[ident] = (attrs.get("Parent") or ident).split(",")[0]
            if attrs.get("gene_name"):
                names.setdefault(parents[ident], attrs["gene_name"])
        elif feature == "CDS":
            for parent in (attrs.get("Parent") or "").split(","):
                if parent:
                    cds.setdefault(parent, []).append(record)
    transcripts, skipped = [], []
    for tid, records in cds.items():
        gene = names.get(tid) if is_gtf else names.get(parents.get(tid, ""), parents.get(tid, tid))
        built, reason = _transcript(tid, gene or tid, records)
        if built is None:
            skipped.append((tid, reason))
        else:
            transcripts.append(built)
    if not transcripts and not skipped:
        raise InputError(f"{path}: no CDS features; give a GFF3 or GTF annotation with CDS lines")
    transcripts.sort(key=lambda t: (t.contig, t.start, t.id))
    return Annotation(transcripts, skipped)


def _transcript(tid: str, gene: str, records) -> tuple[Transcript | None, str]:
    contigs = {r.contig for r in records}
    strands = {r.strand for r in records}
    if len(contigs) != 1 or len(strands) != 1 or strands - {"+", "-"}:
        return None, "CDS segments on several contigs or strands, or no strand"
    strand = strands.pop()
    segments = sorted((int(r.start), int(r.end)) for r in records)
    if any(b[0] < a[1] for a, b in zip(segments, segments[1:])):
        return None, "overlapping CDS segments"
    first = min(records, key=lambda r: r.start) if strand == "+" else max(records, key=lambda r: r.end)
    if first.frame not in (None, "0", 0, "."):
        return None, f"the first CDS segment has phase {first.frame}: an incomplete 5' end"
    length = sum(e - s for s, e in segments)
    if length % 3:
        return None, f"CDS length {length} is not a multiple of 3"
    return Transcript(tid, gene, contigs.pop(), strand, tuple(segments)), ""

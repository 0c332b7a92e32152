"""A tiny synthetic genome, reads and truth for variant tests, generated into a temp folder (nothing committed).

`make_dataset(tmp)` writes ref.fa (+.fai), reads.bam (+.bai) and truth.vcf.gz (+.tbi): contig `chrS`, 6 kb,
~30x of 100 bp single-end reads from two haplotypes carrying a het SNV, a hom SNV, a het 3 bp deletion,
a het 2 bp insertion and a 1/2 multi-allelic SNV site.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pysam

CONTIG = "chrS"
LENGTH = 6000
READ_LEN = 100


@dataclasses.dataclass
class Var:
    pos: int  # 0-based anchor
    ref: str
    alts: tuple[str, ...]
    gt: tuple[int, int]


def random_genome(seed: int = 7, length: int = LENGTH) -> str:
    """A random ACGT sequence, the same for the same seed."""
    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(length))


def variants(ref: str) -> list[Var]:
    def other(b, k=1):
        return [x for x in "ACGT" if x != b][k - 1]

    # pick positions whose neighbourhood keeps indels unambiguous (distinct flanking bases)
    return [
        Var(1000, ref[1000], (other(ref[1000]),), (0, 1)),
        Var(2000, ref[2000], (other(ref[2000]),), (1, 1)),
        Var(3000, ref[3000:3004], (ref[3000],), (1, 0)),
        Var(4000, ref[4000], (ref[4000] + "".join(other(ref[4001], 2) for _ in range(2)),), (0, 1)),
        Var(5000, ref[5000], (other(ref[5000], 1), other(ref[5000], 2)), (1, 2)),
    ]


def _read(ref: str, start: int, hap: int, vs: list[Var]) -> tuple[str, list[tuple[int, int]]] | None:
    """Sequence and CIGAR of a READ_LEN read starting at ref `start` on haplotype `hap`."""
    by_pos = {v.pos: v for v in vs if v.gt[hap] > 0}
    seq, cigar = [], []

    def add(op, n=1):
        if cigar and cigar[-1][0] == op:
            cigar[-1] = (op, cigar[-1][1] + n)
        else:
            cigar.append((op, n))

    p = start
    while len(seq) < READ_LEN and p < len(ref):
        v = by_pos.get(p)
        if v is not None:
            alt = v.alts[v.gt[hap] - 1]
            if len(v.ref) == len(alt):
                seq.append(alt)
                add(0)
                p += 1
                continue
            seq.append(ref[p])
            add(0)
            if len(alt) > len(v.ref):  # insertion after p
                ins = alt[1:]
                if len(seq) + len(ins) >= READ_LEN:
                    return None
                seq.extend(ins)
                add(1, len(ins))
                p += 1
            else:
                if len(seq) == READ_LEN:
                    break
                add(2, len(v.ref) - 1)
                p += len(v.ref)
            continue
        seq.append(ref[p])
        add(0)
        p += 1
    if len(seq) < READ_LEN or cigar[-1][0] != 0:
        return None
    return "".join(seq), cigar


def write_reference(path: Path, seq: str, contig: str = CONTIG) -> Path:
    with open(path, "w") as handle:
        handle.write(f">{contig}\n")
        for i in range(0, len(seq), 60):
            handle.write(seq[i:i + 60] + "\n")
    pysam.faidx(str(path))
    return path


def write_bam(path: Path, ref: str, vs: list[Var], *, contig: str = CONTIG, coverage: int = 30, seed: int = 1,
              sort_order: str = "coordinate", shuffle: bool = False, index: bool = True, n_reads: int | None = None) -> Path:
    rng = random.Random(seed)
    n = n_reads if n_reads is not None else coverage * len(ref) // READ_LEN
    starts = sorted(rng.randrange(0, len(ref) - READ_LEN - 5) for _ in range(n))
    reads = []
    for i, s in enumerate(starts):
        r = _read(ref, s, i % 2, vs)
        if r is None:
            continue
        seq, cigar = r
        a = pysam.AlignedSegment()
        a.query_name = f"r{i}"
        a.query_sequence = seq
        a.flag = 16 if rng.random() < 0.5 else 0
        a.reference_id = 0
        a.reference_start = s
        a.mapping_quality = 60
        a.cigartuples = cigar
        a.query_qualities = pysam.qualitystring_to_array("I" * len(seq))
        reads.append(a)
    if shuffle:
        rng.shuffle(reads)
    header = {"HD": {"VN": "1.6", "SO": sort_order}, "SQ": [{"SN": contig, "LN": len(ref)}]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for a in reads:
            out.write(a)
    if index:
        pysam.index(str(path))
    return path


def write_truth(path: Path, vs: list[Var], *, contig: str = CONTIG, length: int = LENGTH) -> Path:
    plain = path.with_suffix("") if path.suffix == ".gz" else path
    with open(plain, "w") as handle:
        handle.write("##fileformat=VCFv4.2\n")
        handle.write(f"##contig=<ID={contig},length={length}>\n")
        handle.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        handle.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTRUTH\n")
        for v in vs:
            handle.write(f"{contig}\t{v.pos + 1}\t.\t{v.ref}\t{','.join(v.alts)}\t50\tPASS\t.\tGT\t{v.gt[0]}/{v.gt[1]}\n")
    if path.suffix == ".gz":
        pysam.tabix_index(str(plain), preset="vcf", force=True)
    return path


@dataclasses.dataclass
class Dataset:
    folder: Path
    ref: Path
    bam: Path
    truth: Path
    seq: str
    variants: list[Var]


def make_dataset(folder: Path, contig: str = CONTIG, **bam_kwargs) -> Dataset:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seq = random_genome()
    vs = variants(seq)
    ref = write_reference(folder / "ref.fa", seq, contig)
    bam = write_bam(folder / "reads.bam", seq, vs, contig=contig, **bam_kwargs)
    truth = write_truth(folder / "truth.vcf.gz", vs, contig=contig)
    return Dataset(folder, ref, bam, truth, seq, vs)

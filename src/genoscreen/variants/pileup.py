"""Pileup tensors: one uint8 image [height, width, channels] per candidate and alt-allele set.

Rows: `ref_rows` reference rows, then up to `max_reads` reads covering the candidate, sorted by alignment start
(reads past `max_reads` are dropped by a deterministic per-site random choice). Columns: `width` reference
positions centred on the candidate. Channel values (0..255, as DeepVariant):

- read_base: A 250, G 180, T 100, C 30, N / gap / no read 0
- base_quality: min(q, 40) / 40 * 255;  mapping_quality: min(mq, 60) / 60 * 255 (reference rows: 255)
- strand: forward 70, reverse 240
- read_supports_variant: 255 when the read carries one of the example's alts, 127 when not
- base_differs_from_ref: 255 where the read's base (or a deletion) differs from the reference
- allele_is_indel: read rows 255 at a base followed by an insertion or deletion, and at deleted bases;
  reference rows 255 across when one of the example's alts is an indel
- site_pl_hom_ref, site_pl_het, site_pl_hom_alt: the whole image holds min(2 PL, 255), where PL is the site's
  Phred-scaled genotype likelihood (0, 1, 2 copies of the example's alts) under a per-read binomial error model
  (see `site_likelihoods`), normalised so the likeliest genotype has PL 0. A per-site summary as in Clair3's pileup
  model: the counting a classical caller does, given to the network directly instead of left for it to learn from
  rows that a mean over read rows mixes with empty ones.
"""

from __future__ import annotations

import zlib

import numpy as np

from genoscreen.variants.candidates import GAP, Candidate, ReadRows, encode_bases
from genoscreen.variants.pileup_config import PileupConfig

_BASE_VALUE = np.array([0, 250, 30, 180, 100, 0, 0], dtype=np.uint8)  # NONE A C G T N GAP
_QUAL_VALUE = (np.minimum(np.arange(256), 40) * 255 // 40).astype(np.uint8)
_MAPQ_VALUE = (np.minimum(np.arange(256), 60) * 255 // 60).astype(np.uint8)

SITE_PL_CHANNELS = ("site_pl_hom_ref", "site_pl_het", "site_pl_hom_alt")
_MIN_ERROR = 10 ** -4.5  # a read's error probability never goes below Q45
_ALT_FRACTIONS = np.array([0.0, 0.5, 1.0])[:, None]  # the alt's share of the reads under 0, 1, 2 copies

_FILLERS = {
    "read_base", "base_quality", "mapping_quality", "strand", "read_supports_variant", "base_differs_from_ref",
    "allele_is_indel", *SITE_PL_CHANNELS,
}


def check_channels(config: PileupConfig) -> None:
    unknown = [c for c in config.channels if c not in _FILLERS]
    if unknown:
        raise ValueError(f"pileup channels {unknown} are not implemented (known: {sorted(_FILLERS)})")
    if config.width % 2 != 1:
        raise ValueError("pileup width must be odd so the candidate sits in the centre column")


def select_reads(rows: ReadRows, contig: str, pos: int, max_reads: int, also: np.ndarray | None = None) -> np.ndarray:
    """Reads covering `pos`, plus the rows in `also` (a candidate's supporters: a realigned soft-clipped read may
    support an indel whose position its aligned part does not reach), deterministically downsampled to
    `max_reads`, sorted by start."""
    idx = rows.covering(pos)
    if also is not None and len(also):
        idx = np.union1d(idx, also)
    if len(idx) > max_reads:
        rng = np.random.default_rng((zlib.crc32(contig.encode()), pos))
        idx = np.sort(rng.choice(idx, size=max_reads, replace=False))
    return idx


def site_likelihoods(qual: np.ndarray, mapq: np.ndarray, support: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Phred-scaled genotype likelihoods [PL(0), PL(1), PL(2) copies of the alt], min 0, of one site.

    Each read carries the alt (`support`), another allele (`other`: it neither counts for nor against) or the
    reference, with error probability e = 10^(-min(base quality, mapping quality)/10) (floored at Q45; a read with
    no base quality at the site, e.g. a deletion, uses its mapping quality). P(read | g) = f (1-e) + (1-f) e for an
    alt read and f e + (1-f)(1-e) for a reference read, f = g / 2: the bcftools / GATK per-read model with two alleles.
    """
    q = np.where(qual > 0, np.minimum(qual, mapq), mapq).astype(np.float64)
    e = np.maximum(10.0 ** (-q / 10.0), _MIN_ERROR)[~other]
    alt = support[~other]
    f = _ALT_FRACTIONS
    p = np.where(alt[None, :], f * (1 - e) + (1 - f) * e, f * e + (1 - f) * (1 - e))
    ll = np.log10(np.maximum(p, 1e-300)).sum(axis=1)
    return -10.0 * (ll - ll.max())


def build_tensor(rows: ReadRows, ref_window: np.ndarray, cand: Candidate, alt_set: tuple[int, ...],
                 config: PileupConfig, reads: np.ndarray) -> np.ndarray:
    """The [H, W, C] uint8 tensor of one example. `ref_window` holds the reference base codes of the columns."""
    H, W, C = config.shape
    half = W // 2
    out = np.zeros((H, W, C), dtype=np.uint8)
    k = len(reads)
    cols = cand.pos - half - rows.start[reads][:, None] + np.arange(W)[None, :]
    valid = (cols >= 0) & (cols < (rows.end - rows.start)[reads][:, None])
    safe = np.where(valid, cols, 0)
    base = np.where(valid, rows.base[reads[:, None], safe], 0)
    qual = np.where(valid, rows.qual[reads[:, None], safe], 0)
    indel = valid & rows.indel[reads[:, None], safe]
    present = base > 0
    member = [np.isin(reads, s) for s in cand.supporters]  # per alt: which rows support it
    support = np.logical_or.reduce([member[a - 1] for a in alt_set])
    alt_is_indel = any(cand.is_indel[a - 1] for a in alt_set)
    if any(name in SITE_PL_CHANNELS for name in config.channels):
        other = np.logical_or.reduce(member) & ~support
        if not alt_is_indel:  # an SNV site: a read whose base is neither REF nor a supporting one counts for neither
            centre = base[:, half]
            other |= ~support & (centre != ref_window[half])
        pl = site_likelihoods(qual[:, half], rows.mapq[reads], support, other)
        pl_values = np.minimum(np.rint(2.0 * pl), 255).astype(np.uint8)
    R = config.ref_rows
    body = slice(R, R + k)
    for ci, name in enumerate(config.channels):
        if name == "read_base":
            out[:R, :, ci] = _BASE_VALUE[ref_window][None, :]
            out[body, :, ci] = _BASE_VALUE[base]
        elif name == "base_quality":
            out[:R, :, ci] = 255
            out[body, :, ci] = np.where(base == GAP, 0, _QUAL_VALUE[qual]) * present
        elif name == "mapping_quality":
            out[:R, :, ci] = 255
            out[body, :, ci] = _MAPQ_VALUE[rows.mapq[reads]][:, None] * present
        elif name == "strand":
            out[:R, :, ci] = 70
            out[body, :, ci] = np.where(rows.reverse[reads], 240, 70)[:, None] * present
        elif name == "read_supports_variant":
            out[body, :, ci] = np.where(support, 255, 127)[:, None] * present
        elif name == "base_differs_from_ref":
            out[body, :, ci] = (present & (base != ref_window[None, :])) * np.uint8(255)
        elif name == "allele_is_indel":
            out[:R, :, ci] = 255 if alt_is_indel else 0
            out[body, :, ci] = indel * np.uint8(255)
        elif name in SITE_PL_CHANNELS:
            out[:, :, ci] = pl_values[SITE_PL_CHANNELS.index(name)]
    return out


def ref_window_codes(ref_str: str, offset: int, pos: int, width: int) -> np.ndarray:
    """Reference base codes of the `width` columns centred on `pos`; `ref_str` starts at `offset`."""
    half = width // 2
    lo = pos - half - offset
    seg = ref_str[max(0, lo): lo + width]
    codes = encode_bases(seg) if seg else np.zeros(0, np.uint8)
    out = np.zeros(width, dtype=np.uint8)
    out[max(0, -lo): max(0, -lo) + len(codes)] = codes
    return out

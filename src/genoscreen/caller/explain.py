"""Why a variant was called: integrated gradients of the called genotype's probability onto its pileup tensor.

For a variant of a VCF that genoscreen wrote, the site's pileup is made again from the BAM (make-examples, the
model's pileup config) and the example whose alt alleles are the record's is explained: integrated gradients of the
network's probability of the called genotype (0, 1 or 2 copies of the alt; before calibration, which is monotone)
from a featureless baseline, the pileup with every channel at its mean value over the pileup (the same average
intensities, no pattern), along the straight path, midpoint rule. (The all-zero pileup cannot serve: the network
normalises its first layer's output, so every scaled copy of a pileup scores alike and the path from zero is flat
until a jump at zero.) Attributions sum to p(input) − p(baseline) (`completeness_error` says how far). They are reported per read row (row 0-3: the
reference rows) and per channel (how much came from base identity, base quality, mapping quality, strand,
supports-allele ...), and drawn over the pileup (`genoscreen explain call`).
"""

from __future__ import annotations

import dataclasses
import logging
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from genoscreen.common.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_STEPS = 128


@dataclasses.dataclass
class CallExplanation:
    contig: str
    pos: int
    ref: str
    alts: str
    genotype: int  # copies of the alt explained
    probability: float
    baseline: float
    tensor: np.ndarray  # uint8 [H, W, C]
    attribution: np.ndarray  # float [H, W, C]
    channels: tuple[str, ...]

    @property
    def completeness_error(self) -> float:
        gap = self.probability - self.baseline
        return abs(float(self.attribution.sum()) - gap) / max(abs(gap), 1e-9)

    def per_row(self) -> np.ndarray:
        return self.attribution.sum(axis=(1, 2))

    def per_channel(self) -> dict[str, float]:
        return {name: float(v) for name, v in zip(self.channels, self.attribution.sum(axis=(0, 1)))}


def _probability(model, z, genotypes):
    """The probability of each site's genotype [n]."""
    return jnp.take_along_axis(jax.nn.softmax(model(z), axis=-1), genotypes[:, None], axis=1)[:, 0]


@partial(jax.jit, static_argnums=0, donate_argnums=5)
def _ig_step(graphdef, state, x, baseline, genotypes, acc, alpha):
    model = nnx.merge(graphdef, state)
    grad = jax.grad(lambda z: _probability(model, z, genotypes).sum())  # rows are independent sites
    return acc + grad(baseline + alpha * (x - baseline))


@partial(jax.jit, static_argnums=0)
def _probabilities(graphdef, state, x, genotypes):
    return _probability(nnx.merge(graphdef, state), x, genotypes)


def _integrated_gradients(graphdef, state, x, baseline, genotypes, steps: int):
    """Rows of `x` [n, H, W, C] are independent sites: (attributions [n, H, W, C], p(x) [n], p(baseline) [n]).
    One jitted gradient call per step, from Python (XLA's CPU backend runs a lax.scan body several times slower)."""
    acc = jnp.zeros_like(x)
    for alpha in (np.arange(steps, dtype=np.float32) + 0.5) / steps:  # midpoint rule
        acc = _ig_step(graphdef, state, x, baseline, genotypes, acc, alpha)
    return ((x - baseline) * acc / steps, _probabilities(graphdef, state, x, genotypes),
            _probabilities(graphdef, state, baseline, genotypes))


def featureless_baseline(tensors: np.ndarray) -> np.ndarray:
    """Each pileup with every channel at its mean over the pileup: the same intensities, no pattern."""
    x = tensors.astype(np.float32)
    return np.broadcast_to(x.mean(axis=(1, 2), keepdims=True), x.shape)


def explain_sites(model, tensors: np.ndarray, genotypes, steps: int = DEFAULT_STEPS, batch: int = 16) -> tuple:
    """(attributions [n, H, W, C], p(genotype | tensor) [n], p(genotype | baseline) [n]) for uint8 tensors
    [n, H, W, C], in batches of `batch` sites (one compiled shape: the last batch is padded)."""
    graphdef, state = nnx.split(model)
    genotypes = np.asarray(genotypes, np.int32)
    n = len(tensors)
    attributions, probs, bases = [], [], []
    for start in range(0, n, batch):
        x = tensors[start : start + batch].astype(np.float32)
        g = genotypes[start : start + batch]
        k = len(x)
        if k < batch:  # padded with copies of the last site
            x = np.concatenate([x, np.repeat(x[-1:], batch - k, axis=0)])
            g = np.concatenate([g, np.repeat(g[-1:], batch - k)])
        a, p, b = _integrated_gradients(graphdef, state, jnp.asarray(x), jnp.asarray(featureless_baseline(x)),
                                        jnp.asarray(g), steps)
        attributions.append(np.asarray(a)[:k])
        probs.append(np.asarray(p)[:k])
        bases.append(np.asarray(b)[:k])
    return np.concatenate(attributions), np.concatenate(probs), np.concatenate(bases)


def explain_site(model, pileup, tensor: np.ndarray, genotype: int, steps: int = DEFAULT_STEPS) -> tuple:
    """(attribution [H, W, C], p(genotype | tensor), p(genotype | baseline)) for one uint8 tensor [H, W, C]."""
    attribution, prob, base = explain_sites(model, tensor[None], [genotype], steps, batch=1)
    return attribution[0], float(prob[0]), float(base[0])


def _parse_site(site: str) -> tuple[str, int]:
    contig, sep, pos = site.rpartition(":")
    if not sep or not contig or not pos.replace(",", "").isdigit():
        raise InputError(f"--site {site}: expected CONTIG:POS (1-based), e.g. chr20:10001234")
    return contig, int(pos.replace(",", ""))


def _called_record(vcf: str | Path, contig: str, pos: int):
    """(REF, ALTs, alt copies called) of the VCF's record at contig:pos, or an InputError."""
    import pysam

    try:
        handle = pysam.VariantFile(str(vcf))
    except (OSError, ValueError) as err:
        raise InputError(f"{vcf}: cannot read the VCF ({err}); give the VCF genoscreen wrote") from None
    with handle:
        if contig not in handle.header.contigs:
            raise InputError(f"{vcf}: no contig {contig} in its header; give a site on one of its contigs")
        try:
            records = [r for r in handle.fetch(contig, pos - 1, pos) if r.pos == pos]
        except (ValueError, OSError):  # no index: read it through
            records = [r for r in handle if r.contig == contig and r.pos == pos]
        sample = next(iter(handle.header.samples), None)
        if not records or sample is None:
            raise InputError(f"{vcf}: no variant at {contig}:{pos}; give the position of a record of the VCF")
        record = records[0]
        gt = [a for a in (record.samples[sample].get("GT") or ()) if a is not None]
        return record.ref, tuple(record.alts or ()), sum(1 for a in gt if a)


def _nonref_records(vcf: str | Path, regions: str) -> list[tuple[str, int, str, tuple[str, ...], int]]:
    """(contig, pos, REF, ALTs, alt copies called) of every record of `vcf` in `regions` whose genotype carries an
    alt allele (PASS or not: what was called), in file order."""
    import pysam

    from genoscreen.variants.regions import parse_regions

    try:
        handle = pysam.VariantFile(str(vcf))
    except (OSError, ValueError) as err:
        raise InputError(f"{vcf}: cannot read the VCF ({err}); give the VCF genoscreen wrote") from None
    out = []
    with handle:
        sample = next(iter(handle.header.samples), None)
        if sample is None:
            raise InputError(f"{vcf}: no sample column; give the VCF genoscreen wrote")
        lengths = {name: contig.length for name, contig in handle.header.contigs.items()}
        for region in parse_regions(regions, lengths):
            try:
                records = handle.fetch(region.contig, region.start, region.end)
            except (ValueError, OSError):
                raise InputError(f"{vcf}: cannot fetch {region.contig}:{region.start + 1}-{region.end} (no index?); "
                                 f"index it with `bcftools index -t {vcf}`") from None
            for record in records:
                gt = [a for a in (record.samples[sample].get("GT") or ()) if a is not None]
                if any(gt):
                    out.append((record.contig, record.pos, record.ref, tuple(record.alts or ()),
                                sum(1 for a in gt if a)))
    return out


def explain_call(bam, ref, vcf, site: str | None, out_dir, model_dir=None, steps: int = DEFAULT_STEPS,
                 regions: str | None = None) -> list[CallExplanation]:
    """`genoscreen explain call`: explain the call at `site` of `vcf` into `out_dir` (TSVs and a PNG), or with
    `regions` every call of `vcf` there carrying an alt allele, one subfolder each plus `out_dir`/summary.tsv."""
    from genoscreen.caller.model import load_model
    from genoscreen.caller.pipeline import default_model_dir
    from genoscreen.common.io import atomic_path, check_outputs
    from genoscreen.variants.make_examples import plan, planned_examples

    if (site is None) == (regions is None):
        raise InputError("give --site CONTIG:POS (one call) or --regions REGIONS (every call there), not both")
    model_dir = Path(model_dir) if model_dir else default_model_dir()
    check_outputs({"--out": Path(out_dir)}, {"--bam": bam, "--ref": ref, "--vcf": vcf})
    if site is not None:
        contig, pos = _parse_site(site)
        record_ref, record_alts, copies = _called_record(vcf, contig, pos)
        calls = [(contig, pos, record_ref, record_alts, copies)]
        span = f"{contig}:{pos}-{pos}"
    else:
        calls = _nonref_records(vcf, regions)
        span = ",".join(sorted({f"{c}:{p}-{p}" for c, p, *_ in calls}))
    model, pileup, _ = load_model(model_dir)
    tensors = {}
    if calls:
        wanted = {(c, p, r, frozenset(a)) for c, p, r, a, _ in calls}
        for chunk in planned_examples(plan(bam, ref, span, config=pileup), 1):
            for i in range(len(chunk["pos"])):
                alts = tuple(str(chunk["alts"][i]).split(","))
                key = (str(chunk["contig"][i]), int(chunk["pos"][i]), str(chunk["ref"][i]), frozenset(alts))
                if key in wanted:
                    tensors[key] = (chunk["tensors"][i], alts)
    found = [(call, tensors.get((call[0], call[1], call[2], frozenset(call[3])))) for call in calls]
    missing = [call for call, hit in found if hit is None]
    if site is not None and missing:
        contig, pos, record_ref, record_alts, _ = calls[0]
        raise InputError(f"{bam}: no candidate at {contig}:{pos} {record_ref}>{','.join(record_alts)} in the reads; "
                         "check that --bam and --ref are the ones the VCF was called from")
    for contig, pos, record_ref, record_alts, _ in missing:
        log.warning("%s:%d %s>%s: no candidate in the reads; not explained (are --bam and --ref the ones the VCF was "
                    "called from?)", contig, pos, record_ref, ",".join(record_alts))
    found = [(call, hit) for call, hit in found if hit is not None]
    explanations = []
    if found:
        stack = np.stack([hit[0] for _, hit in found])
        attributions, probs, bases = explain_sites(model, stack, [call[4] for call, _ in found], steps)
        for k, ((contig, pos, record_ref, _, copies), (tensor, alts)) in enumerate(found):
            explanations.append(CallExplanation(contig, pos, record_ref, ",".join(alts), copies, float(probs[k]),
                                                float(bases[k]), tensor, attributions[k], tuple(pileup.channels)))
    out_dir = Path(out_dir)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        if site is not None:
            write_call_files(explanations[0], tmp)
        else:
            lines = [SUMMARY_HEADER + "\tfolder\n"]
            for e in explanations:
                folder = call_folder(e)
                (tmp / folder).mkdir()
                write_call_files(e, tmp / folder)
                lines.append(_summary_line(e) + f"\t{folder}\n")
            (tmp / "summary.tsv").write_text("".join(lines))
        if out_dir.exists():
            import shutil

            shutil.rmtree(out_dir)
    worst = max((e.completeness_error for e in explanations), default=0.0)
    if worst > 0.01:
        log.warning("attributions miss p(x) - p(baseline) by up to %.1f%%; raise --steps above %d", 100 * worst, steps)
    if regions is not None:
        log.info("%d call(s) in %s explained into %s", len(explanations), regions, out_dir)
    return explanations


SUMMARY_HEADER = "contig\tpos\tref\talts\tgenotype\tprobability\tbaseline\tattribution_sum\tcompleteness_error"


def _summary_line(e: CallExplanation) -> str:
    return (f"{e.contig}\t{e.pos}\t{e.ref}\t{e.alts}\t{e.genotype}\t{e.probability:.6f}\t{e.baseline:.6f}\t"
            f"{float(e.attribution.sum()):.6f}\t{e.completeness_error:.6f}")


def call_folder(e: CallExplanation) -> str:
    """The subfolder of one call's files under `explain call --regions`' output: CONTIG_POS_REF_ALTS."""
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{e.contig}_{e.pos}_{e.ref}_{e.alts}")[:120]


def write_call_files(e: CallExplanation, folder: Path) -> None:
    """FOLDER/summary.tsv, rows.tsv, channels.tsv and pileup.png of one call (the folder exists)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tmp = Path(folder)
    (tmp / "summary.tsv").write_text(SUMMARY_HEADER + "\n" + _summary_line(e) + "\n")  # baseline: p(featureless)
    rows = e.per_row()
    (tmp / "rows.tsv").write_text("row\tkind\tattribution\n" + "".join(
        f"{i}\t{'reference' if i < 4 else 'read'}\t{v:.6g}\n" for i, v in enumerate(rows)))
    (tmp / "channels.tsv").write_text("channel\tattribution\n" + "".join(
        f"{k}\t{v:.6g}\n" for k, v in e.per_channel().items()))
    fig, axes = plt.subplots(1, 3, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    axes[0].imshow(e.tensor[:, :, 0], cmap="gray", aspect="auto", interpolation="nearest")
    axes[0].set_title(f"{e.contig}:{e.pos} {e.ref}>{e.alts}: read bases", fontsize=9)
    heat = e.attribution.sum(axis=2)
    limit = max(float(np.abs(heat).max()), 1e-12)
    axes[1].imshow(heat, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    axes[1].set_title(f"attribution to p({e.genotype} alt copies) = {e.probability:.3f}", fontsize=9)
    channels = e.per_channel()
    axes[2].barh(list(channels), list(channels.values()), color="#4477aa")
    axes[2].set_title("per channel", fontsize=9)
    axes[2].tick_params(axis="y", labelsize=7)
    for ax in axes[:2]:
        ax.set_xlabel("column (candidate in the centre)")
        ax.set_ylabel("row (0-3 reference)")
    fig.tight_layout()
    fig.savefig(tmp / "pileup.png", dpi=90)
    plt.close(fig)

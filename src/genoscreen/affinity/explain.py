"""Why the affinity model predicts what it does: integrated gradients of a pair's prediction onto its inputs.

Integrated gradients (Sundararajan et al. 2017) of the prediction f(d, t) with respect to the one-hot encodings of
the drug's SMILES characters and the target's residues, from the baseline of all-zero encodings (every position
present, but carrying no character: what DeepDTA's padding embeds to) along the straight path, with `steps`
midpoint-rule steps. The attributions of all characters and residues sum to f(input) − f(baseline) (completeness);
`Explanation.completeness_error` is how far the sum is from it, relative to |f(input) − f(baseline)|.

Characters map to atoms through the standardised SMILES the model read (`featurize.standardize_smiles`): an atom's
attribution is the sum over its characters (`Cl`, `[nH]`, `[C@@H]`); bonds, branches and ring digits are kept
apart as `structure`. Pairs are scored in batches: each integration step of a batch of pairs is one jitted
gradient call, and the model's state is an argument (never a closure).
"""

from __future__ import annotations

import dataclasses
import re
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from genoscreen.affinity.featurize import PROTEIN_VOCAB, SMILES_VOCAB, encode, standardize_smiles, vocab_size

DEFAULT_STEPS = 128  # midpoint steps; ReLU and max-pool kinks need ~100 for completeness within 1%
# The SMILES tokens that are atoms, as the usual SMILES tokenizer writes them (bracket atoms, two-letter halogens).
_ATOM = re.compile(r"(\[[^\]]+\]|Br|Cl|Si|Se|se|as|B|C|N|O|P|S|F|I|b|c|n|o|p|s|\*)")


@dataclasses.dataclass
class Explanation:
    """Attributions of one pair's prediction: per SMILES character and per residue (cut to the model's lengths)."""

    drug_id: str
    target_id: str
    smiles: str  # the standardised SMILES (the model read its first max_drug_len characters)
    prediction: float
    baseline: float
    drug: np.ndarray  # [len(smiles read)]
    target: np.ndarray  # [len(sequence read)]
    sequence: str = ""  # the residues read

    @property
    def total(self) -> float:
        return float(self.drug.sum() + self.target.sum())

    @property
    def completeness_error(self) -> float:
        """|Σ attributions − (f(x) − f(baseline))| / |f(x) − f(baseline)|."""
        gap = self.prediction - self.baseline
        return abs(self.total - gap) / max(abs(gap), 1e-9)

    def atoms(self) -> tuple[list[float], float]:
        """(attribution per atom in RDKit's atom order of `smiles`, the sum over non-atom characters)."""
        from rdkit import Chem

        mol = Chem.MolFromSmiles(self.smiles)
        per_atom = [0.0] * mol.GetNumAtoms()
        Chem.MolToSmiles(mol)  # writes _smilesAtomOutputOrder for the canonical SMILES, which `smiles` is
        order = list(mol.GetPropsAsDict(True, True)["_smilesAtomOutputOrder"])
        structure, atom_k, covered = 0.0, 0, 0
        for match in _ATOM.finditer(self.smiles):
            structure += float(self.drug[covered : match.start()].sum())
            if atom_k < len(order):
                per_atom[order[atom_k]] += float(self.drug[match.start() : match.end()].sum())
            atom_k += 1
            covered = match.end()
        structure += float(self.drug[covered:].sum())
        return per_atom, structure


def _onehot(tokens: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[tokens] * (tokens != 0)[..., None]


def _branch_from_onehot(branch, onehot: jax.Array, mask: jax.Array) -> jax.Array:
    """`CNNBranch.__call__` on a (relaxed) one-hot input with a fixed mask of the real positions."""
    table = branch.embed.embedding[...].at[0].set(0.0)
    kernel = jnp.einsum("ve,keo->kvo", table, branch.conv1.kernel[...])
    x = jax.lax.conv_general_dilated(onehot, kernel, (1,), "SAME", dimension_numbers=("NWC", "WIO", "NWC"))
    x = jax.nn.relu(x + branch.conv1.bias[...]) * mask
    x = jax.nn.relu(branch.conv2(x)) * mask
    x = jax.nn.relu(branch.conv3(x)) * mask
    return jnp.max(x, axis=1)


def _forward(model, drug_onehot, target_onehot, masks):
    drug_mask, target_mask = masks
    return model.head(_branch_from_onehot(model.drug_branch, drug_onehot, drug_mask),
                      _branch_from_onehot(model.target_branch, target_onehot, target_mask))


@partial(jax.jit, static_argnums=0)
def predict_onehot(graphdef, state, drug_onehot, target_onehot, masks):
    """The model's predictions [n] on (relaxed) one-hot encodings with fixed masks of the real positions: a
    position whose one-hot row is zeroed is deleted (it carries no character, as padding), the rest unchanged."""
    return _forward(nnx.merge(graphdef, state), drug_onehot, target_onehot, masks)


@partial(jax.jit, static_argnums=0, donate_argnums=5)
def _ig_step(graphdef, state, drug_onehot, target_onehot, masks, acc, alpha):
    """acc + the gradient of every pair's prediction at the point alpha * x of the straight path."""
    model = nnx.merge(graphdef, state)
    grad = jax.grad(lambda d, t: _forward(model, d, t, masks).sum(), argnums=(0, 1))  # rows are independent pairs
    gd, gt = grad(alpha * drug_onehot, alpha * target_onehot)
    return acc[0] + gd, acc[1] + gt


def _integrated_gradients(graphdef, state, drug_onehot, target_onehot, masks, steps: int):
    """(attributions onto drug [n, Ld, V], onto target [n, Lt, V], f(input) [n], f(baseline) [n]).

    One jitted gradient call per step, from Python: XLA's CPU backend runs a loop body (lax.scan) about 7x slower
    than the same computation called step by step (measured by bench/explain.py against its cost bound)."""
    drug_onehot, target_onehot = jnp.asarray(drug_onehot), jnp.asarray(target_onehot)
    masks = tuple(jnp.asarray(m) for m in masks)
    acc = (jnp.zeros_like(drug_onehot), jnp.zeros_like(target_onehot))
    for alpha in (np.arange(steps, dtype=np.float32) + 0.5) / steps:  # midpoint rule
        acc = _ig_step(graphdef, state, drug_onehot, target_onehot, masks, acc, alpha)
    zeros = (jnp.zeros_like(drug_onehot), jnp.zeros_like(target_onehot))
    return (drug_onehot * acc[0] / steps, target_onehot * acc[1] / steps,
            predict_onehot(graphdef, state, drug_onehot, target_onehot, masks),
            predict_onehot(graphdef, state, *zeros, masks))


def onehot_inputs(config, smiles: list[str], sequences: list[str], size: int | None = None) -> tuple:
    """(drug one-hot [n, Ld, V], target one-hot [n, Lt, V], masks, standardised SMILES) of pairs given by their
    SMILES and sequences, padded with empty rows to `size` pairs (one compiled shape per batch size)."""
    standard = [standardize_smiles(s) for s in smiles]
    d, _, _ = encode(standard, config.max_drug_len, SMILES_VOCAB)
    t, _, _ = encode([s.upper() for s in sequences], config.max_target_len, PROTEIN_VOCAB)
    pad = (size or len(d)) - len(d)
    if pad:
        d = np.concatenate([d, np.zeros((pad, d.shape[1]), d.dtype)])
        t = np.concatenate([t, np.zeros((pad, t.shape[1]), t.dtype)])
    masks = ((d != 0)[..., None].astype(np.float32), (t != 0)[..., None].astype(np.float32))
    return _onehot(d, vocab_size(SMILES_VOCAB)), _onehot(t, vocab_size(PROTEIN_VOCAB)), masks, standard


def explain_pairs(model, config, drug_ids: list[str], smiles: list[str], target_ids: list[str],
                  sequences: list[str], steps: int = DEFAULT_STEPS, batch: int = 8) -> list[Explanation]:
    """Integrated gradients of each pair (drug_ids[i], target_ids[i]); `smiles` and `sequences` per pair."""
    graphdef, state = nnx.split(model)
    out = []
    for start in range(0, len(drug_ids), batch):
        stop = min(start + batch, len(drug_ids))
        d, t, masks, standard = onehot_inputs(config, smiles[start:stop], sequences[start:stop], batch)
        ad, at, fx, f0 = _integrated_gradients(graphdef, state, d, t, masks, steps)
        ad, at, fx, f0 = (np.asarray(a) for a in (ad, at, fx, f0))
        for k in range(stop - start):
            i = start + k
            ld, lt = int(masks[0][k].sum()), int(masks[1][k].sum())
            out.append(Explanation(drug_ids[i], target_ids[i], standard[k], float(fx[k]),
                                   float(f0[k]), ad[k, :ld].sum(-1), at[k, :lt].sum(-1),
                                   sequences[i].upper()[: config.max_target_len]))
    return out


def write_explanations(explanations: list[Explanation], out_dir, top_residues: int = 10) -> dict:
    """DIR/pairs.tsv (prediction, baseline, sum of attributions, completeness error per pair), DIR/atoms.tsv and
    DIR/residues.tsv (one attribution per atom / residue) and DIR/DRUG__TARGET.png per pair: the molecule with
    atoms coloured by attribution (red: raises the prediction, blue: lowers it) over a residue track with the
    `top_residues` largest |attributions| labelled. Written under a temporary name, renamed when complete."""
    import csv
    import shutil
    from pathlib import Path

    from genoscreen.common.io import atomic_path

    out_dir = Path(out_dir)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        with open(tmp / "pairs.tsv", "w", newline="") as pairs, open(tmp / "atoms.tsv", "w", newline="") as atoms, \
                open(tmp / "residues.tsv", "w", newline="") as residues:
            wp, wa, wr = (csv.writer(h, delimiter="\t", lineterminator="\n") for h in (pairs, atoms, residues))
            wp.writerow(["drug_id", "target_id", "prediction", "baseline", "attribution_sum", "completeness_error",
                         "structure_attribution", "smiles", "image"])
            wa.writerow(["drug_id", "target_id", "atom_index", "element", "attribution"])
            wr.writerow(["drug_id", "target_id", "position", "residue", "attribution"])
            for e in explanations:
                per_atom, structure = e.atoms()
                image = f"{_safe(e.drug_id)}__{_safe(e.target_id)}.png"
                wp.writerow([e.drug_id, e.target_id, f"{e.prediction:.6f}", f"{e.baseline:.6f}", f"{e.total:.6f}",
                             f"{e.completeness_error:.6f}", f"{structure:.6f}", e.smiles, image])
                from rdkit import Chem

                mol = Chem.MolFromSmiles(e.smiles)
                for i, value in enumerate(per_atom):
                    wa.writerow([e.drug_id, e.target_id, i, mol.GetAtomWithIdx(i).GetSymbol(), f"{value:.6g}"])
                for i, value in enumerate(e.target):
                    wr.writerow([e.drug_id, e.target_id, i + 1, e.sequence[i] if e.sequence else "", f"{value:.6g}"])
                _draw(e, per_atom, tmp / image, top_residues)
        if out_dir.exists():
            shutil.rmtree(out_dir)
    return {"pairs": len(explanations), "worst_completeness_error": max((e.completeness_error for e in explanations),
                                                                         default=0.0)}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80]


def _draw(e: Explanation, per_atom: list[float], path, top_residues: int) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = Chem.MolFromSmiles(e.smiles)
    scale = max(1e-12, max(abs(v) for v in per_atom) if per_atom else 1.0)
    colours = {i: ((1.0, 1 - v / scale, 1 - v / scale) if v >= 0 else (1 + v / scale, 1 + v / scale, 1.0))
               for i, v in enumerate(per_atom)}
    drawer = rdMolDraw2D.MolDraw2DCairo(560, 360)
    drawer.DrawMolecule(mol, highlightAtoms=list(colours), highlightAtomColors=colours, highlightBonds=[])
    drawer.FinishDrawing()
    molecule = Image.open(io.BytesIO(drawer.GetDrawingText()))
    fig, axes = plt.subplots(2, 1, figsize=(8, 7.5), gridspec_kw={"height_ratios": [2.2, 1]})
    axes[0].imshow(molecule)
    axes[0].axis("off")
    axes[0].set_title(f"{e.drug_id} x {e.target_id}: prediction {e.prediction:.2f} (baseline {e.baseline:.2f}); "
                      "atoms red = raise, blue = lower", fontsize=9)
    positions = np.arange(1, len(e.target) + 1)
    axes[1].bar(positions, e.target, width=1.0, color=np.where(e.target >= 0, "#cc3311", "#0077bb"))
    for i in np.argsort(-np.abs(e.target))[:top_residues]:
        label = f"{e.sequence[i]}{i + 1}" if e.sequence else str(i + 1)
        axes[1].annotate(label, (positions[i], e.target[i]), fontsize=7, ha="center",
                         va="bottom" if e.target[i] >= 0 else "top")
    axes[1].set_xlabel("residue")
    axes[1].set_ylabel("attribution")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def explain_affinity(model_dir, drugs, targets, pairs, out_dir, steps: int = DEFAULT_STEPS, batch: int = 8,
                     hits=None, top: int = 3, columns=None) -> dict:
    """`genoscreen explain affinity`: explain every pair of `pairs` (drug_id, target_id), or the `top` best-ranked
    compounds of each target of the hits table `hits`, with the model `model_dir` (a folder or a shipped model's
    name) into `out_dir` (see `write_explanations`). `targets`: one FASTA or several (ids unique across them)."""
    import logging
    from pathlib import Path

    import pandas as pd

    from genoscreen.affinity.checkpoint import load_model, model_files
    from genoscreen.affinity.io.compounds import DEFAULT_COLUMNS, load_compounds
    from genoscreen.affinity.io.hits import read_hits
    from genoscreen.affinity.io.pairs import check_pair_ids, read_pairs
    from genoscreen.affinity.io.proteins import read_targets
    from genoscreen.common.errors import InputError
    from genoscreen.common.io import check_outputs
    from genoscreen.common.resources import find_model

    log = logging.getLogger(__name__)
    if steps < 2:
        raise InputError(f"--steps {steps}: integrated gradients need at least 2 steps (default {DEFAULT_STEPS})")
    if (pairs is None) == (hits is None):
        raise InputError("give --pairs TSV or --hits-table TSV (with --top N), not both")
    target_files = [targets] if isinstance(targets, (str, Path)) else list(targets)
    model_dir = find_model(model_dir)
    check_outputs({"--out": Path(out_dir)}, {"--model": model_files(model_dir), "--drugs": drugs,
                                             "--targets": target_files, "--pairs": pairs, "--hits": hits})
    model, config = load_model(model_dir)
    ids, smiles, invalid = load_compounds(drugs, columns=columns or DEFAULT_COLUMNS)
    sequences: dict[str, str] = {}
    for path in target_files:  # one may be empty (a sample's mutants, when it has none), not all
        for target_id, sequence in read_targets(path, allow_empty=len(target_files) > 1).items():
            if target_id in sequences:
                raise InputError(f"{path}: target {target_id} is also in an earlier --targets file; give each id once")
            sequences[target_id] = sequence
    if not sequences:
        raise InputError(f"--targets {' '.join(map(str, target_files))}: no sequences in any of them; give a protein "
                         "FASTA")
    invalid_ids = {row[1] for row in invalid}
    where = " ".join(map(str, target_files))
    if hits is not None:
        raw = read_hits(hits, ("compound_id", "target_id", "rank"))
        unknown = ~raw["target_id"].isin(list(sequences))
        if unknown.any():  # a panel's hits: only the targets whose sequences were given can be explained
            log.warning("%s: %d hit(s) of %d target(s) not in --targets skipped (their sequences are needed)", hits,
                        int(unknown.sum()), raw.loc[unknown, "target_id"].nunique())
        table = pd.DataFrame({"drug_id": raw["compound_id"], "target_id": raw["target_id"]})
        if len(table):  # the whole file (its row numbers in messages); the skipped targets pass
            check_pair_ids(table, ids, set(sequences) | set(table["target_id"][unknown]), hits, drugs, where,
                           invalid_ids)
        rank = pd.to_numeric(raw["rank"], errors="coerce")
        table = table.assign(rank=rank)[(rank <= top) & ~unknown].sort_values(["target_id", "rank"], kind="stable")
        table = table[["drug_id", "target_id"]].reset_index(drop=True)
    else:
        table = read_pairs(pairs)
        check_pair_ids(table, ids, sequences, pairs, drugs, where, invalid_ids)
    usable = table[~table["drug_id"].isin(invalid_ids)]
    if len(usable) < len(table):
        log.warning("%d pair(s) skipped: their drug's SMILES is invalid", len(table) - len(usable))
    by_id = dict(zip(ids, smiles))
    explanations = explain_pairs(model, config, list(usable["drug_id"]), [by_id[d] for d in usable["drug_id"]],
                                 list(usable["target_id"]), [sequences[t] for t in usable["target_id"]], steps, batch)
    summary = write_explanations(explanations, out_dir)
    if summary["worst_completeness_error"] > 0.01:
        log.warning("attributions miss f(x) - f(baseline) by up to %.1f%% on some pair (see pairs.tsv); raise "
                    "--steps above %d", 100 * summary["worst_completeness_error"], steps)
    log.info("%d pair(s) explained into %s (%d integration steps)", summary["pairs"], out_dir, steps)
    return summary

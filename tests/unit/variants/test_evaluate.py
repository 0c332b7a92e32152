import pytest

from genoscreen.common.errors import InputError
from genoscreen.variants.evaluate import evaluate, format_table, score
from tests.unit.variants.synth import Var, write_truth


def _calls(tmp_path, dataset, edits):
    """The truth with some records changed: edits maps index -> Var or None (dropped)."""
    vs = [edits.get(i, v) for i, v in enumerate(dataset.variants)]
    return write_truth(tmp_path / "calls.vcf.gz", [v for v in vs if v is not None])


def test_identical_sets_are_perfect(dataset):
    r = evaluate(dataset.truth, dataset.truth, dataset.ref)
    assert r["SNP"]["TP"] == 4 and r["INDEL"]["TP"] == 2
    assert r["SNP"]["F1"] == 1.0 and r["INDEL"]["precision"] == 1.0 and r["ALL"]["FP"] == 0


def test_genotype_error_is_fp_and_fn_and_missing_is_fn(dataset, tmp_path):
    v = dataset.variants
    calls = _calls(tmp_path, dataset, {0: Var(v[0].pos, v[0].ref, v[0].alts, (1, 1)), 2: None,
                                       3: Var(v[3].pos + 10, dataset.seq[v[3].pos + 10], ("A" if dataset.seq[v[3].pos + 10] != "A" else "C",), (0, 1))})
    r = evaluate(dataset.truth, calls, dataset.ref)
    assert r["SNP"] == {**r["SNP"], "TP": 3, "FP": 2, "FN": 1, "genotype_errors": 1}
    assert r["INDEL"]["TP"] == 0 and r["INDEL"]["FN"] == 2 and r["INDEL"]["FP"] == 0
    assert "genotype_errors" in format_table(r)


def test_differently_written_indel_still_matches(dataset, tmp_path):
    v = dataset.variants[3]  # insertion written with a padding base on the right
    padded = Var(v.pos, v.ref + dataset.seq[v.pos + 1], (v.alts[0] + dataset.seq[v.pos + 1],), v.gt)
    calls = _calls(tmp_path, dataset, {3: padded})
    assert evaluate(dataset.truth, calls, dataset.ref)["INDEL"]["TP"] == 2


def test_bed_and_regions_restrict(dataset, tmp_path):
    bed = tmp_path / "b.bed"
    bed.write_text("chrS\t1500\t2500\n")
    r = evaluate(dataset.truth, dataset.truth, dataset.ref, bed=bed)
    assert r["SNP"]["truth_alleles"] == 1 and r["INDEL"]["truth_alleles"] == 0
    r = evaluate(dataset.truth, dataset.truth, dataset.ref, regions="chrS:4900-5100")
    assert r["SNP"]["truth_alleles"] == 2


def test_score_edge_cases():
    assert score(0, 0, 0)["F1"] is None
    assert score(0, 1, 0)["precision"] == 0.0
    assert score(1, 1, 1)["F1"] == 0.5


def test_calls_on_other_contig_naming_are_refused(dataset, tmp_path):
    calls = write_truth(tmp_path / "c.vcf.gz", dataset.variants, contig="S")
    with pytest.raises(InputError, match="--contig-map S=chrS"):
        evaluate(dataset.truth, calls, dataset.ref)
    assert evaluate(dataset.truth, calls, dataset.ref, contig_map="S=chrS")["ALL"]["TP"] == 6

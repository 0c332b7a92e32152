"""bench/titration.py's aggregation, tables, verdicts, TSV and plot on a fake result list (no callers run)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
titration = pytest.importorskip("titration")


def _scope(snp_tp, snp_fp, indel_tp, indel_fp):
    from genoscreen.variants.evaluate import score

    return {"SNP": score(snp_tp, snp_fp, 10 - snp_tp), "INDEL": score(indel_tp, indel_fp, 4 - indel_tp)}


def _row(depth, rep, caller, snp_tp, indel_tp, bed=True):
    return {"set": "hg001_2x151", "in_sample": False, "depth": depth, "replicate": rep, "seed": rep,
            "fraction": 0.5, "measured_depth": 10.0 + rep, "caller": caller, "wall_s": 1.0,
            "region": _scope(snp_tp, 1, indel_tp, 0), "bed": _scope(snp_tp, 0, indel_tp, 0) if bed else None}


def _rows():
    return [_row("10", 1, "genoscreen", 8, 3), _row("10", 2, "genoscreen", 10, 4),
            _row("10", 1, "bcftools", 9, 3), _row("10", 2, "bcftools", 9, 3),
            _row("full", 1, "genoscreen", 10, 4), _row("full", 1, "bcftools", 10, 1)]


def test_aggregate_means_over_replicates_and_verdicts():
    agg = titration.aggregate(_rows())
    by = {(a["depth"], a["caller"], a["scope"]): a for a in agg}
    g10 = by[("10", "genoscreen", "region")]
    assert g10["replicates"] == 2 and g10["measured_depth"] == pytest.approx(11.5)
    assert g10["SNP"]["TP"] == 9 and g10["SNP"]["FN"] == 1
    from genoscreen.variants.evaluate import score

    assert g10["SNP"]["F1"] == pytest.approx((score(8, 1, 2)["F1"] + score(10, 1, 0)["F1"]) / 2)
    v = titration.verdicts(agg)["hg001_2x151"]
    assert v["SNP"] == [("10", False), ("full", True)]  # below bcftools at 10x (mean), equal at full
    assert v["INDEL"] == [("10", True), ("full", True)]
    lines = titration.verdict_lines(agg)
    assert lines[0].startswith("VERDICT hg001_2x151 (out-of-sample, scope region)")
    assert "INDEL F1 >= bcftools at 10, full (2/2)" in lines[0] and "SNP F1 >= bcftools at full (1/2)" in lines[0]
    table = titration.format_table(agg, "hg001_2x151", "region").splitlines()
    assert len(table) == 5 and table[1].split()[:4] == ["10", "11.5", "genoscreen", "2"]


def test_tsv_and_plot(tmp_path):
    rows = _rows()
    agg = titration.aggregate(rows)
    tsv = titration.tsv_lines(rows, agg)
    header = tsv[0].split("\t")
    assert header == list(titration.TSV_COLUMNS)
    assert len(tsv) == 1 + 2 * len(rows) + len(agg)
    assert sum(line.split("\t")[header.index("replicate")] == "mean" for line in tsv) == len(agg)
    png = tmp_path / "t.png"
    titration.plot(agg, rows, {"hg001_2x151": 23.0}, png)
    assert png.stat().st_size > 1000

"""The workflow's commands (`genoscreen demo-data | report | concat-vcfs | split-compounds | merge-hits`).

Called through `genoscreen.cli.main`, as the console script calls them.
"""

from __future__ import annotations

import json

import pytest

from genoscreen.cli import main


def test_help_of_every_command(capsys):
    for command in ("demo-data", "report", "concat-vcfs", "split-compounds", "merge-hits"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert "--out" in capsys.readouterr().out


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "lib.txt").write_text("CCO x\n")
    assert main(["split-compounds", str(tmp_path / "lib.txt"), "--out", str(tmp_path / "a.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("genoscreen split-compounds: error:") and "unknown compound file type" in err
    assert "\n" not in err
    (tmp_path / "hits.tsv").write_text("compound_id\tscore\nx\t1\n")
    assert main(["merge-hits", str(tmp_path / "hits.tsv"), "--out", str(tmp_path / "m.tsv")]) == 2
    assert "missing column(s) ['prediction', 'rank', 'target_id']" in capsys.readouterr().err
    assert not (tmp_path / "m.tsv").exists()


def test_report_command(tmp_path):
    evaluation = tmp_path / "e.json"
    evaluation.write_text(json.dumps({"SNP": {"tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}}))
    out = tmp_path / "r.html"
    assert main(["report", "--evaluation", f"s={evaluation}", "--about", "caller model=m", "--out", str(out)]) == 0
    assert "caller model" in out.read_text() and "s SNP" in out.read_text()

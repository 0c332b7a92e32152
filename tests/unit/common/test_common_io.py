"""common.io: the output checks made before any work, the sweep of dead processes' temporaries, UTF-8 lines."""

import gzip
import os
import subprocess
import sys

import pytest

from genoscreen.common.errors import InputError
from genoscreen.common.io import atomic_open, atomic_path, check_outputs, remove_stale_temps, text_lines


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_check_outputs(tmp_path):
    lib = tmp_path / "lib.smi"
    lib.write_text("CCO a\n")
    check_outputs({"--out": tmp_path / "new" / "hits.tsv", "--json": "-", "--gvcf": None}, {"--compounds": lib})
    cases = [
        ({"--out": tmp_path / "x" / ".." / "lib.smi"}, "--out .*: is the input --compounds"),
        ({"--out": tmp_path}, "holds the input --compounds"),
        ({"--out": tmp_path / "a.vcf.gz", "--gvcf": [tmp_path / "b", tmp_path / "a.vcf.gz"]}, "its own name"),
        ({"--out": lib / "hits.tsv"}, "is a file, not a folder"),
    ]
    for outputs, message in cases:
        with pytest.raises(InputError, match=message):
            check_outputs(outputs, {"--compounds": lib, "--missing": tmp_path / "absent.smi"})
    link = tmp_path / "link.smi"
    link.symlink_to(lib)
    with pytest.raises(InputError, match="is the input"):
        check_outputs({"--out": link}, {"--compounds": lib})


def test_stale_temporaries_of_dead_processes_are_swept(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = [tmp_path / f".hits.tmp{dead}.tsv", tmp_path / f".hits.tmp{dead}.tsv.tbi", tmp_path / f".hits.tmp{dead}"]
    for path in stale[:2]:
        path.write_text("partial")
    stale[2].mkdir()
    (stale[2] / "shard.npz").write_text("partial")
    kept = [tmp_path / f".hits.tmp{alive}.tsv", tmp_path / f".other.tmp{dead}.tsv", tmp_path / "hits.tmp1.tsv"]
    for path in kept:
        path.write_text("keep")
    with atomic_open(tmp_path / "hits.tsv") as handle:
        handle.write("done\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([p.name for p in kept] + ["hits.tsv"])
    assert remove_stale_temps(tmp_path / "hits.tsv") == []


def test_atomic_path_removes_its_temporary_on_failure(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "ex") as tmp:
            tmp.mkdir()
            (tmp / "a.npz").write_text("x")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_text_lines_names_the_bad_byte(tmp_path):
    path = tmp_path / "a.smi.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"CCO a\r\nC\xffC b\nCCN c")
    assert list(text_lines(path)) == [(1, "CCO a\n", None), (2, "C\ufffdC b\n", "byte 0xff at column 2 is not UTF-8"),
                                      (3, "CCN c", None)]

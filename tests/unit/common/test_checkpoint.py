"""The one checkpoint layout: named leaves round-trip, bytes depend on content only, and every damage is one line."""

from __future__ import annotations

import numpy as np
import pytest

from genoscreen.common import checkpoint
from genoscreen.common.errors import InputError

TREE = {"stem": {"kernel": np.arange(12, dtype=np.float32).reshape(3, 4)},
        "stages": {0: {"down": {"kernel": np.ones((2, 2), np.float32)}}, 1: {"scale": np.zeros(2, np.float32)}},
        "step": np.asarray(7, np.int32)}


def test_round_trip_by_name(tmp_path):
    path = checkpoint.save(tmp_path / "w.safetensors", TREE, "test-kind/1", {"note": "x"})
    flat, meta = checkpoint.load(path, "test-kind/1")
    assert sorted(flat) == ["stages/0/down/kernel", "stages/1/scale", "stem/kernel", "step"]
    assert meta["note"] == "x" and meta["kind"] == "test-kind/1" and meta["version"] == checkpoint.CHECKPOINT_VERSION
    template = {"step": np.asarray(0, np.int32), "stem": {"kernel": np.zeros((3, 4), np.float32)},
                "stages": {0: {"down": {"kernel": np.zeros((2, 2), np.float32)}}, 1: {"scale": np.ones(2, np.float32)}}}
    restored = checkpoint.restore_into(template, flat, path)
    assert list(restored["stages"]) == [0, 1]  # the template's own keys (integer list indices stay integers)
    np.testing.assert_array_equal(restored["stem"]["kernel"], TREE["stem"]["kernel"])
    assert restored["step"] == 7 and restored["step"].dtype == np.int32


def test_file_bytes_are_a_function_of_the_content(tmp_path):
    a = checkpoint.save(tmp_path / "a.safetensors", TREE, "k/1").read_bytes()
    b = checkpoint.save(tmp_path / "b.safetensors", dict(reversed(list(TREE.items()))), "k/1").read_bytes()
    assert a == b


def test_mismatched_tree_names_what_differs(tmp_path):
    path = checkpoint.save(tmp_path / "w.safetensors", TREE, "k/1")
    flat, _ = checkpoint.load(path, "k/1")
    with pytest.raises(InputError, match=r"missing \['extra'\].*wrong shape \['stem/kernel'\]"):
        checkpoint.restore_into({**TREE, "extra": np.zeros(1), "stem": {"kernel": np.zeros((4, 3))}}, flat, path)


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(b"\x00not a checkpoint"), "corrupt weights file"),
    (lambda p: p.write_bytes(p.read_bytes()[:-3]), "corrupt weights file"),
    (lambda p: p.write_bytes(p.read_bytes()[:-4] + b"\x00\x00\x80\x7f"), "checksum mismatch"),
    (lambda p: p.unlink(), "missing"),
])
def test_damaged_files_are_one_clear_line(tmp_path, damage, message):
    path = checkpoint.save(tmp_path / "w.safetensors", TREE, "k/1")
    damage(path)
    with pytest.raises(InputError, match=message):
        checkpoint.load(path, "k/1", "weights")


def test_a_file_of_another_kind_is_refused(tmp_path):
    path = checkpoint.save(tmp_path / "w.safetensors", TREE, "caller-weights/1")
    with pytest.raises(InputError, match="holds 'caller-weights/1', not 'caller-training-state/1'"):
        checkpoint.load(path, "caller-training-state/1")

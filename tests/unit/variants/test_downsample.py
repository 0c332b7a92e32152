import shutil

import pysam
import pytest

from genoscreen.common.errors import InputError
from genoscreen.variants.downsample import downsample, mean_depth
from genoscreen.variants.regions import Region

pytestmark = pytest.mark.skipif(shutil.which("samtools") is None, reason="samtools not installed (apt-get install samtools)")


def test_downsample_to_a_depth_keeps_pairs_and_is_seeded(dataset, tmp_path):
    region = [Region("chrS", 1000, 5000)]
    full = mean_depth(dataset.bam, region)
    assert 20 < full < 40
    info = downsample(dataset.bam, tmp_path / "d.bam", depth=full / 3, regions=region, seed=4)
    assert info["fraction"] == pytest.approx(1 / 3) and info["input_depth"] == pytest.approx(full)
    assert (tmp_path / "d.bam.bai").exists()
    assert mean_depth(tmp_path / "d.bam", region) == pytest.approx(full / 3, rel=0.3)
    again = downsample(dataset.bam, tmp_path / "e.bam", depth=full / 3, regions=region, seed=4)
    names = lambda p: [r.query_name for r in pysam.AlignmentFile(str(p))]  # noqa: E731
    assert names(tmp_path / "d.bam") == names(tmp_path / "e.bam")
    assert again["fraction"] == info["fraction"]
    other = downsample(dataset.bam, tmp_path / "f.bam", fraction=1 / 3, seed=5)
    assert names(tmp_path / "f.bam") != names(tmp_path / "d.bam") and other["input_depth"] is None


def test_target_above_the_depth_copies_and_bad_requests_are_refused(dataset, tmp_path):
    region = [Region("chrS", 1000, 5000)]
    info = downsample(dataset.bam, tmp_path / "all.bam", depth=1000, regions=region)
    assert info["fraction"] == 1.0
    assert pysam.AlignmentFile(str(tmp_path / "all.bam")).mapped == pysam.AlignmentFile(str(dataset.bam)).mapped
    with pytest.raises(InputError, match="overwrite the input"):
        downsample(dataset.bam, dataset.bam, fraction=0.5)
    with pytest.raises(InputError, match="needs the regions"):
        downsample(dataset.bam, tmp_path / "x.bam", depth=5)
    with pytest.raises(InputError, match="exactly one"):
        downsample(dataset.bam, tmp_path / "x.bam", depth=5, fraction=0.5, regions=region)
    with pytest.raises(InputError, match="fraction"):
        downsample(dataset.bam, tmp_path / "x.bam", fraction=1.5)
    assert not (tmp_path / "x.bam").exists()

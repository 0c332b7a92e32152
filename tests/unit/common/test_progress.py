"""Progress: a bar on a terminal, periodic log lines with rate and ETA in a cluster log."""

from __future__ import annotations

import logging

from genoscreen.common.logging import LogProgress, progress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_log_lines_every_period_with_rate_and_eta(caplog):
    clock = Clock()
    bar = LogProgress(total=100, desc="make-examples", unit="shard", every=30, clock=clock)
    with caplog.at_level(logging.INFO, logger="genoscreen.progress"):
        for _ in range(10):
            clock.now += 10
            bar.update(5)
        bar.close()
        bar.close()  # twice is once
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4  # at 30, 60 and 90 s, then done
    assert lines[0] == "make-examples: 15/100 (15%) shard, 0.5 shard/s, 0:30 elapsed, ETA 2:50"
    assert lines[-1] == "make-examples: 50/100 (50%) shard, 0.5 shard/s, 1:40 elapsed (done)"


def test_short_work_logs_nothing(caplog):
    clock = Clock()
    with caplog.at_level(logging.INFO, logger="genoscreen.progress"):
        for _ in LogProgress(range(3), total=3, every=30, clock=clock):
            clock.now += 1
    assert not caplog.records


def test_not_a_terminal_gives_log_progress_and_keeps_items(monkeypatch):
    monkeypatch.delenv("GENOSCREEN_PROGRESS", raising=False)  # pytest's stderr is not a TTY
    bar = progress(range(4), desc="x")
    assert isinstance(bar, LogProgress) and bar.total == 4 and list(bar) == [0, 1, 2, 3]
    monkeypatch.setenv("GENOSCREEN_PROGRESS", "1")
    assert not isinstance(progress(range(2)), LogProgress)  # forced: the tqdm bar

"""--threads bounds the CPUs a command-line process uses (XLA's pool included): checked in subprocesses, so the
test session's own CPUs are left alone."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                                reason="needs Linux and at least 2 CPUs")


def test_limit_cpus_pins_the_process_and_what_it_starts():
    code = ("import os, subprocess\nfrom genoscreen.common.cpus import limit_cpus\n"
            "print(sorted(limit_cpus(1)), limit_cpus(10**6), len(os.sched_getaffinity(0)),\n"
            "      subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["None", "1", "1"]  # one CPU kept; asking for more than allowed changes nothing; children too


def test_the_command_line_follows_threads_and_in_process_calls_do_not(tmp_path):
    from genoscreen.cli import main

    before = os.sched_getaffinity(0)
    args = ["downsample", "--bam", str(tmp_path / "missing.bam"), "--fraction", "0.5", "--out", str(tmp_path / "x.bam"),
            "--threads", "1"]
    assert main(args) == 2 and os.sched_getaffinity(0) == before
    result = subprocess.run([sys.executable, "-m", "genoscreen", "-vv", *args], capture_output=True, text=True)
    assert result.returncode == 2 and "--threads 1: using CPUs [" in result.stderr


def test_concurrent_commands_claim_different_cpus(tmp_path):
    """Two commands with --threads 1 at once (Snakemake's local jobs) pin to different CPUs; a third, when all are
    claimed, shares one; a claim ends with its process."""
    code = ("import sys, time, contextlib\nfrom genoscreen.common.cpus import limit_cpus\n"
            "with contextlib.ExitStack() as stack:\n"
            "    print(sorted(limit_cpus(1, stack))[0], flush=True)\n"
            "    sys.stdin.readline()\n")
    env = dict(os.environ, TMPDIR=str(tmp_path))
    n = len(os.sched_getaffinity(0))
    holders = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=env) for _ in range(n)]
    try:
        got = [int(h.stdout.readline()) for h in holders]  # started together: the locks keep their CPUs apart
        assert sorted(got) == sorted(os.sched_getaffinity(0))  # one CPU each, all different
        extra = subprocess.run([sys.executable, "-c", code], input="\n", capture_output=True, text=True, env=env)
        assert int(extra.stdout) in got  # all claimed: shares one
    finally:
        for h in holders:
            h.communicate("\n")
    again = subprocess.run([sys.executable, "-c", code], input="\n", capture_output=True, text=True, env=env)
    assert int(again.stdout) == min(os.sched_getaffinity(0))  # the claims ended with their processes

# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Smoke test of the benchmark runner: `bench/run single --quick` with a
handful of connections and a few messages against a stock and a plugin
Dovecot.  It checks that the runner works end to end (both rows, latency
statistics, nothing missed), never how fast anything was, and that it left
fs.inotify.max_user_instances alone."""

import json
import os
import subprocess

import pytest

SRCDIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("IMAP_IDLE_BUILDDIR", SRCDIR)
RUN = os.path.join(SRCDIR, "bench", "run")
INOTIFY_SYSCTL = "/proc/sys/fs/inotify/max_user_instances"
CONNECTIONS, MESSAGES = 3, 4


def _sysctl():
    with open(INOTIFY_SYSCTL) as f:
        return f.read()


@pytest.mark.skipif(os.geteuid() != 0, reason="bench/run needs root")
def test_bench_single_quick(tmp_path):
    if not os.access(os.path.join(BUILDDIR, "bench", "loadgen"), os.X_OK):
        subprocess.run(["make", "-C", BUILDDIR, "bench/loadgen"], check=True,
                       stdout=subprocess.DEVNULL, timeout=300)
    out = tmp_path / "bench.json"
    env = dict(os.environ, IMAP_IDLE_BUILDDIR=BUILDDIR,
               # a mail uid of its own: a full benchmark running at the same
               # time must not count this test's processes as its own
               IMAP_IDLE_BENCH_UID="23457")
    before = _sysctl()
    r = subprocess.run(
        [RUN, "single", "--quick", "--connections", str(CONNECTIONS),
         "--messages", str(MESSAGES), "--hold-secs", "1", "--no-sysctl",
         "--json", str(out)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=300, env=env)
    report = "stdout:\n%s\nstderr:\n%s" % (r.stdout, r.stderr[-5000:])
    assert r.returncode == 0, report
    assert _sysctl() == before
    assert "imap_idle/stock" in r.stdout, report

    doc = json.loads(out.read_text())
    assert doc["exit_status"] == 0
    # the mail stores' filesystem, if one was mounted, is gone
    mountpoint = doc.get("store_mountpoint")
    if mountpoint is not None:
        with open("/proc/self/mounts") as f:
            assert " %s " % mountpoint not in f.read()
        assert not os.path.exists(mountpoint)
    [sc] = doc["scenarios"]
    assert sc["name"] == "single"
    assert set(sc["runs"]) == {"stock", "imap_idle"}
    # --quick: one round, stock first, each run after a writeback settle
    [only_round] = sc["rounds"]
    assert list(only_round) == ["stock", "imap_idle"]
    for side, rec in only_round.items():
        assert rec["settle"]["secs"] is not None, (side, rec["settle"])
    for side, run in sc["runs"].items():
        assert run["error"] is None, (side, run["error"])
        assert run["loadgen"]["ok"], (side, run["loadgen"]["errors"])
        d = run["derived"]
        lat = d["latency"]
        # every (delivery, idler) pair measured: all 3 idlers share user1
        assert lat["count"] == CONNECTIONS * MESSAGES, (side, lat)
        for k in ("p50", "p99", "max", "mean"):
            assert lat[k] is not None, (side, k)
        assert d["missed"] == 0, side
        assert d["late_after_done"] == 0, side
        assert d["cpu_ms_per_msg"] is not None, side
        assert d["pss_kib_per_conn"] is not None, side
        log = run["log"]["counts"]
        assert log["Panic"] == 0 and log["Fatal"] == 0, (side, run["log"])

# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Smoke tests of the benchmark runner at tiny scale, against real stock
and plugin Dovecots: `single --quick` (stock against the plugin),
`--compare-build` (two plugin builds), the saturation ramp and the
hibernation scenario with hot mailboxes.  They check that the runner works
end to end (both rows, statistics, nothing missed, the new measures
present and plausible), never how fast anything was, and that with
--no-sysctl it left fs.inotify.max_user_instances alone.  Each run is
bounded by a timeout."""

import json
import os
import subprocess

import pytest

SRCDIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("IMAP_IDLE_BUILDDIR", SRCDIR)
RUN = os.path.join(SRCDIR, "bench", "run")
CONNECTIONS, MESSAGES = 3, 4
RUN_TIMEOUT = 300
# 23457 beside the suite's default mail uid 12346
BENCH_UID = int(os.environ.get("IMAP_IDLE_TEST_MAIL_UID", "12346")) + 11111

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="bench/run needs root")


def _bench(tmp_path, *argv):
    """Runs bench/run with argv; returns (its JSON, its output)."""
    if not os.access(os.path.join(BUILDDIR, "bench", "loadgen"), os.X_OK):
        subprocess.run(["make", "-C", BUILDDIR, "bench/loadgen"], check=True,
                       stdout=subprocess.DEVNULL, timeout=300)
    out = tmp_path / "bench.json"
    env = dict(os.environ, IMAP_IDLE_BUILDDIR=BUILDDIR,
               # a mail uid of its own: a full benchmark, or this suite
               # against the other Dovecot version, running at the same
               # time must not count this test's processes as its own
               IMAP_IDLE_BENCH_UID=str(BENCH_UID))
    r = subprocess.run([RUN, *argv, "--no-sysctl", "--json", str(out)],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=RUN_TIMEOUT, env=env)
    report = "stdout:\n%s\nstderr:\n%s" % (r.stdout, r.stderr[-5000:])
    assert r.returncode == 0, report
    doc = json.loads(out.read_text())
    assert doc["exit_status"] == 0, report
    # --no-sysctl: the runner left fs.inotify.max_user_instances alone
    # (read from its own notes: a benchmark elsewhere on the machine may
    # change the sysctl meanwhile)
    for sc in doc["scenarios"]:
        assert not any(" -> " in n and "max_user_instances" in n
                       for n in sc["notes"]), sc["notes"]
    # the mail stores' filesystem, if one was mounted, is gone
    mountpoint = doc.get("store_mountpoint")
    if mountpoint is not None:
        with open("/proc/self/mounts") as f:
            assert " %s " % mountpoint not in f.read()
        assert not os.path.exists(mountpoint)
    return doc, report


def _check_runs(sc, sides):
    assert set(sc["runs"]) == set(sides)
    for side, run in sc["runs"].items():
        assert run["error"] is None, (side, run["error"])
        assert run["loadgen"]["ok"], (side, run["loadgen"]["errors"])
        d = run["derived"]
        assert d["missed"] == 0, side
        assert d["late_after_done"] == 0, side
        log = run["log"]["counts"]
        assert log["Panic"] == 0 and log["Fatal"] == 0, (side, run["log"])


def test_bench_single_quick(tmp_path):
    doc, report = _bench(tmp_path, "single", "--quick", "--connections",
                         str(CONNECTIONS), "--messages", str(MESSAGES),
                         "--hold-secs", "1")
    assert "imap_idle/stock" in report, report
    [sc] = doc["scenarios"]
    assert sc["name"] == "single"
    _check_runs(sc, ("stock", "imap_idle"))
    # --quick: one round, stock first, each run after a writeback settle
    [only_round] = sc["rounds"]
    assert list(only_round) == ["stock", "imap_idle"]
    for side, rec in only_round.items():
        assert rec["settle"]["secs"] is not None, (side, rec["settle"])
    for side, run in sc["runs"].items():
        d = run["derived"]
        lat = d["latency"]
        # every (delivery, idler) pair measured: all 3 idlers share user1
        assert lat["count"] == CONNECTIONS * MESSAGES, (side, lat)
        for k in ("p50", "p99", "max", "mean"):
            assert lat[k] is not None, (side, k)
        assert d["cpu_ms_per_msg"] is not None, side
        assert d["pss_kib_per_conn"] is not None, side


def test_bench_compare_build(tmp_path):
    """Two builds of the plugin (here the same one twice) in ABBA rounds:
    rows old and new, ratios new/old, each side loading its own copy."""
    doc, report = _bench(tmp_path, "single", "--quick", "--rounds", "2",
                         "--compare-build", BUILDDIR, "--build", BUILDDIR,
                         "--connections", "2", "--messages", "3",
                         "--hold-secs", "1")
    assert "new/old" in report, report
    assert "imap_idle/stock" not in report, report
    assert doc["comparison"]["mode"] == "build"
    assert set(doc["plugins"]) == {"old", "new"}
    assert doc["plugins"]["old"]["sha256"] == doc["plugins"]["new"]["sha256"]
    [sc] = doc["scenarios"]
    _check_runs(sc, ("old", "new"))
    assert [list(rd) for rd in sc["rounds"]] == [["old", "new"],
                                                 ["new", "old"]]
    for rd in sc["rounds"]:
        for side, rec in rd.items():
            assert rec["dovecot"]["plugin"], side
            assert rec["dovecot"]["plugin_so"].endswith(
                "plugin-%s/lib20_imap_idle_plugin.so" % side), rec["dovecot"]
            assert rec["derived"]["latency"]["count"] == 2 * 3, side


def test_bench_saturation_and_hot_hibernation(tmp_path):
    """The saturation ramp stops by itself and names a rate per side; the
    hot-mailbox hibernation scenario samples memory while the deliveries
    run and sees stock's wake-ups fork imap processes."""
    doc, report = _bench(tmp_path, "saturation-cl50", "hibernate-mixed",
                         "--quick", "--connections", "6", "--users", "6",
                         "--hot-users", "2", "--messages", "12",
                         "--ramp-step-secs", "1", "--ramp-max-rate", "40",
                         "--hold-secs", "1")
    sat, hot = doc["scenarios"]
    assert sat["name"] == "saturation-cl50"
    assert hot["name"] == "hibernate-mixed"
    _check_runs(sat, ("stock", "imap_idle"))
    _check_runs(hot, ("stock", "imap_idle"))
    assert "max rate/s" in report and "imap forks" in report, report
    for side, run in sat["runs"].items():
        s = run["derived"]["saturation"]
        steps = s["steps"]
        # 10, 20, 40/s at most; the ramp ends with a verdict
        assert 1 <= len(steps) <= 3, (side, s)
        assert [st["rate"] for st in steps] == [10, 20, 40][:len(steps)]
        assert s["stop"] in ("knee", "errors", "behind", "cap"), (side, s)
        assert steps[-1]["verdict"] == s["stop"], (side, s)
        assert all(st["verdict"] == "go on" for st in steps[:-1]), s
        assert s["light_p50"] is not None and s["light_p50"] > 0, s
        assert s["rate"] in [0] + [st["rate"] for st in steps], (side, s)
        lg = sat["rounds"][0][side]["loadgen"]
        started = sum(st["started"] for st in lg["ramp"]["steps"])
        assert started == lg["deliveries"]["started"], (side, lg["ramp"])
    for side, run in hot["runs"].items():
        d = run["derived"]
        dur = d["during"]
        assert dur["sampler_error"] is None, (side, dur)
        # Pss sampled while the deliveries ran, relative to the sample
        # taken when setup ended: it can come out negative at this size
        # (a client still awake at setup's end has hibernated since), so
        # only its presence and order are checked, not its sign
        assert isinstance(dur["pss_kib_per_conn_during"], float), dur
        assert dur["pss_kib_per_conn_during_max"] >= \
            dur["pss_kib_per_conn_during"], (side, dur)
        assert d["hot"]["deliveries"] + d["hot"]["quiet_deliveries"] == 12
        assert d["hot"]["deliveries"] == 6, (side, d["hot"])
    # stock hibernates its idlers after 1 s; every delivery to one wakes
    # it in a newly forked imap process.  The plugin does not hibernate.
    assert hot["runs"]["stock"]["derived"]["during"]["imap_spawned"] >= 1

# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""One side's run: a Dovecot started for it, bench/loadgen driven stage by
stage (loadgen pauses at every stage until the runner has sampled the
process tree), the log scanned, everything torn down and waited for.
And the order of the sides over the rounds (ABBA).

Fairness between the sides: before every run the page cache is synced
and the runner waits (up to 20 s) until Dirty+Writeback is below 2 MiB,
then 2 s more (host.settle_writeback); every Dovecot process of the
previous run must be gone (host.wait_bench_uid_gone)."""

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import dovecot_instance
from dovecot_instance import DovecotInstance

from .accounting import (PhaseSampler, machine_cpu_ns, proc_cpu_ns,
                         read_file, sample_tree)
from .console import PROGRESS, Interrupted, say, set_pdeathsig
from .dovecot_log import scan_log
from .host import BENCH_UID, settle_writeback, wait_bench_uid_gone
from .stats import combine_side_rounds, derive

PAUSE_TIMEOUT = 180


def _reader(stream, q, tag):
    for raw in iter(stream.readline, b""):
        q.put((tag, raw.decode(errors="replace").rstrip("\n")))
    q.put((tag, None))


def run_side(scenario, side, args, tmp, label, round_no=0):
    """Runs one Dovecot + loadgen for side (a sides.Side); returns the
    run record."""
    rec = {"side": side.name, "round": round_no, "error": None, "samples": {},
           "loadgen": None, "loadgen_exit": None, "loadgen_stderr": []}
    rundir = tempfile.mkdtemp(prefix="%s-" % side.name, dir=tmp)
    pause = os.path.join(rundir, "pause")
    jpath = os.path.join(rundir, "loadgen.json")
    log_path = os.path.join(rundir, "dovecot.log")
    plugin = side.plugin
    extra = scenario.extra_conf() + "".join(
        line + "\n" for line in args.extra_conf or ()) + \
        "log_path = %s\n" % log_path
    settings = dict(scenario.plugin_settings) if plugin else {}
    if plugin:
        for kv in args.plugin_setting or ():
            k, _, v = kv.partition("=")
            settings[k.strip()] = v.strip()
    rec["dovecot"] = {"plugin": plugin, "mail_format": args.format,
                      "plugin_settings": settings,
                      "service_imap": scenario.service_imap(),
                      "extra_conf": scenario.extra_conf(),
                      "mail_uid": BENCH_UID,
                      "plugin_so": side.plugin_so}
    proc = None
    left = wait_bench_uid_gone()
    if left:
        rec["leftover_bench_uid_pids_before"] = left
    rec["settle"] = settle_writeback(label)
    t0 = time.monotonic()
    try:
        PROGRESS.show("%s starting Dovecot" % label, force=True)
        # The mail store stays until all runs are over: on ext4 without a
        # journal, creating a file skips every inode deleted in the last
        # 30 s (recently_deleted(), LMTP's top kernel symbol), so removing
        # a run's thousands of files made whichever run came next pay for
        # it (its LMTP took 13-25 % more CPU, side independent).
        if plugin:
            # the harness links the module dir to this path at start
            dovecot_instance.PLUGIN_SO = side.plugin_so
        with DovecotInstance(plugin=plugin, users=scenario.users,
                             mail_format=args.format, settings=settings,
                             extra_conf=extra,
                             service_imap=scenario.service_imap(),
                             mail_uid=BENCH_UID, tmp_parent=tmp,
                             keep_tmp=True) as dc:
            rec["dovecot"]["imap_port"] = dc.imap_port
            cmd = [args.loadgen, "--imap-port", str(dc.imap_port),
                   "--lmtp-port", str(dc.lmtp_port),
                   "--pause-file", pause,
                   "--pause-timeout-secs", str(PAUSE_TIMEOUT),
                   "--json", jpath,
                   "--timeout-secs", str(scenario.timeout_secs())] + \
                scenario.loadgen_args()
            rec["loadgen_cmd"] = cmd
            q = queue.Queue()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE,
                                    preexec_fn=set_pdeathsig,
                                    start_new_session=True)
            threads = [threading.Thread(target=_reader, daemon=True,
                                        args=(proc.stdout, q, "out")),
                       threading.Thread(target=_reader, daemon=True,
                                        args=(proc.stderr, q, "err"))]
            for th in threads:
                th.start()
            _drive(scenario, dc, proc, q, pause, rec, label,
                   scenario.sample_deliveries or args.sample_deliveries)
            rec["log"] = None       # filled below, after Dovecot stopped
        rec["wall_secs"] = round(time.monotonic() - t0, 1)
    except Interrupted:
        raise
    except Exception as e:          # Dovecot did not start, etc.
        rec["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if proc is not None and proc.poll() is None:
            _stop_pid(proc)
        if proc is not None:
            for s in (proc.stdout, proc.stderr):
                try:
                    s.close()
                except OSError:
                    pass
        t_gone = time.monotonic()
        left = wait_bench_uid_gone()
        rec["exit_wait_secs"] = round(time.monotonic() - t_gone, 1)
        if left:
            rec["leftover_bench_uid_pids_after"] = left
        text = read_file(log_path) or ""
        if args.keep_logs:
            os.makedirs(args.keep_logs, exist_ok=True)
            kept = os.path.join(args.keep_logs, "%s-%s-%s%s.log" % (
                scenario.name, args.format, side.name,
                "-r%d" % (round_no + 1) if args.rounds > 1 else ""))
            with open(kept, "w") as f:
                f.write(text)
            rec["log_kept"] = kept
        rec["log"] = scan_log(text)
        rec["log"]["lines"] = text.count("\n")
        if os.path.exists(jpath):
            try:
                with open(jpath) as f:
                    rec["loadgen"] = json.load(f)
            except ValueError as e:
                rec["error"] = rec["error"] or "loadgen JSON: %s" % e
        shutil.rmtree(rundir, ignore_errors=True)
    if rec["loadgen"] is None and rec["error"] is None:
        rec["error"] = "loadgen wrote no result (exit %s): %s" % (
            rec["loadgen_exit"], " | ".join(rec["loadgen_stderr"][-3:]))
    rec["derived"] = derive(scenario, rec)
    return rec


def _stop_pid(proc):
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        proc.wait(timeout=5)


def _phase_was_busy(scenario, stage):
    return (stage == "setup_done" or
            (stage == "deliveries_done" and scenario.messages > 0) or
            (stage == "burst_done" and scenario.burst > 0) or
            (stage == "flag_storm_done" and scenario.storm_rate > 0))


def _drive(scenario, dc, proc, q, pause, rec, label, sample_deliveries):
    """Reads loadgen's STAGE lines, samples, resumes it; bounded.  With
    sample_deliveries a PhaseSampler runs from setup_done until
    deliveries_done: rec["during_deliveries"]."""
    samples = rec["samples"]
    sampler = None
    eof = 0
    stage = "starting"
    t_start = time.monotonic()
    paused_secs = 0.0
    last_line = ""
    busy0, steal0 = machine_cpu_ns()
    own0 = sum(os.times()[:2]) * 1e9
    loadgen_cpu = None
    while eof < 2:
        limit = scenario.timeout_secs() + paused_secs + 120
        if time.monotonic() - t_start > limit:
            rec["error"] = "loadgen still running after %d s: stopped" % (
                limit)
            _stop_pid(proc)
            break
        try:
            tag, line = q.get(timeout=0.5)
        except queue.Empty:
            PROGRESS.show("%s %-16s %5.0fs  %s" % (
                label, stage, time.monotonic() - t_start, last_line))
            continue
        if line is None:
            eof += 1
            continue
        if tag == "err":
            rec["loadgen_stderr"].append(line)
            if "warning" in line or "deadline" in line:
                say("  %s loadgen: %s" % (label, line.strip()))
            else:
                last_line = line.strip()
            continue
        if not line.startswith("STAGE "):
            continue
        stage = line.split(None, 1)[1].strip()
        ts = time.monotonic()
        if sampler is not None and stage != "setup_done":
            sampler.stop()
            rec["during_deliveries"] = sampler.summary()
            sampler = None
        mem = stage in ("ready", "setup_done")
        if stage == "setup_done" and scenario.wait_after_setup:
            samples["setup_done"] = sample_tree(dc.master_pid, False)
            PROGRESS.show("%s waiting %.0f s after setup" % (
                label, scenario.wait_after_setup), force=True)
            time.sleep(scenario.wait_after_setup)
            samples["setup_settled"] = sample_tree(dc.master_pid, True)
        else:
            # Let the work a phase started finish before it is charged
            # (stock re-syncs 500 ms after its own new/ -> cur/ rename,
            # processes settle after login); loadgen is paused meanwhile.
            if _phase_was_busy(scenario, stage):
                time.sleep(scenario.drain_secs)
            samples[stage] = sample_tree(dc.master_pid, mem)
        if stage == "teardown_done":
            loadgen_cpu = proc_cpu_ns(proc.pid)
            busy1, steal1 = machine_cpu_ns()
            own1 = sum(os.times()[:2]) * 1e9
        PROGRESS.show("%s %s" % (label, stage), force=True)
        if stage == "setup_done" and sample_deliveries:
            sampler = PhaseSampler(dc.master_pid)
            sampler.start()
        try:
            os.unlink(pause)
        except FileNotFoundError:
            pass
        paused_secs += time.monotonic() - ts
    if sampler is not None:
        sampler.stop()
        rec["during_deliveries"] = sampler.summary()
    rec["loadgen_exit"] = proc.wait(timeout=30)
    if loadgen_cpu is not None and "ready" in samples:
        wall = samples["teardown_done"]["t"] - samples["ready"]["t"]
        dovecot = samples["teardown_done"]["cpu_ns"] - \
            samples["ready"]["cpu_ns"]
        other = (busy1 - busy0) - dovecot - loadgen_cpu - (own1 - own0)
        rec["machine"] = {
            "wall_secs": round(wall, 3),
            "dovecot_cores": round(dovecot / 1e9 / wall, 3),
            "loadgen_cpu_secs": round(loadgen_cpu / 1e9, 3),
            "other_cores": round(max(other, 0) / 1e9 / wall, 3),
            # the host's other guests take time from whichever run they
            # hit, not from both sides alike; this says which runs
            "steal_cores": round((steal1 - steal0) / 1e9 / wall, 3),
            "loadavg": (read_file("/proc/loadavg") or "").split()[:3]}



def side_order(round_no, sides):
    """ABBA: the sides as given in even rounds, reversed in odd ones."""
    return tuple(sides) if round_no % 2 == 0 else tuple(reversed(sides))



def run_rounds(scenario, res, comparison, args, tmp, position, on_round):
    """Every round of one scenario, the sides in ABBA order; fills
    res["rounds"] (each round's records by side) and res["runs"] (the
    rounds combined per side, after every run so that an interrupted
    bench still reports the rounds it finished).  on_round() after each
    run (writes the JSON)."""
    names = [s.name for s in comparison.running()]
    for rnd in range(args.rounds):
        this_round = {}
        res["rounds"].append(this_round)
        for name in side_order(rnd, names):
            label = "[%s %s %s%s]" % (
                position, scenario.name, name,
                " round %d/%d" % (rnd + 1, args.rounds)
                if args.rounds > 1 else "")
            this_round[name] = run_side(scenario, comparison.side(name),
                                        args, tmp, label, rnd)
            res["runs"][name] = combine_side_rounds(
                name, [rd[name] for rd in res["rounds"] if name in rd])
            on_round()

# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""A run's derived metrics (latency, CPU per message or STORE, Pss per
connection, idle CPU, keepalives, saturation rate, memory during the
deliveries) from loadgen's JSON and the stage samples; and the rounds of
one side combined into one record: the median of each value, the max of
maxima, the sum of failure counts."""

import statistics

from .dovecot_log import LOG_LEVELS, log_group_key


# -- derived metrics ---------------------------------------------------------

def _phase_cpu_ms(samples, a, b):
    if a not in samples or b not in samples:
        return None, None
    sa, sb = samples[a], samples[b]
    return (sb["cpu_ns"] - sa["cpu_ns"]) / 1e6, sb["t"] - sa["t"]


def keepalive_window(lg):
    """Keepalives per wall-clock second between setup_done and the end of
    the quiet phase, from loadgen's histogram (seconds since its start,
    the same clock as its stage times; pauses included in both).
    loadgen's own mean_per_second divides the total, setup included, by
    the post-setup window, so it is not used for the table."""
    ka = lg.get("keepalives", {})
    out = {k: ka.get(k) for k in ("total", "connections_with_keepalive",
                                  "max_per_second", "mean_per_second",
                                  "active_seconds", "window_secs")}
    out = {"loadgen_" + k: v for k, v in out.items()}
    stages = {st["name"]: st["t_ms"] for st in lg.get("stages", [])}
    if "setup_done" not in stages or "quiet_done" not in stages:
        return out
    first = int(stages["setup_done"] // 1000) + 1     # whole seconds only
    last = int(stages["quiet_done"] // 1000) - 1
    secs = max(last - first + 1, 1)
    hist = dict((int(s), c) for s, c in ka.get("histogram", []))
    counts = [hist.get(i, 0) for i in range(first, last + 1)]
    out.update({"window_first_sec": first, "window_last_sec": last,
                "window_secs": secs, "total": sum(counts),
                "max_per_second": max(counts) if counts else 0,
                "mean_per_second": sum(counts) / secs,
                "active_seconds": sum(1 for c in counts if c),
                "connections_with_keepalive":
                    ka.get("connections_with_keepalive")})
    return out


def derive(scenario, rec):
    lg = rec.get("loadgen") or {}
    s = rec["samples"]
    d = {"ok": bool(lg.get("ok")) and rec["error"] is None}
    if not lg:
        return d
    lat = lg.get("latency_ms", {})
    d["latency"] = {k: lat.get(k) for k in
                    ("count", "p50", "p90", "p99", "max", "mean", "min")}
    d["missed"] = lg.get("missed")
    d["late_after_done"] = lg.get("late_after_done")
    d["noop_new"] = lg.get("done_check", {}).get(
        "noop_new_exists_connections")
    d["flag_mismatches"] = lg.get("flag_mismatches")
    d["errors"] = lg.get("errors", {})
    d["lmtp_p50"] = lg.get("lmtp_dot_to_250_ms", {}).get("p50")
    d["lmtp_p99"] = lg.get("lmtp_dot_to_250_ms", {}).get("p99")
    setup = lg.get("setup", {})
    d["setup_rate"] = setup.get("rate_per_sec")
    d["idling"] = setup.get("idling")
    d["keepalives"] = keepalive_window(lg)
    lag = lg.get("loop_lag_ms", {})
    d["loop_lag"] = {"run_p99": lag.get("run", {}).get("p99"),
                     "run_max": lag.get("run", {}).get("max"),
                     "setup_p99": lag.get("setup", {}).get("p99"),
                     "setup_max": lag.get("setup", {}).get("max")}
    n = scenario.connections
    after = "setup_settled" if "setup_settled" in s else "setup_done"
    if "ready" in s and after in s and s["ready"]["pss_kib"] is not None:
        d["pss_kib_before"] = s["ready"]["pss_kib"]
        d["pss_kib_after"] = s[after]["pss_kib"]
        d["pss_kib_per_conn"] = (s[after]["pss_kib"] -
                                 s["ready"]["pss_kib"]) / n
        d["processes_after_setup"] = s[after]["processes"]
    cpu, wall = _phase_cpu_ms(s, "ready", "setup_done")
    if cpu is not None:
        d["setup_cpu_ms_per_conn"] = cpu / n
    delivered = lg.get("deliveries", {}).get("started") or 0
    cpu, wall = _phase_cpu_ms(s, after, "deliveries_done")
    if cpu is not None and delivered:
        d["deliveries_cpu_ms"] = cpu
        d["deliveries_cpu_ms_per_msg"] = cpu / delivered
        c2 = (s["deliveries_done"]["cpu_stat_ns"] -
              s[after]["cpu_stat_ns"]) / 1e6
        d["deliveries_cpu_stat_ms_per_msg"] = c2 / delivered
    b = lg.get("burst")
    if b:
        fe = b.get("final_exists_ms", {})
        d["burst"] = {"messages": b.get("messages"),
                      "duration_ms": b.get("duration_ms"),
                      "idlers_missed": b.get("idlers_missed"),
                      "final_p50": fe.get("p50"), "final_max": fe.get("max"),
                      "final_count": fe.get("count")}
        cpu, wall = _phase_cpu_ms(s, "deliveries_done", "burst_done")
        if cpu is not None and b.get("messages"):
            d["burst"]["cpu_ms"] = cpu
            d["burst"]["cpu_ms_per_msg"] = cpu / b["messages"]
    st = lg.get("flag_storm")
    if st:
        cpu, wall = _phase_cpu_ms(s, "burst_done", "flag_storm_done")
        d["storm"] = dict(st)
        d["storm"]["cpu_ms"] = cpu
        d["storm_cpu_ms"] = cpu
        if cpu is not None and st.get("stores"):
            d["storm"]["cpu_ms_per_store"] = cpu / st["stores"]
    cpu, wall = _phase_cpu_ms(s, "flag_storm_done", "quiet_done")
    if cpu is not None and wall > 0:
        d["idle_cpu_ms_per_s"] = cpu / wall
        d["idle_secs"] = wall
    cpu, wall = _phase_cpu_ms(s, "quiet_done", "teardown_done")
    if cpu is not None:
        d["teardown_cpu_ms_per_conn"] = cpu / n
    # CPU per phase and process name (imap, lmtp, dovecot = master, ...);
    # a process that exits in a phase moves into "(reaped)"
    d["cpu_ms_by_process"] = {}
    order = ["ready", "setup_done", after, "deliveries_done", "burst_done",
             "flag_storm_done", "quiet_done", "teardown_done"]
    names = {"setup_done": "setup", "deliveries_done": "deliveries",
             "burst_done": "burst", "flag_storm_done": "storm",
             "quiet_done": "quiet", "teardown_done": "teardown"}
    prev = None
    for st in order:
        if st not in s or st == prev:
            continue
        if prev is not None and "by_process" in s[st] and \
                "by_process" in s[prev]:
            a, b = s[prev]["by_process"], s[st]["by_process"]
            d["cpu_ms_by_process"][names.get(st, st)] = {
                k: round((b.get(k, 0) - a.get(k, 0)) / 1e6, 3)
                for k in sorted(set(a) | set(b))
                if abs(b.get(k, 0) - a.get(k, 0)) >= 1e5}
        prev = st
    # auth answers LMTP's one userdb lookup per delivery and nothing else
    # meanwhile, on both sides alike: a difference in its CPU per delivery
    # is how fast the machine ran the same work (see control_line())
    phase = "burst" if scenario.primary == "burst" else "deliveries"
    count = ((d.get("burst") or {}).get("messages") if phase == "burst"
             else delivered)
    auth = (d["cpu_ms_by_process"].get(phase) or {}).get("auth")
    if auth is not None and count:
        d["control_cpu_ms_per_msg"] = auth / count
    # the table's main latency and CPU columns, per scenario kind
    if scenario.primary == "burst" and d.get("burst"):
        bb = d["burst"]
        d["main_latency"] = {"p50": bb["final_p50"], "p99": None,
                             "max": bb["final_max"]}
        d["cpu_ms_per_msg"] = bb.get("cpu_ms_per_msg")
    elif scenario.primary == "storm" and d.get("storm"):
        d["main_latency"] = {}
        d["cpu_ms_per_msg"] = d["storm"].get("cpu_ms_per_store")
    else:
        d["main_latency"] = {k: d["latency"].get(k)
                             for k in ("p50", "p99", "max")}
        d["cpu_ms_per_msg"] = d.get("deliveries_cpu_ms_per_msg")
    d.update(_derive_ramp(lg))
    d.update(_derive_during(scenario, rec))
    if lg.get("hot"):
        d["hot"] = lg["hot"]
    return d


def _derive_ramp(lg):
    """The saturation ramp: the highest rate sustained before LMTP's
    reply time p50 doubled (loadgen's verdicts, see loadgen-ramp.c)."""
    ramp = lg.get("ramp")
    if not ramp:
        return {}
    return {"saturation": {
        "rate": ramp.get("sustained_rate"),
        "light_p50": ramp.get("light_p50_ms"),
        "stop": ramp.get("stop"),
        "steps": [{k: st.get(k) for k in ("rate", "achieved_rate",
                                           "lmtp_p50_ms", "lmtp_p99_ms",
                                           "failed", "verdict")}
                  for st in ramp.get("steps", [])]}}


def _derive_during(scenario, rec):
    """Memory and imap processes sampled while the deliveries ran."""
    dd = rec.get("during_deliveries")
    s = rec["samples"]
    if not dd:
        return {}
    out = {"imap_spawned": dd.get("imap_spawned"),
           "imap_processes_median": dd.get("imap_processes_median"),
           "imap_processes_max": dd.get("imap_processes_max"),
           "sampler_error": dd.get("error")}
    base = (s.get("ready") or {}).get("pss_kib")
    if base is not None and dd.get("pss_kib_median") is not None:
        n = scenario.connections
        out["pss_kib_per_conn_during"] = (dd["pss_kib_median"] - base) / n
        out["pss_kib_per_conn_during_max"] = \
            (dd["pss_kib_max"] - base) / n
    return {"during": out}


# -- combining rounds --------------------------------------------------------

# Counts of failures add up over the rounds; a dict named here (loadgen's
# errors, the log's counts by level) has all its numbers added up.
SUM_FIELDS = {"missed", "late_after_done", "noop_new", "flag_mismatches",
              "idlers_missed", "mismatch_at_done", "mismatch_after_fetch",
              "errors", "counts", "lines"}
# Lists of {..., "count"} entries merged by what they count
COUNTED_LISTS = {"reasons": lambda x: x.get("reason"),
                 "groups": lambda x: log_group_key(x.get("example", ""))}


def _combine_mode(field, inherited):
    if inherited == "sum" or field in SUM_FIELDS:
        return "sum"
    words = (field or "").split("_")
    if "max" in words:          # max, final_max, run_max, max_per_second
        return "max"
    if "min" in words:
        return "min"
    return "median"


def _merge_counted(lists, key):
    merged = {}
    for lst in lists:
        for x in lst:
            k = key(x)
            if k in merged:
                merged[k]["count"] = merged[k].get("count", 0) + \
                    x.get("count", 0)
            else:
                merged[k] = dict(x)
    return sorted(merged.values(), key=lambda x: (
        LOG_LEVELS.index(x["level"]) if x.get("level") in LOG_LEVELS else 0,
        -x.get("count", 0)))


def combine_rounds(values, field=None, inherited=None):
    """One value from the same field of R rounds' records, by field name:
    booleans (ok, converged) all true; failure counts (SUM_FIELDS) added;
    maxima the max, minima the min; other numbers the median.  Dicts are
    combined key by key, lists of counted entries merged; anything else is
    the first round's.  A round without the field (it failed) is left
    out."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    first = present[0]
    mode = _combine_mode(field, inherited)
    if isinstance(first, bool):
        return all(present)
    if isinstance(first, dict):
        dicts = [v for v in present if isinstance(v, dict)]
        keys = list(dict.fromkeys(k for d in dicts for k in d))
        return {k: combine_rounds([d.get(k) for d in dicts], k, mode)
                for k in keys}
    if isinstance(first, (int, float)):
        nums = [v for v in present if isinstance(v, (int, float))]
        if mode == "sum":
            return sum(nums)
        if mode == "max":
            return max(nums)
        if mode == "min":
            return min(nums)
        m = statistics.median(nums)
        # 1000 STOREs, not 1000.0
        if all(isinstance(v, int) for v in nums) and m == int(m):
            return int(m)
        return m
    if isinstance(first, list) and field in COUNTED_LISTS:
        return _merge_counted([v for v in present if isinstance(v, list)],
                              COUNTED_LISTS[field])
    return first


def combine_side_rounds(side, recs):
    """One side's R round records as the one record that the table,
    details, targets, markdown and exit status read (res["runs"][side]).
    The raw loadgen output and samples stay in res["rounds"] only; here
    "loadgen" is None if any round got no result, as a single failed run
    is, so that the exit status still says the run failed."""
    errors = [r["error"] if len(recs) == 1 else
              "round %d: %s" % (r.get("round", i) + 1, r["error"])
              for i, r in enumerate(recs) if r.get("error")]
    lgs = [r.get("loadgen") for r in recs]
    loadgen = None
    if all(lg is not None for lg in lgs):
        loadgen = {"ok": all(lg.get("ok") for lg in lgs),
                   "errors": combine_rounds([lg.get("errors") for lg in lgs],
                                            "errors")}
    return {"side": side, "rounds": len(recs),
            "combined": "median of the rounds; max of maxima, sum of "
                        "failure counts; per round in rounds[i]",
            "error": "; ".join(errors) or None,
            "loadgen": loadgen,
            "derived": combine_rounds([r.get("derived") for r in recs]),
            "machine": combine_rounds([r.get("machine") for r in recs]),
            "log": combine_rounds([r.get("log") for r in recs]),
            "wall_secs": combine_rounds([r.get("wall_secs") for r in recs]),
            "settle_secs": [(r.get("settle") or {}).get("secs")
                            for r in recs]}

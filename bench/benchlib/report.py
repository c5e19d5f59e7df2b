# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""What a bench run prints and writes: one table per scenario (the two
sides and their ratio row, candidate/baseline), the lines under it
(per-round spread, details per side, targets), the markdown summary and
the JSON file."""

import json
import os

import scenarios as sc_mod

from .dovecot_log import LOG_LEVELS


# -- output ----------------------------------------------------------------

def fnum(v, unit=""):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        s = "%.0f" % v
    elif a >= 100:
        s = "%.1f" % v
    elif a >= 10:
        s = "%.2f" % v
    elif a >= 1 or a == 0:
        s = "%.3f" % v if a != 0 else "0"
    else:
        s = "%.3f" % v if a >= 0.01 else "%.4f" % v
    return s + unit


def fratio(a, b, suffix=""):
    if a is None or b is None or b == 0:
        return "-"
    r = a / b
    if r >= 100:
        return "%.0f%s" % (r, suffix)
    if r >= 10:
        return "%.1f%s" % (r, suffix)
    return "%.3g%s" % (r, suffix)


COLUMNS = [
    # header, getter, kind (lat = latency: gets the "x faster" row)
    ("p50 ms", lambda d: d.get("main_latency", {}).get("p50"), "lat"),
    ("p99 ms", lambda d: d.get("main_latency", {}).get("p99"), "lat"),
    ("max ms", lambda d: d.get("main_latency", {}).get("max"), "lat"),
    ("missed", lambda d: d.get("missed"), "count"),
    (".>250 ms", lambda d: d.get("lmtp_p50"), "num"),
    ("CPU ms/msg", lambda d: d.get("cpu_ms_per_msg"), "num"),
    ("KiB/conn", lambda d: d.get("pss_kib_per_conn"), "num"),
    ("conn/s", lambda d: d.get("setup_rate"), "num"),
    ("idle ms/s", lambda d: d.get("idle_cpu_ms_per_s"), "num"),
    ("KA max/s", lambda d: (d.get("keepalives") or {}).get("max_per_second"),
     "num"),
    ("KA mean/s", lambda d: (d.get("keepalives") or {}).get(
        "mean_per_second"), "num"),
    ("lag p99/max", None, "lag"),
    # shown only where a side has the value
    ("max rate/s", lambda d: (d.get("saturation") or {}).get("rate"), "opt"),
    ("KiB/conn dlv", lambda d: (d.get("during") or {}).get(
        "pss_kib_per_conn_during"), "opt"),
    ("imap forks", lambda d: (d.get("during") or {}).get("imap_spawned"),
     "opt"),
]

DEFAULT_PAIR = ("stock", "imap_idle")


def pair_of(res):
    """(baseline, candidate) side names of a scenario's result."""
    return tuple(res.get("sides") or DEFAULT_PAIR)


def _cell(col, d):
    header, get, kind = col
    if kind == "lag":
        ll = d.get("loop_lag") or {}
        if ll.get("run_p99") is None:
            return "-"
        return "%s/%s" % (fnum(ll["run_p99"]), fnum(ll["run_max"]))
    v = get(d)
    if kind == "count":
        if v is None:
            return "-"
        late = d.get("late_after_done") or 0
        return "%d" % v + ("+%d late" % late if late else "")
    return fnum(v)


def format_table(scenario, runs, pair=DEFAULT_PAIR):
    base, cand = pair
    ds = {side: runs[side]["derived"] if side in runs else {}
          for side in pair}
    cols = [c for c in COLUMNS if c[2] != "opt" or
            any(c[1](ds[side]) is not None for side in pair)]
    heads = ["", *[c[0] for c in cols]]
    rows = []
    for side in pair:
        if side not in runs:
            continue
        r = runs[side]
        if r.get("error") and not r.get("loadgen"):
            rows.append([side, "FAILED: " + r["error"][:100]])
            continue
        rows.append([side] + [_cell(c, ds[side]) for c in cols])
    if all(s in runs and runs[s].get("loadgen") for s in pair):
        ratio, faster = ["%s/%s" % (cand, base)], ["x faster"]
        for c in cols:
            header, get, kind = c
            if kind == "lag":
                ratio.append("")
                faster.append("")
                continue
            a, b = get(ds[cand]), get(ds[base])
            if kind == "count":
                ratio.append("")
                faster.append("")
                continue
            ratio.append(fratio(a, b))
            if kind != "lat":
                faster.append("")
            elif a is not None and a <= 0:
                faster.append("EXISTS<250")
            else:
                faster.append(fratio(b, a, "x"))
        rows.append(ratio)
        if any(faster[1:]):
            rows.append(faster)
    widths = [max(len(str(r[i])) if i < len(r) else 0
                  for r in rows + [heads]) for i in range(len(heads))]
    out = []

    def line(cells):
        if len(cells) == 2 and cells[1].startswith("FAILED"):
            return cells[0].ljust(widths[0]) + "  " + cells[1]
        return "  ".join(str(c).ljust(widths[0]) if i == 0 else
                         str(c).rjust(widths[i])
                         for i, c in enumerate(cells))
    out.append(line(heads))
    out.append("-" * len(out[0]))
    for r in rows:
        out.append(line(r))
    return "\n".join(out)


def scenario_details(scenario, res):
    """Scenario-specific lines under the table."""
    runs = res["runs"]
    pair = pair_of(res)
    out = []
    for side in pair:
        r = runs.get(side)
        if not r:
            continue
        d = r["derived"]
        bits = []
        lat = d.get("latency") or {}
        if scenario.primary in ("burst", "storm") and lat.get("count"):
            bits.append("rate-delivery latency p50 %s p99 %s" % (
                fnum(lat.get("p50")), fnum(lat.get("p99"))))
        if d.get("burst"):
            b = d["burst"]
            bits.append("burst %s msgs in %s ms, final EXISTS p50 %s max "
                        "%s ms after the last 250, %s idlers missed, "
                        "CPU %s ms/msg" % (
                            b["messages"], fnum(b["duration_ms"]),
                            fnum(b["final_p50"]), fnum(b["final_max"]),
                            b["idlers_missed"], fnum(b.get("cpu_ms_per_msg"))))
        if d.get("storm"):
            st = d["storm"]
            bits.append("storm %s STOREs (%s skipped: previous still "
                        "running), CPU %s ms total = %s ms/STORE, converged "
                        "%s in %s ms, mismatches %s" % (
                            st.get("stores"), st.get("skipped_busy"),
                            fnum(st.get("cpu_ms")),
                            fnum(st.get("cpu_ms_per_store")),
                            "yes" if st.get("converged") else "NO",
                            fnum(st.get("converge_ms")),
                            d.get("flag_mismatches")))
        if scenario.primary == "keepalive":
            ka = d.get("keepalives") or {}
            bits.append("%s keepalives in the %s s after setup, max %s in "
                        "one second, %s seconds with any; %s connections "
                        "got one" % (
                            ka.get("total"), ka.get("window_secs"),
                            ka.get("max_per_second"),
                            ka.get("active_seconds"),
                            ka.get("connections_with_keepalive")))
        phase = {"burst": "burst", "storm": "storm",
                 "keepalive": "quiet"}.get(scenario.primary, "deliveries")
        by = (d.get("cpu_ms_by_process") or {}).get(phase)
        if by:
            top = sorted(by.items(), key=lambda kv: -kv[1])[:5]
            bits.append("%s CPU ms: %s" % (phase, " ".join(
                "%s %s" % (k, fnum(v)) for k, v in top)))
        by = (d.get("cpu_ms_by_process") or {}).get("quiet")
        if by and phase != "quiet" and (d.get("idle_cpu_ms_per_s") or 0) > 1:
            top = sorted(by.items(), key=lambda kv: -kv[1])[:3]
            bits.append("quiet CPU ms: %s" % " ".join(
                "%s %s" % (k, fnum(v)) for k, v in top))
        sat = d.get("saturation")
        if sat:
            bits.append("saturation %s/s (light-load .>250 p50 %s ms, "
                        "stopped: %s); steps rate/achieved/p50: %s" % (
                            fnum(sat.get("rate")), fnum(sat.get("light_p50")),
                            sat.get("stop"), " ".join(
                                "%s/%s/%s" % (fnum(st["rate"]),
                                              fnum(st["achieved_rate"]),
                                              fnum(st["lmtp_p50_ms"]))
                                for st in sat.get("steps") or [])))
        dur = d.get("during")
        if dur:
            bits.append("during deliveries: Pss %s KiB/conn (max %s), "
                        "imap processes median %s max %s, %s imap "
                        "processes forked%s" % (
                            fnum(dur.get("pss_kib_per_conn_during")),
                            fnum(dur.get("pss_kib_per_conn_during_max")),
                            dur.get("imap_processes_median"),
                            dur.get("imap_processes_max"),
                            dur.get("imap_spawned"),
                            "; sampler: " + dur["sampler_error"]
                            if dur.get("sampler_error") else ""))
        if d.get("hot"):
            h = d["hot"]
            bits.append("%s deliveries to %s hot mailboxes, %s to the "
                        "others" % (h.get("deliveries"),
                                    h.get("with_idlers"),
                                    h.get("quiet_deliveries")))
        if "processes_after_setup" in d:
            bits.append("%d Dovecot processes after setup" %
                        d["processes_after_setup"])
        m = r.get("machine")
        if m:
            bits.append("Dovecot %.2f cores, other load %.2f cores, "
                        "stolen by the host %.2f cores" % (
                            m["dovecot_cores"], m["other_cores"],
                            m.get("steal_cores") or 0))
        if r.get("wall_secs") is not None:
            bits.append("%.0f s" % r["wall_secs"])
        lg = r.get("loadgen") or {}
        if lg and not lg.get("ok"):
            reasons = ", ".join("%s x%d" % (x["reason"], x["count"]) for x in
                                lg.get("errors", {}).get("reasons", []))
            bits.append("LOADGEN CHECKS FAILED: missed %s, noop-new %s, "
                        "flag mismatches %s%s" % (
                            d.get("missed"), d.get("noop_new"),
                            d.get("flag_mismatches"),
                            "; " + reasons if reasons else ""))
        if r.get("error"):
            bits.append("ERROR: " + r["error"])
        log = r.get("log") or {}
        c = log.get("counts") or {}
        if any(c.values()):
            bits.append("log: %s" % ", ".join(
                "%d %s" % (c[k], k.lower()) for k in LOG_LEVELS if c[k]))
        out.append("  %-9s %s" % (side, "; ".join(bits)))
        for g in (log.get("groups") or [])[:4]:
            out.append("            x%-5d %s" % (g["count"],
                                                g["example"][:200]))
    if scenario.name == "inotify128" or scenario.inotify_exact:
        p = runs.get(pair[1], {}).get("derived", {})
        mx = (p.get("latency") or {}).get("max")
        if mx is not None:
            out.append("  imap_idle_poll_interval 2000 ms: the latest "
                       "notification came %s ms after its 250 -> %s" % (
                           fnum(mx), "none later than the poll interval"
                           if mx <= 2000 else "LATER than the poll interval"))
    return "\n".join(out)



def rounds_lines(res):
    """With more than one round: what the table's values are, and each
    round's CPU ms/msg and .->250 p50 per side, to show the spread."""
    rounds = res.get("rounds") or []
    if len(rounds) < 2:
        return []
    first = [next(iter(rd), "?") for rd in rounds]
    order = " in ABBA order (ran first: %s)" % ", ".join(first) \
        if len(set(first)) > 1 else ""
    out = ["  note: values are the median of %d rounds%s; max ms the max, "
           "missed and errors the sum" % (len(rounds), order)]
    for side in pair_of(res):
        recs = [rd.get(side) for rd in rounds]
        if not any(recs):
            continue

        def per_round(key, part="derived"):
            return " ".join(fnum(((r or {}).get(part) or {}).get(key))
                            for r in recs)
        out.append("  rounds %-9s CPU ms/msg %s   .>250 p50 ms %s   "
                   "auth ms/msg %s   stolen cores %s" % (
                       side, per_round("cpu_ms_per_msg"),
                       per_round("lmtp_p50"),
                       per_round("control_cpu_ms_per_msg"),
                       per_round("steal_cores", "machine")))
        extra = [(label, [get((r or {}).get("derived") or {})
                          for r in recs])
                 for label, get in ROUND_EXTRAS]
        bits = ["%s %s" % (label, " ".join(fnum(v) for v in vals))
                for label, vals in extra
                if any(v is not None for v in vals)]
        if bits:
            out.append("  rounds %-9s %s" % (side, "   ".join(bits)))
    return out


# per-round values shown where a scenario has them
ROUND_EXTRAS = [
    ("max rate/s", lambda d: (d.get("saturation") or {}).get("rate")),
    ("p50 ms", lambda d: (d.get("main_latency") or {}).get("p50")),
    ("KiB/conn dlv", lambda d: (d.get("during") or {}).get(
        "pss_kib_per_conn_during")),
    ("imap forks", lambda d: (d.get("during") or {}).get("imap_spawned")),
]


def control_line(res):
    """auth's CPU per delivery on the two sides (see derive()): the same
    requests, so a difference is how fast the machine ran them, from the
    host's speed between runs or from the other side's load beside it."""
    base, cand = pair_of(res)
    plugin, stock = (((res["runs"].get(side) or {}).get("derived") or {})
                     .get("control_cpu_ms_per_msg")
                     for side in (cand, base))
    if not (plugin and stock):
        return None
    return ("  control: auth's CPU per delivery, the same requests on both "
            "sides: %s %s, %s %s ms, ratio %s" % (
                cand, fnum(plugin), base, fnum(stock),
                fratio(plugin, stock)))


def evaluate_targets(scenario, res):
    checks = sc_mod.TARGETS.get(scenario.name, [])
    base, cand = pair_of(res)
    if base != "stock":
        # the targets are the plugin's against stock; between two builds
        # only those that judge the new build alone apply
        checks = [c for c in checks if "stock" not in c[0]]
    runs = res["runs"]
    out = []
    if not all(s in runs and runs[s].get("loadgen") for s in (base, cand)):
        return [{"target": t, "met": None, "detail": "run incomplete"}
                for t, _ in checks]
    stock, plugin = runs[base]["derived"], runs[cand]["derived"]
    for text, fn in checks:
        met, detail = fn(stock, plugin)
        out.append({"target": text, "met": met, "detail": detail})
    return out


def markdown_summary(doc):
    rounds = doc.get("rounds", 1)
    cmp = doc.get("comparison") or {}
    pair = (cmp.get("baseline", DEFAULT_PAIR[0]),
            cmp.get("candidate", DEFAULT_PAIR[1]))
    both = len(doc.get("sides", pair)) > 1
    if rounds > 1:
        about = ("Each side ran %d times%s; values are the median over the "
                 "rounds, max ms the max, missed the sum." % (
                     rounds, ", the sides in ABBA order (%s first in odd "
                     "rounds)" % pair[0] if both else ""))
    else:
        about = "Each side ran once%s." % (
            ", %s first" % pair[0] if both else "")
    lines = [about + "  Page cache written back before every run.  "
             "Mail stores on %s." % doc.get("store_fs", "?"), "",
             "| scenario | format | N | U | model | server | p50 ms | p99 ms "
             "| max ms | missed | .→250 p50 ms | CPU ms/msg | Pss KiB/conn "
             "| setup conn/s | idle CPU ms/s | KA max/s |",
             "|" + "---|" * 16]
    extra = []
    for res in doc["scenarios"]:
        p = res["params"]
        for side in pair:
            r = res["runs"].get(side)
            if not r:
                continue
            d = r["derived"]
            ml = d.get("main_latency") or {}
            ka = d.get("keepalives") or {}
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                         "| %s | %s | %s | %s | %s | %s |" % (
                             res["name"], res["format"], p["connections"],
                             p["users"],
                             "1/conn" if p["client_limit"] == 1 else
                             "cl=%d" % p["client_limit"], side,
                             fnum(ml.get("p50")), fnum(ml.get("p99")),
                             fnum(ml.get("max")),
                             "-" if d.get("missed") is None else
                             d.get("missed"),
                             fnum(d.get("lmtp_p50")),
                             fnum(d.get("cpu_ms_per_msg")),
                             fnum(d.get("pss_kib_per_conn")),
                             fnum(d.get("setup_rate")),
                             fnum(d.get("idle_cpu_ms_per_s")),
                             fnum(ka.get("max_per_second"))))
            extra.extend(_markdown_extra(res, side, d))
    if extra:
        lines += ["", "| scenario | format | server | measure | value |",
                  "|---|---|---|---|---|"] + extra
    return "\n".join(lines)


def _markdown_extra(res, side, d):
    """Rows for the values only some scenarios have."""
    out = []
    sat = d.get("saturation")
    if sat:
        out.append("| %s | %s | %s | highest rate before LMTP p50 doubled "
                   "(light-load p50 %s ms, stop: %s) | %s/s |" % (
                       res["name"], res["format"], side,
                       fnum(sat.get("light_p50")), sat.get("stop"),
                       fnum(sat.get("rate"))))
    dur = d.get("during")
    if dur:
        out.append("| %s | %s | %s | Pss KiB/conn during deliveries "
                   "(median / max), imap forks | %s / %s, %s |" % (
                       res["name"], res["format"], side,
                       fnum(dur.get("pss_kib_per_conn_during")),
                       fnum(dur.get("pss_kib_per_conn_during_max")),
                       dur.get("imap_spawned")))
    return out


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False, default=str)
        f.write("\n")
    os.replace(tmp, path)

# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Process accounting of one Dovecot from /proc: CPU and Pss of the master
and all its descendants at a stage (sample_tree), and a sampler that runs
beside a phase (PhaseSampler): memory while deliveries run, and the imap
processes that appear meanwhile (a hibernated client's wake-up forks
one).

  memory  sum of Pss from /proc/PID/smaps_rollup
  CPU     live processes' CPU time plus the master's cutime+cstime
          (reaped children).  Live processes are read from
          /proc/PID/schedstat (ns); the same total from /proc/PID/stat
          utime+stime (10 ms ticks) is kept too."""

import os
import re
import statistics
import threading
import time

from dovecot_instance import process_tree as descendants

CLK_TCK = os.sysconf("SC_CLK_TCK")


def read_file(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def sample_tree(master_pid, memory):
    """CPU (and Pss) of the master and all its descendants now."""
    t = time.monotonic()
    pids = descendants(master_pid)
    sched_ns = stat_ns = reaped_ns = 0
    nprocs = 0
    pss_kib = 0
    by_comm = {}
    for pid in pids:
        st = read_file("/proc/%d/stat" % pid)
        if st is None:
            continue
        comm = st[st.find("(") + 1:st.rfind(")")]
        f = st.rsplit(")", 1)[1].split()
        # after the ')' field 0 is state; utime is stat field 14 -> f[11]
        utime, stime, cutime, cstime = (int(x) for x in f[11:15])
        tick_ns = 1e9 / CLK_TCK
        nprocs += 1
        stat_ns += (utime + stime) * tick_ns
        ss = read_file("/proc/%d/schedstat" % pid)
        ns = int(ss.split()[0]) if ss else (utime + stime) * tick_ns
        sched_ns += ns
        by_comm[comm] = by_comm.get(comm, 0) + ns
        if pid == master_pid:
            reaped_ns = (cutime + cstime) * tick_ns
            by_comm["(reaped)"] = reaped_ns
        if memory:
            roll = read_file("/proc/%d/smaps_rollup" % pid)
            m = re.search(r"^Pss:\s+(\d+) kB", roll or "", re.M)
            if m:
                pss_kib += int(m.group(1))
    return {"t": t, "processes": nprocs,
            "cpu_ns": sched_ns + reaped_ns,
            "cpu_stat_ns": stat_ns + reaped_ns,
            "reaped_ns": reaped_ns, "by_process": by_comm,
            "pss_kib": pss_kib if memory else None,
            "sample_secs": round(time.monotonic() - t, 3)}


def machine_cpu_ns():
    """All CPUs' busy time (user+nice+system+irq+softirq) and the time
    the hypervisor ran something else while this VM had work (steal)."""
    line = read_file("/proc/stat").splitlines()[0].split()
    v = [int(x) for x in line[1:]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6]
    steal = v[7] if len(v) > 7 else 0
    return busy * 1e9 / CLK_TCK, steal * 1e9 / CLK_TCK


def proc_cpu_ns(pid):
    st = read_file("/proc/%d/stat" % pid)
    if st is None:
        return None
    f = st.rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1e9 / CLK_TCK


def each_process(entry):
    """(pid, text of /proc/PID/entry) of every process still there."""
    for d in os.listdir("/proc"):
        if d.isdigit():
            text = read_file("/proc/%s/%s" % (d, entry))
            if text is not None:
                yield int(d), text


def master_children(master_pid, comm):
    """Pids of master_pid's children named comm (imap processes are the
    master's own children), in one pass over /proc."""
    return {pid for pid, st in each_process("stat")
            if st.rsplit(")", 1)[1].split()[1] == str(master_pid) and
            st[st.find("(") + 1:st.rfind(")")] == comm}


class PhaseSampler:
    """Samples a Dovecot tree from a thread while a phase runs: every
    pid_secs the imap processes (new pids are counted as spawned: with
    hibernation each wake-up forks an imap process, which then lives at
    least imap_hibernate_timeout, so a 0.5 s scan sees every one), every
    mem_secs the Pss of the whole tree.  start() and stop(); summary()
    after."""

    def __init__(self, master_pid, pid_secs=0.5, mem_secs=2.0):
        self.master_pid = master_pid
        self.pid_secs, self.mem_secs = pid_secs, mem_secs
        self.stop_event = threading.Event()
        self.thread = None
        self.known_imap = None
        self.spawned = 0
        self.imap_counts = []
        self.memory = []            # (secs since start, Pss KiB, procs)
        self.t0 = None
        self.error = None

    def _imap_pids(self):
        return master_children(self.master_pid, "imap")

    def _scan(self):
        pids = self._imap_pids()
        self.spawned += len(pids - self.known_imap)
        self.known_imap |= pids
        self.imap_counts.append(len(pids))

    def _loop(self):
        next_mem = time.monotonic()
        try:
            while not self.stop_event.is_set():
                self._scan()
                now = time.monotonic()
                if now >= next_mem:
                    s = sample_tree(self.master_pid, True)
                    self.memory.append((round(now - self.t0, 2),
                                        s["pss_kib"], s["processes"]))
                    next_mem = now + self.mem_secs
                self.stop_event.wait(self.pid_secs)
        except Exception as e:      # a sampler must not stop the run
            self.error = "%s: %s" % (type(e).__name__, e)

    def start(self):
        self.t0 = time.monotonic()
        self.known_imap = self._imap_pids()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self):
        if self.thread is not None:
            self.stop_event.set()
            self.thread.join(timeout=30)

    def summary(self):
        pss = [m[1] for m in self.memory]
        return {"secs": round(time.monotonic() - self.t0, 2)
                if self.t0 else None,
                "imap_spawned": self.spawned,
                "imap_processes_median": statistics.median(
                    self.imap_counts) if self.imap_counts else None,
                "imap_processes_max": max(self.imap_counts)
                if self.imap_counts else None,
                "pss_kib_median": statistics.median(pss) if pss else None,
                "pss_kib_max": max(pss) if pss else None,
                "memory_samples": self.memory,
                "error": self.error}

#!/usr/bin/python3
# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""make churn: thousands of idlers, then minutes of connection churn with
deliveries running, in both process modes; not part of CI.

Per mode (client_limit = 1, and client_limit = 50):
  1. a Dovecot of its own (harness, plugin loaded, mdbox) and bench/loadgen
     with --idlers connections idling (users 1..U);
  2. once they all idle, loadgen delivers at --rate for --minutes while
     --churners threads each loop: connect, LOGIN, SELECT, IDLE, wait for
     the EXISTS of a message saved for their own user, DONE, LOGOUT;
  3. the long-lived processes (master, log, anvil, stats, auth, config;
     with client_limit = 50 also the imap processes that serve the
     idlers) are sampled for open fds and RSS before the churn, a third
     of the way in (every mailbox has had mail by then, and has opened
     its files once) and at the end; the limits apply to the last two
     thirds.
With --hibernate SECS, imap_hibernate_timeout is SECS: the idlers
hibernate and wake again with every delivery to their mailbox, and
imap-hibernate is one of the long-lived processes (its fds are counted
without the two each hibernated client holds: its connection and its
inotify instance).  --mutators threads then also each own a user with an
idling connection, and loop for the same bounded time: wait a random
time of up to 2.5 quiet times (so the idler is hibernated about half the
time), then deliver, flag or unflag a message or expunge one (STORE and
EXPUNGE from a second connection), and the idler must report exactly
that change; now and then DONE and IDLE again.  At the end each compares
its mailbox (FETCH 1:* FLAGS) with what its idler was told.
Fails (exit 1) if loadgen missed a notification or failed a check, a
churn cycle missed its EXISTS or failed, a mutator's idler missed a
change or ended with another view of the mailbox, Dovecot's log has an
Error, Panic or Fatal line, or a long-lived process grew by more than
--fd-growth fds or --rss-growth-kb kB.

With --raise-inotify, fs.inotify.max_user_instances is raised for the run
if it is lower than the number of imap processes needs (and restored
afterwards), as bench/run does; without it (the default, as the limit is
machine-wide) the imap processes beyond the limit poll, which the log
shows as warnings."""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))

from dovecot_instance import (DovecotInstance, TOP_BUILDDIR,  # noqa: E402
                              make_message)
from imap_client import ImapClient, exists_count  # noqa: E402

FETCH_RE = re.compile(r"\* (\d+) FETCH .*FLAGS \(([^)]*)\)")
EXPUNGE_RE = re.compile(r"\* (\d+) EXPUNGE$")

LOADGEN = os.path.join(TOP_BUILDDIR, "bench", "loadgen")
CHURN_UID = 12399
INSTANCES = "/proc/sys/fs/inotify/max_user_instances"
LONG_LIVED = ("dovecot", "log", "anvil", "stats", "auth", "config",
              "imap-hibernate")
BAD_LOG_RE = re.compile(r"\b(Error|Panic|Fatal):|assert")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--idlers", type=int, default=5000)
    p.add_argument("--users", type=int, default=500)
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--rate", type=float, default=20.0,
                   help="loadgen deliveries per second")
    p.add_argument("--churners", type=int, default=8)
    p.add_argument("--churn-pace", type=float, default=0.0, metavar="SECS",
                   help="each churner starts a cycle at most every SECS "
                   "(0: as fast as it can) [0]")
    p.add_argument("--modes", default="1,50",
                   help="client_limit values to run [1,50]")
    p.add_argument("--hibernate", type=int, default=0, metavar="SECS",
                   help="imap_hibernate_timeout; 0 = no hibernation [0]")
    p.add_argument("--mutators", type=int, default=4,
                   help="with --hibernate: threads that deliver, flag and "
                   "expunge behind a hibernating idler [4]")
    p.add_argument("--mail-format", default="mdbox",
                   choices=["mdbox", "maildir"])
    p.add_argument("--mail-uid", type=int, default=CHURN_UID,
                   help="uid of the mail (inotify limits are per uid) "
                   "[%d]" % CHURN_UID)
    p.add_argument("--stock", action="store_true",
                   help="without the plugin (to compare)")
    p.add_argument("--save-logs", metavar="DIR",
                   help="keep each mode's Dovecot log in DIR")
    p.add_argument("--fd-growth", type=int, default=5)
    p.add_argument("--rss-growth-kb", type=int, default=8192)
    p.add_argument("--raise-inotify", action="store_true",
                   help="raise fs.inotify.max_user_instances for the run")
    p.add_argument("--json", help="write the results here too")
    return p.parse_args()


def tcp_socket_inodes():
    inodes = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                inodes.update(row.split()[9] for row in f)
        except OSError:
            pass
    return inodes


def hibernated_client_fds(pid, tcp_inodes):
    """imap-hibernate's fds for its clients: each one's connection (a TCP
    socket) and its inotify instance."""
    n = 0
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target == "anon_inode:inotify" or (
                target.startswith("socket:[") and
                target[8:-1] in tcp_inodes):
            n += 1
    return n


def proc_stat(pid, tcp_inodes):
    try:
        fds = len(os.listdir("/proc/%d/fd" % pid))
        with open("/proc/%d/status" % pid) as f:
            rss = [int(l.split()[1]) for l in f if l.startswith("VmRSS:")]
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
        if comm == "imap-hibernate":
            fds -= hibernated_client_fds(pid, tcp_inodes)
    except OSError:
        return None
    return {"comm": comm, "fds": fds, "rss_kb": rss[0] if rss else 0}


def long_lived(dc, client_limit):
    out = {}
    tcp_inodes = tcp_socket_inodes()
    for pid in dc.descendant_pids():
        st = proc_stat(pid, tcp_inodes)
        if st is None:
            continue
        if st["comm"] in LONG_LIVED or (client_limit > 1 and
                                        st["comm"] == "imap"):
            out[pid] = st
    return out


class Churner(threading.Thread):
    def __init__(self, dc, user, deadline, pace_secs=0.0):
        super().__init__(daemon=True)
        self.dc, self.user, self.deadline = dc, user, deadline
        self.pace_secs = pace_secs
        self.cycles = 0
        self.failures = []

    def run(self):
        while time.monotonic() < self.deadline:
            started = time.monotonic()
            try:
                self.cycle()
                self.cycles += 1
            except Exception as e:      # noqa: BLE001 - counted, reported
                self.failures.append("%s: %s" % (self.user, e))
                if len(self.failures) > 20:
                    return
            # a cycle at most every pace_secs: a faster push must not
            # mean more logins per second than the other side made
            time.sleep(max(0.0, started + self.pace_secs - time.monotonic()))

    def cycle(self):
        c = ImapClient(self.dc.host, self.dc.imap_port, timeout=60)
        try:
            c.login(self.user, self.dc.password)
            untagged, _ = c.select("INBOX")
            n = [exists_count(l) for l in untagged
                 if exists_count(l) is not None][0]
            tag, _ = c.idle()
            self.dc.doveadm("save", "-u", self.user, "-m", "INBOX",
                            input_bytes=make_message(subject="churn"))
            c.read_until(lambda l: exists_count(l) == n + 1, timeout=60)
            untagged, tagged = c.done(tag)
            if not tagged.startswith(tag + " OK"):
                raise RuntimeError("DONE: %s" % tagged)
            c.command("LOGOUT")
        finally:
            c.close()


class Mutator(threading.Thread):
    """Changes its user's INBOX from one connection while another idles
    (and hibernates); every change must reach the idler."""
    SEED = 3

    def __init__(self, dc, user, deadline, quiet_secs, seed):
        super().__init__(daemon=True)
        self.dc, self.user, self.deadline = dc, user, deadline
        self.quiet_secs = quiet_secs
        self.rand = random.Random(seed)
        self.actions = {"deliver": 0, "flag": 0, "unflag": 0,
                        "expunge": 0, "done": 0}
        self.failures = []
        self.count = 0
        self.flagged = set()

    def connect(self):
        c = ImapClient(self.dc.host, self.dc.imap_port, timeout=60)
        c.login(self.user, self.dc.password)
        return c

    def run(self):
        idler = mutator = None
        try:
            for i in range(self.SEED):
                self.dc.doveadm("save", "-u", self.user, "-m", "INBOX",
                                input_bytes=make_message(subject="seed"))
            idler, mutator = self.connect(), self.connect()
            mutator.select("INBOX")
            untagged, _ = idler.select("INBOX")
            self.count = [exists_count(l) for l in untagged
                          if exists_count(l) is not None][0]
            tag, _ = idler.idle()
            while time.monotonic() < self.deadline:
                time.sleep(self.rand.uniform(0, 2.5 * self.quiet_secs))
                tag = self.step(idler, mutator, tag)
            untagged, tagged = idler.done(tag)
            if not tagged.startswith(tag + " OK"):
                raise RuntimeError("DONE: %s" % tagged)
            self.compare(idler)
        except Exception as e:      # noqa: BLE001 - reported
            self.failures.append("%s: %s" % (self.user, e))
        finally:
            for c in (idler, mutator):
                if c is not None:
                    c.close()

    def step(self, idler, mutator, tag):
        action = self.rand.choice(["deliver", "deliver", "flag", "expunge",
                                   "done"])
        if action == "done":
            untagged, tagged = idler.done(tag)
            if not tagged.startswith(tag + " OK"):
                raise RuntimeError("DONE: %s" % tagged)
            self.note(untagged)
            tag, untagged = idler.idle()
            self.note(untagged)
        elif action == "deliver":
            self.dc.deliver_lmtp(self.user,
                                 make_message(subject="mutator"))
            want = self.count + 1
            self.note(idler.read_until(
                lambda l: exists_count(l) == want, timeout=60))
        elif action == "flag" or self.count <= 1:
            seq = self.rand.randint(1, self.count)
            on = seq not in self.flagged
            action = "flag" if on else "unflag"
            mutator.command("NOOP")
            mutator.command("STORE %d %sFLAGS.SILENT (\\Flagged)" % (
                seq, "+" if on else "-"))
            self.note(idler.read_until(
                lambda l: self.fetch_flagged(l, seq) == on, timeout=60))
        else:
            seq = self.rand.randint(1, self.count)
            mutator.command("NOOP")
            mutator.command("STORE %d +FLAGS.SILENT (\\Deleted)" % seq)
            mutator.command("EXPUNGE")
            self.note(idler.read_until(
                lambda l: l == "* %d EXPUNGE" % seq, timeout=60))
        self.actions[action] += 1
        return tag

    @staticmethod
    def fetch_flagged(line, seq):
        m = FETCH_RE.match(line)
        if m is None or int(m.group(1)) != seq:
            return None
        return "\\Flagged" in m.group(2).split()

    def note(self, lines):
        """Follows the idler's view: EXISTS, EXPUNGE, FETCH FLAGS."""
        for line in lines:
            n = exists_count(line)
            m = EXPUNGE_RE.match(line)
            f = FETCH_RE.match(line)
            if n is not None:
                self.count = n
            elif m is not None:
                seq = int(m.group(1))
                self.count -= 1
                self.flagged = {s - 1 if s > seq else s
                                for s in self.flagged if s != seq}
            elif f is not None:
                seq = int(f.group(1))
                if "\\Flagged" in f.group(2).split():
                    self.flagged.add(seq)
                else:
                    self.flagged.discard(seq)

    def compare(self, idler):
        untagged, _ = idler.command("FETCH 1:* (FLAGS)")
        self.note([l for l in untagged if exists_count(l) is not None or
                   EXPUNGE_RE.match(l)])
        flagged = {int(f.group(1)) for f in map(FETCH_RE.match, untagged)
                   if f is not None and "\\Flagged" in f.group(2).split()}
        fetched = sum(1 for l in untagged if FETCH_RE.match(l))
        if fetched != self.count or flagged != self.flagged:
            raise RuntimeError(
                "the idler was told %d messages, flagged %s; the mailbox "
                "has %d, flagged %s" % (self.count, sorted(self.flagged),
                                        fetched, sorted(flagged)))


def raise_instances(needed):
    with open(INSTANCES) as f:
        old = int(f.read())
    if old >= needed:
        return None
    with open(INSTANCES, "w") as f:
        f.write(str(needed))
    return old


def run_mode(args, client_limit):
    idlers, users = args.idlers, args.users
    churn_users = ["churn%d" % i for i in range(1, args.churners + 1)]
    mutator_users = ["mut%d" % i for i in range(1, args.mutators + 1)] \
        if args.hibernate else []
    procs = idlers if client_limit == 1 else -(-idlers // client_limit)
    service = ("  client_limit = %d\n  service_count = %d\n"
               "  process_limit = %d\n" % (
                   client_limit, 1 if client_limit == 1 else 0,
                   max(1024, procs * 2 + 100)))
    extra = ("default_client_limit = 15000\n"
             "default_process_limit = 1000\n"
             "service auth {\n  client_limit = 15000\n}\n"
             "service anvil {\n  client_limit = 15000\n}\n"
             "service stats {\n  client_limit = 15000\n}\n"
             "service imap-login {\n  process_limit = 1000\n"
             "  process_min_avail = 2\n}\n")
    if args.hibernate:
        extra += ("imap_hibernate_timeout = %ds\n"
                  "log_debug = event=imap_idle_hibernated OR "
                  "event=imap_idle_hibernate_refused OR "
                  "event=imap_client_hibernated\n" % args.hibernate)
    messages = int(args.rate * args.minutes * 60)
    result = {"client_limit": client_limit, "idlers": idlers,
              "minutes": args.minutes, "deliveries": messages,
              "hibernate_secs": args.hibernate,
              "mail_format": args.mail_format}
    old_instances = None
    if args.raise_inotify:
        old_instances = raise_instances(procs + args.churners +
                                        2 * args.mutators + 64)
    try:
        with DovecotInstance(
                users=["user%d" % i for i in range(1, users + 1)] +
                churn_users + mutator_users, mail_format=args.mail_format,
                service_imap=service, plugin=not args.stock,
                extra_conf=extra, mail_uid=args.mail_uid) as dc:
            jpath = os.path.join(dc.tmp, "loadgen.json")
            cmd = [LOADGEN, "--imap-port", str(dc.imap_port),
                   "--lmtp-port", str(dc.lmtp_port),
                   "--connections", str(idlers), "--users", str(users),
                   "--messages", str(messages), "--rate", str(args.rate),
                   "--min-spacing-ms", "0", "--settle-secs", "60",
                   "--setup-timeout-secs", "600",
                   "--timeout-secs", str(int(args.minutes * 60 + 1800)),
                   "--json", jpath, "--no-progress"]
            lg = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
            try:
                for line in lg.stdout:
                    if line.strip() == "STAGE setup_done":
                        break
                else:
                    raise RuntimeError("loadgen ended before its idlers "
                                       "were set up: %s" % lg.stderr.read())
                before = long_lived(dc, client_limit)
                log_since = len(dc.log_text())
                deadline = time.monotonic() + args.minutes * 60
                threads = [Churner(dc, u, deadline, args.churn_pace)
                           for u in churn_users]
                mutators = [Mutator(dc, u, deadline, args.hibernate, n)
                            for n, u in enumerate(mutator_users)]
                for t in threads + mutators:
                    t.start()
                # the first deliveries to each mailbox open its files
                # once (cache, mdbox storage): growth is measured from a
                # third of the way in, when every mailbox had mail
                time.sleep(args.minutes * 60 / 3)
                warm = long_lived(dc, client_limit)
                for t in threads + mutators:
                    t.join(args.minutes * 60 + 120)
                after = long_lived(dc, client_limit)
                for line in lg.stdout:
                    pass
                result["loadgen_exit"] = lg.wait(timeout=1800)
            finally:
                if lg.poll() is None:
                    lg.kill()
                    lg.wait()
            with open(jpath) as f:
                report = json.load(f)
            result["loadgen_ok"] = report.get("ok")
            result["missed"] = report.get("missed")
            result["churn_cycles"] = sum(t.cycles for t in threads)
            result["churn_failures"] = [f for t in threads
                                        for f in t.failures][:20]
            result["mutator_actions"] = {
                a: sum(t.actions[a] for t in mutators)
                for a in ("deliver", "flag", "unflag", "expunge", "done")}
            result["mutator_failures"] = [f for t in mutators
                                          for f in t.failures][:20]
            if args.save_logs:
                os.makedirs(args.save_logs, exist_ok=True)
                with open(os.path.join(args.save_logs, "dovecot-%d.log"
                                       % client_limit), "w") as f:
                    f.write(dc.log_text())
            log = dc.log_text()[log_since:]
            # the plugin's event, or stock's
            result["hibernations"] = log.count(
                "Successfully hibernated" if args.stock else
                "Hibernated after")
            result["hibernate_refusals"] = log.count("Not hibernating")
            growth = {}
            # imap-hibernate starts at the first hibernation
            for pid, st in warm.items():
                st = before.get(pid, st)
                if pid in after:
                    growth["%s[%d]" % (st["comm"], pid)] = {
                        "fds": after[pid]["fds"] - warm[pid]["fds"],
                        "rss_kb": after[pid]["rss_kb"] -
                        warm[pid]["rss_kb"],
                        "fds_from_start": after[pid]["fds"] - st["fds"],
                        "rss_kb_from_start": after[pid]["rss_kb"] -
                        st["rss_kb"],
                        "fds_before": st["fds"],
                        "rss_kb_before": st["rss_kb"]}
            result["growth"] = growth
            result["bad_log_lines"] = [
                l for l in dc.log_text()[log_since:].splitlines()
                if BAD_LOG_RE.search(l)][:20]
    finally:
        if old_instances is not None:
            with open(INSTANCES, "w") as f:
                f.write(str(old_instances))
    problems = []
    if result["loadgen_exit"] != 0 or not result["loadgen_ok"]:
        problems.append("loadgen failed a check (exit %s, missed %s)" % (
            result["loadgen_exit"], result["missed"]))
    if result["churn_failures"]:
        problems.append("churn cycles failed: %r" % result["churn_failures"])
    if result["mutator_failures"]:
        problems.append("mutators failed: %r" % result["mutator_failures"])
    if args.hibernate and not result["hibernations"]:
        problems.append("no idler hibernated")
    if result["bad_log_lines"]:
        problems.append("Dovecot log: %r" % result["bad_log_lines"])
    for name, g in result["growth"].items():
        if g["fds"] > args.fd_growth or g["rss_kb"] > args.rss_growth_kb:
            problems.append("%s grew: %r" % (name, g))
    result["problems"] = problems
    return result


def main():
    args = parse_args()
    if not os.path.exists(LOADGEN):
        sys.exit("churn: %s is missing (run make)" % LOADGEN)
    results = []
    for mode in args.modes.split(","):
        t0 = time.monotonic()
        r = run_mode(args, int(mode))
        r["wall_secs"] = round(time.monotonic() - t0, 1)
        results.append(r)
        g = r["growth"].values()
        worst_fds = max([x["fds"] for x in g] or [0])
        worst_rss = max([x["rss_kb"] for x in g] or [0])
        first_fds = max([x["fds_from_start"] for x in g] or [0])
        first_rss = max([x["rss_kb_from_start"] for x in g] or [0])
        hib = ""
        if args.hibernate:
            hib = ("; %d hibernations, %d refusals; mutators %s" % (
                r["hibernations"], r["hibernate_refusals"],
                " ".join("%s %d" % kv
                         for kv in r["mutator_actions"].items())))
        print("client_limit=%s: %d idlers, %d deliveries, %d churn cycles "
              "in %.1f min; missed %s%s; long-lived processes %d, max "
              "growth over the last 2/3 %+d fds, %+d kB RSS (from the start "
              "%+d fds, %+d kB); log errors %d; %s" % (
                  mode, r["idlers"], r["deliveries"], r["churn_cycles"],
                  r["minutes"], r["missed"], hib, len(r["growth"]),
                  worst_fds, worst_rss, first_fds, first_rss,
                  len(r["bad_log_lines"]),
                  "OK" if not r["problems"] else "FAILED: %s"
                  % "; ".join(r["problems"])))
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    sys.exit(1 if any(r["problems"] for r in results) else 0)


if __name__ == "__main__":
    main()

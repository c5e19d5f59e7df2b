# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The machine around the runs: fs.inotify.max_user_instances per
scenario, the mail stores' own filesystem, letting the previous run's
writeback finish before the next run, the bench's mail uid (whose
processes must all be gone between runs), and what the JSON says about
the host."""

import os
import platform
import re
import subprocess
import sys
import time

from .accounting import each_process, read_file
from .console import PROGRESS, say

INOTIFY_SYSCTL = "/proc/sys/fs/inotify/max_user_instances"
# The bench's own mail uid: fs.inotify.max_user_instances counts per uid,
# so other Dovecots on this machine (tests use 12345) neither eat into the
# bench's instances nor suffer from its 1000s of idlers.
BENCH_UID = int(os.environ.get("IMAP_IDLE_BENCH_UID", "23456"))
# settle_writeback(): Dirty+Writeback below this counts as settled
WRITEBACK_SETTLED_KIB = 2048
WRITEBACK_WAIT_SECS = 20
SETTLE_PAUSE_SECS = 2


class InotifyLimit:
    """fs.inotify.max_user_instances: raised or set per scenario, the
    original value put back after each scenario and at exit."""

    def __init__(self, allowed=True):
        self.allowed = allowed
        self.original = self.read()
        self.changed = False

    @staticmethod
    def read():
        try:
            with open(INOTIFY_SYSCTL) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def _write(self, value):
        with open(INOTIFY_SYSCTL, "w") as f:
            f.write("%d\n" % value)

    def apply(self, scenario, notes):
        """Returns the value in force for the scenario."""
        cur = self.read()
        want = None
        if scenario.inotify_exact:
            if cur != scenario.inotify_exact:
                want = scenario.inotify_exact
        elif scenario.one_process_per_connection or \
                "imap_hibernate" in scenario.dovecot_conf:
            need = scenario.inotify_needed()
            if cur is not None and cur < need:
                want = need
        if want is None:
            return cur
        if not self.allowed:
            notes.append("fs.inotify.max_user_instances is %s, the scenario "
                         "wants %d; left alone (--no-sysctl)" % (cur, want))
            return cur
        try:
            self._write(want)
            self.changed = True
            notes.append("fs.inotify.max_user_instances %s -> %d for this "
                         "scenario" % (cur, want))
            return want
        except OSError as e:
            notes.append("cannot set fs.inotify.max_user_instances to %d: "
                         "%s (it stays %s)" % (want, e, cur))
            return cur

    def restore(self):
        if self.changed and self.original is not None:
            try:
                self._write(self.original)
                self.changed = False
            except OSError as e:
                print("bench/run: cannot restore %s to %d: %s" % (
                    INOTIFY_SYSCTL, self.original, e), file=sys.stderr)


class StoreFilesystem:
    """The mail stores live on a filesystem mounted for the bench's
    lifetime: a tmpfs, or an ext4 with a journal loop-mounted from a
    sparse image.  Where the temp dir's own filesystem is ext4 without a
    journal (this kind of machine's root), each new inode skips every
    inode deleted in the last 60-360 s (ext4's recently_deleted()), so a
    run paid for the files the runs before it removed or replaced:
    stock's idlers alone replace a uidlist and a lock per sync.  Neither
    tmpfs nor a journaled ext4 makes that check; tmpfs also leaves out
    the disk, whose journal commits made two runs of the same side differ
    by up to 40 % in LMTP's reply time."""

    SIZE = 16 << 30           # sparse; 2M inodes, one per 8 KiB

    def __init__(self, parent):
        self.parent = parent
        self.image = os.path.join(parent, "store.img")
        self.mountpoint = os.path.join(parent, "store")
        self.mounted = False
        self.description = None

    def _commands(self, kind):
        if kind == "tmpfs":
            return [["mount", "-t", "tmpfs", "-o", "size=8g,mode=0755",
                     "imap-idle-bench", self.mountpoint]]
        with open(self.image, "wb") as f:
            f.truncate(self.SIZE)
        return [["mkfs.ext4", "-q", "-F", "-i", "8192",
                 "-E", "lazy_itable_init=0,lazy_journal_init=0",
                 self.image],
                ["mount", "-o", "loop", self.image, self.mountpoint]]

    def mount(self, kind):
        """Returns the directory the stores go under."""
        why = "--store-fs tmp" if kind == "tmp" else None
        if why is None:
            try:
                os.mkdir(self.mountpoint, 0o755)
                for cmd in self._commands(kind):
                    r = subprocess.run(cmd, capture_output=True, text=True,
                                       timeout=120)
                    if r.returncode != 0:
                        raise OSError("%s: %s" % (
                            " ".join(cmd[:2]), r.stderr.strip() or
                            "exit %d" % r.returncode))
                self.mounted = True
                os.chmod(self.mountpoint, 0o755)
                self.description = {
                    "tmpfs": "tmpfs",
                    "ext4": "ext4 with journal, loop-mounted image"}[kind]
                return self.mountpoint
            except (OSError, subprocess.SubprocessError) as e:
                why = str(e)
        self.description = "the temp dir's filesystem (%s)" % why
        say("bench/run: note: mail stores on the temp dir's filesystem, "
            "not one of their own (%s)" % why)
        return self.parent

    def unmount(self):
        if self.mounted:
            for cmd in (["umount", self.mountpoint],
                        ["umount", "-l", self.mountpoint]):
                r = subprocess.run(cmd, capture_output=True, text=True,
                                   timeout=120)
                if r.returncode == 0:
                    self.mounted = False
                    break
            if self.mounted:
                print("bench/run: cannot unmount %s: %s" % (
                    self.mountpoint, r.stderr.strip()), file=sys.stderr)
        try:
            os.unlink(self.image)
        except OSError:
            pass



def dirty_kib():
    """Page cache not yet on disk: Dirty + Writeback from /proc/meminfo."""
    found = re.findall(r"^(?:Dirty|Writeback):\s+(\d+) kB",
                       read_file("/proc/meminfo") or "", re.M)
    return sum(int(x) for x in found) if found else None


def settle_writeback(label):
    """Lets the previous run's disk work finish before the next run starts:
    its 1000s of maildir files, written and then deleted, are otherwise
    written back and journalled while the next run is measured, which made
    whichever side ran second 20-60% slower.  sync, wait (bounded) until
    little is dirty, then a short fixed pause for what sync does not cover
    (the journal commit, freeing the deleted files' blocks)."""
    t0 = time.monotonic()
    before = dirty_kib()
    PROGRESS.show("%s settling writeback (%s KiB dirty)" % (label, before))
    os.sync()
    after = dirty_kib()
    # other work on the machine may keep writing: bounded wait
    while after is not None and after > WRITEBACK_SETTLED_KIB and \
            time.monotonic() - t0 < WRITEBACK_WAIT_SECS:
        time.sleep(0.2)
        after = dirty_kib()
    waited = time.monotonic() - t0
    time.sleep(SETTLE_PAUSE_SECS)
    out = {"dirty_kib_before": before, "dirty_kib_after": after,
           "sync_wait_secs": round(waited, 2),
           "secs": round(time.monotonic() - t0, 2),
           "settled": after is not None and after <= WRITEBACK_SETTLED_KIB}
    if waited > 5 or not out["settled"]:
        say("  %s writeback: %s KiB dirty, %s KiB after %.0f s%s" % (
            label, before, after, waited,
            "" if out["settled"] else " (not settled, going on)"))
    return out


def bench_uid_pids():
    """Processes running as the bench's mail uid (they are all ours)."""
    out = []
    for pid, st in each_process("status"):
        m = re.search(r"^Uid:\s+(\d+)\s+(\d+)", st, re.M)
        if m and BENCH_UID in (int(m.group(1)), int(m.group(2))):
            out.append(pid)
    return out


def wait_bench_uid_gone(timeout=60):
    """After a Dovecot stopped, its imap processes may still be exiting and
    holding inotify instances (counted per uid) and CPU; the next run must
    not start before they are gone.  Returns the pids still there."""
    deadline = time.monotonic() + timeout
    while True:
        pids = bench_uid_pids()
        if not pids or time.monotonic() > deadline:
            return pids
        time.sleep(0.2)


def host_info():
    try:
        ver = subprocess.run(["/usr/sbin/dovecot", "--version"],
                             capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        ver = None
    return {"hostname": platform.node(), "kernel": platform.release(),
            "cpus": os.cpu_count(), "dovecot": ver,
            "loadavg": (read_file("/proc/loadavg") or "").split()[:3],
            "inotify_max_user_instances": InotifyLimit.read(),
            "bench_mail_uid": BENCH_UID}

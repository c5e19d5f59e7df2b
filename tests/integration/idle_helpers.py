# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Helpers shared by the integration tests: reading IMAP responses with
generous deadlines, finding a session's imap process, classifying how a
session ended, filling a maildir quickly, and the inotify exhauster used to
force the poll fallback.  Fixtures live in conftest.py."""

import errno
import os
import re
import signal
import socket
import subprocess
import sys
import time

HARNESS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..",
                                       "harness"))
if HARNESS not in sys.path:
    sys.path.insert(0, HARNESS)

from dovecot_instance import (DovecotInstance, DovecotError,  # noqa: E402
                              LmtpClient, make_message, MAIL_UID)
from imap_client import ImapClient, ImapError, exists_count  # noqa: E402
import runtime_checks  # noqa: E402

__all__ = ["DovecotInstance", "DovecotError", "LmtpClient", "make_message",
           "ImapClient", "ImapError", "exists_count", "MAIL_UID",
           "TEST_MAIL_UID", "runtime_checks"]

# The suite's mail uid.  Not the harness default on purpose: inotify
# instances are limited per uid, and a benchmark or demo of the same
# machine running as MAIL_UID must not make these tests fall back to
# polling (or the other way round).
TEST_MAIL_UID = int(os.environ.get("IMAP_IDLE_TEST_MAIL_UID", "12346"))

BAD_LOG_RE = re.compile(r"Panic|Fatal|assert")

# generous limits: functional checks, never a benchmark
T_EVENT = 10.0      # an event that should come "at once"
T_REPLY = 10.0      # a command's reply


# Configurations of the Dovecots that conftest's shared_dovecot fixture
# shares between tests: DovecotInstance keyword arguments.
PROFILES = {
    "default": dict(extra_conf="log_debug = category=imap-idle\n"),
    # keepalives every second
    "keepalive": dict(extra_conf="log_debug = category=imap-idle\n"
                                 "imap_idle_notify_interval = 1 secs\n"),
    # NOTIFY (RFC 5465) needs the mailbox list index
    "notify": dict(extra_conf="log_debug = category=imap-idle\n"
                              "mailbox_list_index = yes\n"),
    "nokeepalive": dict(extra_conf="log_debug = category=imap-idle\n"
                                   "imap_idle_notify_interval = 0\n"),
    # only DONE (or the 10 s timer) syncs
    "slow": dict(extra_conf="log_debug = category=imap-idle\n",
                 settings={"imap_idle_notify_delay": "10s"}),
    "slow-nodonesync": dict(extra_conf="log_debug = category=imap-idle\n",
                            settings={"imap_idle_notify_delay": "10s",
                                      "imap_idle_done_sync": "no"}),
}


def register_profile(name, **instance_kwargs):
    """For test modules: a shared configuration of their own, used with
    shared_dovecot(profile=name)."""
    PROFILES.setdefault(name, instance_kwargs)


# pids a test killed on purpose (SIGKILL): the master's Fatal line about
# them is expected
KILLED_PIDS = set()
KILLED_RE = re.compile(r"child (\d+) killed with signal 9")


# A service still starting when the master is told to stop (a test that
# starts Dovecot and stops it at once, on a loaded machine) finds the
# config process gone: that Fatal line is the shutdown's, not a bug.
SHUTDOWN_CONFIG_RE = re.compile(
    r"Fatal: Failed to read configuration: fd_read\(\) failed: "
    r"(Connection reset by peer|EOF)")


def bad_log_lines(text, stopping_at=None):
    """Panic/Fatal/assert lines of a Dovecot log, but those of processes a
    test killed on purpose, and a service's failed configuration read
    logged after log offset stopping_at (when the master was stopped)."""
    def expected(line, at):
        m = KILLED_RE.search(line)
        if m is not None and int(m.group(1)) in KILLED_PIDS:
            return True
        return stopping_at is not None and at >= stopping_at and \
            SHUTDOWN_CONFIG_RE.search(line) is not None
    bad = []
    at = 0
    for line in text.splitlines(keepends=True):
        if BAD_LOG_RE.search(line) and not expected(line, at):
            bad.append(line.rstrip("\n"))
        at += len(line)
    return bad


# -- reading ------------------------------------------------------------------
class Closed(Exception):
    """The server closed the connection; .lines has what came before."""

    def __init__(self, lines):
        super().__init__("connection closed after %r" % (lines[-5:],))
        self.lines = lines


def collect(client, seconds, stop=None):
    """All lines that arrive within `seconds` (or up to and including the
    first line `stop` accepts).  Raises Closed if the server hangs up."""
    out = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out
        try:
            line = client.read_line(left)
        except socket.timeout:
            return out
        except (ConnectionError, OSError):
            raise Closed(out)
        out.append(line)
        if stop is not None and stop(line):
            return out


def wait_for(client, pred, timeout=T_EVENT, what=None):
    """Lines up to and including the first one pred accepts; fails the
    test with what came instead when none does within timeout."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no %s within %.0f s; got %r" % (
                what or "matching line", timeout, out))
        try:
            line = client.read_line(left)
        except socket.timeout:
            continue
        except (ConnectionError, OSError):
            raise AssertionError("connection closed while waiting for %s; "
                                 "got %r" % (what or "a line", out))
        out.append(line)
        if pred(line):
            return out


def wait_all(client, wanted, timeout=T_EVENT):
    """Lines until every line in `wanted` has been seen, in any order."""
    missing = list(wanted)

    def pred(line):
        if line in missing:
            missing.remove(line)
        return not missing
    return wait_for(client, pred, timeout, "all of %r" % (wanted,))


def wait_tagged(client, tag, timeout=T_REPLY):
    """(untagged lines, tagged line) for tag."""
    lines = wait_for(client, lambda l: l.startswith(tag + " "), timeout,
                     "tagged reply of %s" % tag)
    return lines[:-1], lines[-1]


def wait_exists(client, n, timeout=T_EVENT):
    """Lines up to '* n EXISTS'."""
    return wait_for(client, lambda l: exists_count(l) == n, timeout,
                    "'* %d EXISTS'" % n)


def idle_through_deliveries(client, deliver, counts):
    """IDLE while deliver(n) brings message n, for each n in counts: each
    must be pushed as `* n EXISTS` before the next, and DONE get its OK."""
    tag, _ = client.idle()
    for n in counts:
        deliver(n)
        wait_exists(client, n)
    untagged, tagged = client.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def exists_counts(lines):
    return [n for n in (exists_count(l) for l in lines) if n is not None]


# -- processes ----------------------------------------------------------------
def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_pid_gone(pid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    return not pid_alive(pid)


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def imap_pids(inst):
    return {p for p in inst.descendant_pids() if proc_comm(p) == "imap"}


def login_pids(inst, user, since=0):
    """mpids of the logins of `user` logged after log offset `since`."""
    text = inst.log_text()[since:]
    # 2.3 logs "Login: user=<...>", 2.4 "Logged in: user=<...>"
    return [int(m.group(1)) for m in re.finditer(
        r"(?:Login|Logged in): user=<%s>.*?mpid=(\d+)" % re.escape(user),
        text)]


def session_pid(inst, user, since=0, timeout=5.0):
    """The imap pid of user's latest login after log offset `since`."""
    deadline = time.monotonic() + timeout
    while True:
        pids = login_pids(inst, user, since)
        if pids:
            return pids[-1]
        if time.monotonic() > deadline:
            raise AssertionError("no Login line for %s in the log" % user)
        time.sleep(0.02)


def log_lines(inst, needle, since=0):
    return [l for l in inst.log_text()[since:].splitlines() if needle in l]


def wait_log(inst, needle, since=0, count=1, timeout=5.0):
    """Waits until the log has at least `count` lines containing needle
    (the log process writes asynchronously); returns them."""
    deadline = time.monotonic() + timeout
    while True:
        found = log_lines(inst, needle, since)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def line_pid(line):
    """The pid in 'imap(user)<pid><session>:' or 'imap(pid):'."""
    m = re.search(r"imap\([^)]*\)<(\d+)>", line) or \
        re.search(r"imap\((\d+)\)", line)
    return int(m.group(1)) if m else None


# -- mail ---------------------------------------------------------------------
def maildir_fill(inst, user, count, folder=None, subject_len=20):
    """Writes `count` messages straight into a user's maildir cur/ (before
    the user's first login, or for a folder the user has not opened):
    much faster than delivering them one by one."""
    root = os.path.join(inst.mail_home(user), "Maildir")
    box = root if folder is None else os.path.join(root, "." + folder)
    made = []
    for d in (root, box):
        if not os.path.isdir(d):
            made.append(d)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(box, sub), exist_ok=True)
    base = int(time.time())
    for i in range(count):
        name = "%d.M%dP%d.fill:2," % (base, i, os.getpid())
        path = os.path.join(box, "cur", name)
        with open(path, "wb") as f:
            f.write(make_message(subject="fill %d %s" % (i, "x" * subject_len)))
        os.chown(path, inst.mail_uid, inst.mail_uid)
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, inst.mail_uid, inst.mail_uid)
        os.chmod(dirpath, 0o700)


def external_delivery(inst, box, subject):
    """What a non-Dovecot MDA does: write into tmp/, rename into new/."""
    name = "%d.M%dP%d.outside" % (time.time(), time.monotonic_ns(),
                                  os.getpid())
    tmp = os.path.join(box, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(make_message(subject=subject))
    os.chown(tmp, inst.mail_uid, inst.mail_uid)
    os.rename(tmp, os.path.join(box, "new", name))


def hold_uidlist_lock(inst, box):
    """Takes the maildir's dovecot-uidlist.lock as a Dovecot writer would
    (owned by the mail user from its first moment, naming a live pid);
    returns its path."""
    lock = os.path.join(box, "dovecot-uidlist.lock")
    tmp = os.path.join(box, "tmp", "uidlist-lock")
    with open(tmp, "wb") as f:
        f.write(b"%d:%s" % (os.getpid(), os.uname().nodename.encode()))
    os.chown(tmp, inst.mail_uid, inst.mail_uid)
    os.link(tmp, lock)
    os.unlink(tmp)
    return lock


def doveadm_save(inst, user, folder="INBOX", count=1, subject="saved"):
    for i in range(count):
        inst.doveadm("save", "-u", user, "-m", folder,
                     input_bytes=make_message(subject="%s %d" % (subject, i)))


# -- the outcome of an IMAP session after something drastic --------------------
def drive_to_outcome(client, tag, settle=1.5, timeout=T_REPLY):
    """After a disruptive change while `tag` IDLEs: read for `settle`
    seconds, then end IDLE with DONE if it is still running, then send a
    NOOP.  Returns (outcome, transcript) with outcome 'closed' when the
    server hung up at any point, 'usable' when the NOOP was answered.
    Raises AssertionError when the server neither answers nor closes
    within timeout (a hang)."""
    seen = []

    def read(pred, limit):
        try:
            got = collect(client, limit, stop=pred)
        except Closed as c:
            seen.extend(c.lines)
            return "closed"
        seen.extend(got)
        if got and pred(got[-1]):
            return "matched"
        return "timeout"

    r = read(lambda l: l.startswith(tag + " "), settle)
    if r == "closed":
        return "closed", seen
    if r == "timeout":
        try:
            client.send("DONE\r\n")
        except OSError:
            return "closed", seen
        r = read(lambda l: l.startswith(tag + " "), timeout)
        if r == "closed":
            return "closed", seen
        if r == "timeout":
            raise AssertionError("hang: no reply to DONE within %.0f s; "
                                 "got %r" % (timeout, seen))
    ntag = client.next_tag()
    try:
        client.send("%s NOOP\r\n" % ntag)
    except OSError:
        return "closed", seen
    r = read(lambda l: l.startswith(ntag + " "), timeout)
    if r == "closed":
        return "closed", seen
    if r == "timeout":
        raise AssertionError("hang: no reply to NOOP within %.0f s; got %r"
                             % (timeout, seen))
    return "usable", seen


# -- making inotify unusable for one uid ---------------------------------------
_EXHAUSTER = r"""
import ctypes, errno, os, resource, signal, sys
uid = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and soft < hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft = hard
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
libc = ctypes.CDLL(None, use_errno=True)
IN_CLOEXEC = 0o2000000
fds = []
err = 0
while True:
    fd = libc.inotify_init1(IN_CLOEXEC)
    if fd < 0:
        err = ctypes.get_errno()
        break
    fds.append(fd)
# EMFILE is also what the per-process fd limit says: tell the parent
# which one stopped us
open_fds = len(os.listdir("/proc/self/fd"))
fd_limit = err == errno.EMFILE and open_fds >= soft - 2
sys.stdout.write("%d %d %d\n" % (len(fds), err, fd_limit))
sys.stdout.flush()
while True:
    signal.pause()
"""


class InotifyExhauster:
    """Helper processes running as `uid` that open inotify instances until
    the kernel's per-uid limit (fs.inotify.max_user_instances, or the user
    namespace's user.max_inotify_instances) says EMFILE, and hold them until
    stop(), which kills them by pid.  No global sysctl is touched.  More
    than one helper is started if one process runs out of descriptors
    first."""

    MAX_HELPERS = 20

    def __init__(self, uid):
        self.uid = uid
        self.procs = []
        self.count = 0

    def start(self):
        try:
            for _ in range(self.MAX_HELPERS):
                proc = subprocess.Popen(
                    [sys.executable, "-c", _EXHAUSTER, str(self.uid)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
                self.procs.append(proc)
                line = proc.stdout.readline().decode()
                if not line:
                    raise RuntimeError("inotify exhauster failed: %s" %
                                       proc.stderr.read().decode(
                                           errors="replace"))
                count, err, fd_limit = (int(x) for x in line.split())
                self.count += count
                if err != errno.EMFILE:
                    raise RuntimeError(
                        "inotify exhauster stopped at %d instances with "
                        "errno %d, not EMFILE" % (count, err))
                if not fd_limit:
                    return self
            raise RuntimeError("%d helpers could not exhaust inotify "
                               "instances" % self.MAX_HELPERS)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            for s in (proc.stdout, proc.stderr):
                if s is not None:
                    s.close()
        self.procs = []


def inotify_available_for(uid):
    """True if a process running as uid can create an inotify instance."""
    code = ("import ctypes,os,sys;os.setgroups([]);os.setgid(%d);"
            "os.setuid(%d);l=ctypes.CDLL(None,use_errno=True);"
            "fd=l.inotify_init1(0o2000000);sys.exit(0 if fd>=0 else 1)"
            % (uid, uid))
    return subprocess.run([sys.executable, "-c", code]).returncode == 0


def server_send_queue(imap_port, client_sock):
    """Bytes the server side of this connection still has queued for
    sending (the kernel's tx_queue in /proc/net/tcp)."""
    cport = client_sock.getsockname()[1]
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            parts = row.split()
            lport = int(parts[1].split(":")[1], 16)
            rport = int(parts[2].split(":")[1], 16)
            if lport == imap_port and rport == cport:
                return int(parts[4].split(":")[0], 16)
    return None


def wait_output_blocked(inst, client, timeout=10.0):
    """Waits until the server's kernel send buffer for this client is full
    and stays full (the client reads nothing and has a small SO_RCVBUF)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        q = server_send_queue(inst.imap_port, client.sock)
        if q is not None and q > 500000 and q == last:
            return q
        last = q
        time.sleep(0.2)
    raise AssertionError("the server's output never blocked (send queue "
                         "%r)" % last)


# -- taking every inotify watch of one uid ---------------------------------------
_WATCH_TAKER = r"""
import ctypes, errno, os, sys, time
uid, top = int(sys.argv[1]), sys.argv[2]
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
libc = ctypes.CDLL(None, use_errno=True)
IN_ATTRIB = 0x4
fd = libc.inotify_init1(0o2000000)
if fd < 0:
    sys.exit("inotify_init1: errno %d" % ctypes.get_errno())
n = [0]

def take():
    # one watch per inode: a new file each time
    path = os.path.join(top, "%d" % n[0])
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    n[0] += 1
    if libc.inotify_add_watch(fd, path.encode(), IN_ATTRIB) >= 0:
        return True
    err = ctypes.get_errno()
    os.unlink(path)
    n[0] -= 1
    if err != errno.ENOSPC:
        sys.exit("inotify_add_watch: errno %d" % err)
    return False

while take():
    pass
sys.stdout.write("%d\n" % n[0])
sys.stdout.flush()
# then take every watch that another process of the uid gives back
while True:
    if not take():
        time.sleep(0.005)
"""


class InotifyWatchTaker:
    """A helper process running as `uid` that adds inotify watches (one per
    new file below a temp dir) until the kernel's per-uid watch limit
    (fs.inotify.max_user_watches) says ENOSPC, then keeps taking any watch
    the uid's other processes give back.  Only that
    uid is affected: use one no other test shares.  stop() kills it by pid
    and removes the files."""

    def __init__(self, uid):
        self.uid = uid
        self.proc = None
        self.top = None
        self.count = 0

    def start(self, timeout=120):
        import tempfile
        # a tmpfs creates the ~200k files in a second, a disk in a minute
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.top = tempfile.mkdtemp(prefix="imap-idle-watches-", dir=shm)
        os.chown(self.top, self.uid, self.uid)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WATCH_TAKER, str(self.uid), self.top],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        try:
            line = self._line(timeout)
            if not line.strip().isdigit():
                raise RuntimeError("inotify watch taker failed: %r %s" % (
                    line, self.proc.stderr.read().decode(errors="replace")))
            self.count = int(line)
        except BaseException:
            self.stop()
            raise
        return self

    def _line(self, timeout):
        import select
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            raise AssertionError("inotify watch taker said nothing within "
                                 "%.0f s (exit status %r)" % (
                                     timeout, self.proc.poll()))
        return self.proc.stdout.readline().decode()

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            for s in (self.proc.stdout, self.proc.stderr):
                s.close()
            self.proc = None
        if self.top is not None:
            import shutil
            shutil.rmtree(self.top, ignore_errors=True)
            self.top = None

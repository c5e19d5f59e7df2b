# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Hibernation (imap_hibernate_timeout): the plugin's idlers leave their
imap process through Dovecot's imap_client_hibernate() and are woken by a
change or by input, and IDLE goes on without a second "+ idling".

That a client hibernated is shown without timing: its imap process is gone
(one process per connection), or the plugin's imap_idle_hibernated event is
in the debug log (several connections per process).  Dovecot's own debug
line "Successfully hibernated" is used for stock."""

import contextlib
import ctypes
import os
import socket
import time

import pytest

import idle_helpers as h
from idle_helpers import (collect, exists_counts, make_message, wait_exists,
                          wait_for)

DEBUG = "log_debug = category=imap-idle OR event=imap_client_hibernated\n"
HIBERNATE = "imap_hibernate_timeout = 1s\n"
HIBERNATED = "Hibernated after"
STOCK_HIBERNATED = "Successfully hibernated imap client"
SHARED = ("  client_limit = 50\n"
          "  service_count = 0\n"
          "  process_limit = 1\n")
MODES = {"process": "", "shared": SHARED}
# Each hibernated client keeps an inotify instance of its mail uid in
# imap-hibernate: a uid of these tests' own, so that other suites' (and
# other checkouts') Dovecots and inotify exhausters don't share the
# per-uid limit with them.
HIBERNATE_UID = h.TEST_MAIL_UID + 11


def start(dovecot, mail_format="maildir", mode="process", plugin=True,
          users=1, extra="", settings=None):
    return dovecot(users=users, mail_format=mail_format, plugin=plugin,
                   extra_conf=DEBUG + HIBERNATE + extra, settings=settings,
                   service_imap=MODES[mode], mail_uid=HIBERNATE_UID)


def hibernated_count(dc, plugin=True):
    return len(h.log_lines(dc, HIBERNATED if plugin else STOCK_HIBERNATED))


def wait_hibernated(dc, count, plugin=True, timeout=20.0):
    """Waits until the count-th hibernation is in the log."""
    found = h.wait_log(dc, HIBERNATED if plugin else STOCK_HIBERNATED,
                       count=count, timeout=timeout)
    assert len(found) >= count, dc.log_text()[-4000:]
    return found


@pytest.mark.parametrize("mode", ["process", "shared"])
@pytest.mark.parametrize("mail_format", ["maildir", "mdbox"])
def test_delivery_wakes_hibernated_client(mail_format, mode, dovecot, imap):
    dc = start(dovecot, mail_format, mode)
    c = imap(dc, "user1")
    pid = h.session_pid(dc, "user1")
    tag, _ = c.idle()
    wait_hibernated(dc, 1)
    if mode == "process":
        assert h.wait_pid_gone(pid), "imap process still there"
    dc.deliver_lmtp("user1", make_message())
    wait_exists(c, 1)
    # IDLE goes on in the woken process: hibernates again, wakes again
    wait_hibernated(dc, 2)
    dc.deliver_lmtp("user1", make_message())
    wait_exists(c, 2)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK Idle completed"), tagged
    assert not [l for l in untagged if l.startswith("+")], untagged


def idle_hibernated(dc, c, plugin=True):
    """IDLE, then wait until the client is hibernated; returns the tag."""
    before = hibernated_count(dc, plugin)
    tag, _ = c.idle()
    wait_hibernated(dc, before + 1, plugin)
    return tag


@pytest.mark.parametrize("plugin", [True, False], ids=["plugin", "stock"])
@pytest.mark.parametrize("mode", ["process", "shared"])
@pytest.mark.parametrize("mail_format", ["maildir", "mdbox"])
def test_flags_and_expunge_while_hibernated(mail_format, mode, plugin,
                                            dovecot, imap):
    dc = start(dovecot, mail_format, mode, plugin=plugin)
    h.doveadm_save(dc, "user1", count=2)
    c = imap(dc, "user1")
    tag = idle_hibernated(dc, c, plugin)
    dc.doveadm("flags", "add", "-u", "user1", "\\Flagged", "mailbox",
               "INBOX", "uid", "1")
    wait_for(c, lambda l: l.startswith("* 1 FETCH") and "\\Flagged" in l,
             what="* 1 FETCH (FLAGS (\\Flagged))")
    wait_hibernated(dc, 2, plugin)
    dc.doveadm("expunge", "-u", "user1", "mailbox", "INBOX", "uid", "2")
    wait_for(c, lambda l: l == "* 2 EXPUNGE", what="* 2 EXPUNGE")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


@pytest.mark.parametrize("plugin", [True, False], ids=["plugin", "stock"])
@pytest.mark.parametrize("mode", ["process", "shared"])
def test_done_while_hibernated(mode, plugin, dovecot, imap):
    dc = start(dovecot, mode=mode, plugin=plugin)
    c = imap(dc, "user1")
    tag = idle_hibernated(dc, c, plugin)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK Idle completed"), tagged
    assert not [l for l in untagged if l.startswith("+")], untagged
    # the session goes on in the woken process
    c.command("NOOP")
    tag, _ = c.idle()
    dc.deliver_lmtp("user1", make_message())
    wait_exists(c, 1)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


@pytest.mark.parametrize("plugin", [True, False], ids=["plugin", "stock"])
@pytest.mark.parametrize("mode", ["process", "shared"])
def test_done_and_idle_pipelined_while_hibernated(mode, plugin, dovecot,
                                                  imap):
    """imap-hibernate answers DONE + IDLE itself and keeps the client; the
    next change wakes it into the new IDLE."""
    dc = start(dovecot, mode=mode, plugin=plugin)
    c = imap(dc, "user1")
    tag = idle_hibernated(dc, c, plugin)
    tag2 = c.next_tag()
    c.send("DONE\r\n%s IDLE\r\n" % tag2)
    lines = wait_for(c, lambda l: l.startswith("+"), what="+ idling")
    assert [l for l in lines if l.startswith(tag + " OK")], lines
    dc.deliver_lmtp("user1", make_message())
    wait_exists(c, 1)
    untagged, tagged = c.done(tag2)
    assert tagged.startswith(tag2 + " OK"), tagged
    assert not [l for l in untagged if l.startswith("+")], untagged


@pytest.mark.parametrize("mode", ["process", "shared"])
@pytest.mark.parametrize("mail_format", ["maildir", "mdbox"])
def test_many_cycles_in_a_row(mail_format, mode, dovecot, imap):
    dc = start(dovecot, mail_format, mode)
    c = imap(dc, "user1")
    tag, _ = c.idle()
    cycles = 6
    for n in range(1, cycles + 1):
        wait_hibernated(dc, n)
        # slept as long as it waited: the quiet time stays at the
        # timeout, so the cycles come quickly (pacing, not a check)
        time.sleep(1.2)
        dc.deliver_lmtp("user1", make_message())
        wait_exists(c, n)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert not [l for l in untagged if l.startswith("+")], untagged
    c.command("NOOP")
    assert hibernated_count(dc) >= cycles


@pytest.mark.parametrize("mode", ["process", "shared"])
def test_woken_at_once_adapts_the_quiet_time(mode, dovecot, imap):
    """A client woken right after it hibernated waits twice as long
    before the next hibernation (the quiet time is in the event)."""
    dc = start(dovecot, mode=mode)
    c = imap(dc, "user1")
    tag, _ = c.idle()
    wait_hibernated(dc, 1)
    dc.deliver_lmtp("user1", make_message())
    wait_exists(c, 1)
    found = wait_hibernated(dc, 2)
    assert "after 1000 ms" in found[0], found
    assert "after 2000 ms" in found[1], found
    c.done(tag)


INOTIFY_INIT_SYSCALLS = {"253", "294"}      # x86_64 inotify_init, _init1


def in_syscall(pid, numbers):
    try:
        with open("/proc/%d/syscall" % pid) as f:
            return f.read().split()[0] in numbers
    except (OSError, IndexError):
        return False


@contextlib.contextmanager
def strace_delay(dc, pid, syscalls, delay_usecs, when=""):
    """strace delays process pid at the entry of the syscalls (names,
    comma-separated; `when`: strace's ":when=" suffix) until the block
    ends."""
    # LeakSanitizer can't run under ptrace: a traced process that exits
    # (hibernated, in process mode) reports that, which isn't a finding
    h.runtime_checks.TRACED_PIDS.add(pid)
    strace = h.subprocess.Popen(
        ["strace", "-q", "-o", os.path.join(dc.tmp, "strace.out"),
         "-p", str(pid), "-e", "trace=" + syscalls,
         "-e", "inject=%s:delay_enter=%d%s" % (syscalls, delay_usecs,
                                               when)],
        stdin=h.subprocess.DEVNULL, stdout=h.subprocess.DEVNULL,
        stderr=h.subprocess.DEVNULL)
    try:
        yield strace
    finally:
        strace.terminate()
        strace.wait(timeout=10)


def wait_in_syscall(strace, pid, numbers, what):
    deadline = time.monotonic() + 20
    while not in_syscall(pid, numbers):
        assert time.monotonic() < deadline, what
        assert strace.poll() is None, "strace exited"
        time.sleep(0.005)


@pytest.mark.parametrize("mode", ["process", "shared"])
@pytest.mark.parametrize("mail_format", ["maildir", "mdbox"])
def test_delivery_in_the_hand_off_window_wakes(mail_format, mode, dovecot,
                                               imap):
    """Forces the window between the state export and the extracted watch:
    strace holds the imap process at the hand-off's inotify_init for 3 s
    while a whole delivery commits (rename into new/, uidlist, index).
    imap-hibernate's watch is made after it, so nothing it watches changes
    later: only the plugin's check after the hand-off can wake the
    client."""
    if os.uname().machine != "x86_64":
        pytest.fail("the syscall numbers here are x86_64's")
    dc = start(dovecot, mail_format, mode)
    c = imap(dc, "user1")
    pid = h.session_pid(dc, "user1")
    tag, _ = c.idle()
    with strace_delay(dc, pid, "inotify_init,inotify_init1",
                      3000000) as strace:
        wait_in_syscall(strace, pid, INOTIFY_INIT_SYSCALLS,
                        "the imap process never reached the hand-off")
        # the export is done, the watch to hand over doesn't exist yet
        dc.deliver_lmtp("user1", make_message())
        found = wait_hibernated(dc, 1)
    assert "window: woken" in found[0], found
    wait_exists(c, 1)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


@pytest.mark.parametrize("mode", ["process", "shared"])
def test_inotify_instance_limit_keeps_client_served(mode, dovecot, imap):
    """The hand-off needs new inotify instances of the mail uid; at the
    limit Dovecot refuses, the plugin says once how to fix it and its own
    push goes on serving the client in its process."""
    uid = HIBERNATE_UID + 1
    dc = dovecot(users=1, mail_uid=uid, extra_conf=DEBUG + HIBERNATE,
                 service_imap=MODES[mode])
    c = imap(dc, "user1")
    tag, _ = c.idle()
    exhauster = h.InotifyExhauster(uid).start()
    try:
        # re-arm the hibernation timer after the limit is reached
        dc.deliver_lmtp("user1", make_message())
        wait_exists(c, 1)
        warned = h.wait_log(dc, "Can't hibernate idling clients",
                            timeout=20)
        assert len(warned) == 1 and "max_user_instances" in warned[0], \
            dc.log_text()[-3000:]
        dc.deliver_lmtp("user1", make_message())
        wait_exists(c, 2)
    finally:
        exhauster.stop()
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert hibernated_count(dc) == 0
    assert h.log_lines(dc, "imap_idle_hibernate_refused") or \
        h.log_lines(dc, "Not hibernating: ")


def make_master_listener_unusable(dc):
    """Stock's imap-master listener: root's, mode 0600."""
    path = os.path.join(dc.tmp, "base", "imap-master")
    os.chown(path, 0, 0)
    os.chmod(path, 0o600)


@pytest.mark.parametrize("mode", ["process", "shared"])
def test_unusable_imap_master_keeps_client(mode, dovecot, imap):
    dc = start(dovecot, mode=mode)
    make_master_listener_unusable(dc)
    c = imap(dc, "user1")
    tag, _ = c.idle()
    warned = h.wait_log(dc, "Not hibernating idling clients", timeout=20)
    assert len(warned) == 1 and "user = $default_internal_user" in \
        warned[0], dc.log_text()[-3000:]
    dc.deliver_lmtp("user1", make_message())
    wait_exists(c, 1)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert hibernated_count(dc) == 0


def test_unusable_imap_master_loses_stock_client(dovecot, imap):
    """What the plugin avoids: stock hands the client over, and the first
    wake-up fails and drops it."""
    dc = start(dovecot, plugin=False)
    make_master_listener_unusable(dc)
    c = imap(dc, "user1")
    c.idle()
    wait_hibernated(dc, 1, plugin=False)
    dc.deliver_lmtp("user1", make_message())
    with pytest.raises(h.Closed):
        h.collect(c, 30)
    assert h.wait_log(dc, "Permission denied", timeout=10), dc.log_text()


@pytest.mark.parametrize("mode", ["process", "shared"])
def test_idle_without_mailbox_hibernates_and_done_wakes(mode, dovecot,
                                                        imap):
    """No mailbox selected: nothing to watch, only input wakes it."""
    dc = start(dovecot, mode=mode)
    c = imap(dc, "user1", select=None)
    tag, _ = c.idle()
    found = wait_hibernated(dc, 1)
    assert "window: none" in found[0], found
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK Idle completed"), tagged
    c.command("SELECT INBOX")


# -- a refusal for output pending is retried ------------------------------------
# Message 2 carries these keywords, so that a change of its flags gives one
# FETCH line of ~85 KB: many times what the shrunk send buffer and the
# client's receive buffer hold, however much of a write the kernel takes.
KEYWORDS = ["kw%04d_%s" % (i, "x" * 40) for i in range(1800)]
CHANGED_KEYWORD = "changed"
OUTPUT_PENDING = "Not hibernating: output pending to client"
SYS_PIDFD_GETFD = 438
READ_STEP = 1024        # bytes the idler takes at a time


def server_socket_fd(pid, port, client_sock):
    """The fd in process pid of the server side of client_sock."""
    cport = client_sock.getsockname()[1]
    inode = None
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            parts = row.split()
            if int(parts[1].split(":")[1], 16) == port and \
                    int(parts[2].split(":")[1], 16) == cport:
                inode = parts[9]
    assert inode is not None, "no server socket for port %d" % cport
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) == \
                    "socket:[%s]" % inode:
                return int(fd)
        except OSError:
            pass
    raise AssertionError("imap process %d has no fd of socket %s"
                         % (pid, inode))


def shrink_server_sndbuf(pid, port, client_sock):
    """Gives the server side of the connection the smallest send buffer
    (through a copy of its fd, pidfd_getfd()), so that one long line
    fills it together with the client's small receive buffer."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        fd = libc.syscall(SYS_PIDFD_GETFD, pidfd,
                          server_socket_fd(pid, port, client_sock), 0)
        assert fd >= 0, "pidfd_getfd: %s" % os.strerror(ctypes.get_errno())
    finally:
        os.close(pidfd)
    try:
        sock = socket.socket(fileno=fd)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    finally:
        sock.detach()
        os.close(fd)


def read_until_logged(dc, client, needle, line_end):
    """Reads client's socket READ_STEP bytes at a time, looking in the log
    for needle after each step, until it is there.  Dovecot's buffer only
    drains as far as the client reads: a long line is still partly in it
    while needle has not come.  Fails if the whole line came first."""
    while not h.log_lines(dc, needle):
        assert line_end not in client.buf, \
            "the line was read whole and no %r came: %s" % (
                needle, dc.log_text()[-3000:])
        client.sock.settimeout(h.T_EVENT)
        data = client.sock.recv(READ_STEP)
        assert data, "the server closed the connection"
        client.buf += data
        # let Dovecot flush into the freed space and the log catch up
        h.wait_log(dc, needle, timeout=0.2)


@pytest.mark.parametrize("mode", ["process", "shared"])
def test_output_pending_refusal_is_retried(mode, dovecot, imap):
    """Dovecot refuses a hand-off while its output buffer holds anything.
    The idler's send buffers are far smaller than the one FETCH line a
    flag change gives, so the sync waits for output; the idler then reads
    a little at a time: the sync ends with most of the line still in
    Dovecot's buffer, and the hibernation attempt is refused.  The refusal
    is retried, and once the client has read the line it hibernates."""
    dc = start(dovecot, mode=mode)
    user = "user1"
    h.doveadm_save(dc, user, count=2)
    dc.doveadm("flags", "add", "-u", user, " ".join(KEYWORDS),
               "mailbox", "INBOX", "uid", "2")
    # the keyword exists before: the change below gives only the one line
    dc.doveadm("flags", "add", "-u", user, CHANGED_KEYWORD,
               "mailbox", "INBOX", "uid", "1")
    c = imap(dc, user, rcvbuf=4096)
    pid = h.session_pid(dc, user)
    other = imap(dc, user)
    tag, _ = c.idle()
    shrink_server_sndbuf(pid, dc.imap_port, c.sock)
    other.command("STORE 2 +FLAGS.SILENT (%s)" % CHANGED_KEYWORD)
    line_end = (CHANGED_KEYWORD + "))\r\n").encode()
    read_until_logged(dc, c, OUTPUT_PENDING, line_end)
    assert hibernated_count(dc) == 0, dc.log_text()[-3000:]
    # a transient refusal: no lasting one's warning
    assert not h.log_lines(dc, "Can't hibernate"), dc.log_text()[-3000:]
    line = wait_for(c, lambda l: l.startswith("* 2 FETCH"),
                    what="* 2 FETCH")[-1]
    # whole: every keyword, and the line's end
    assert line.endswith("))"), line[-200:]
    flags = set(line[len("* 2 FETCH (FLAGS ("):-2].split()) - {"\\Recent"}
    whole = set(KEYWORDS + [CHANGED_KEYWORD])
    assert flags == whole, sorted(flags ^ whole)[:10]
    # read: the retry hands it over, and IDLE goes on after it
    wait_hibernated(dc, 1)
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 3)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


# -- a woken client's first sync and a maildir writer ------------------------------
KEEPALIVE = "imap_idle_notify_interval = 1 secs\n"
KEEPALIVE_LINE = "* OK Still here"


def poke_new(box):
    """An event in new/ that adds no message (maildir skips dotfiles):
    wakes a hibernated client without a file its state import would
    have to lock the uidlist for."""
    path = os.path.join(box, "new", ".poke")
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.unlink(path)


INOTIFY_ADD_WATCH_SYSCALLS = {"254"}        # x86_64 inotify_add_watch


def test_woken_behind_a_writer_stays_responsive(dovecot, imap):
    """A writer takes the uidlist lock and drops a file into new/ after
    the woken client's state import synced and before its IDLE's first
    sync: strace holds the imap process (the one of client_limit = 50,
    attached while the client sleeps) at the first inotify_add_watch
    after the wake-up, i.e. when the IDLE starts its watches.  That
    first sync must wait for the lock's release (the writer wait is
    longer than this test) instead of queueing on it: the process keeps
    sending keepalives, and the message is reported once the lock
    goes."""
    if os.uname().machine != "x86_64":
        pytest.fail("the syscall numbers here are x86_64's")
    dc = start(dovecot, mode="shared", extra=KEEPALIVE,
               settings={"imap_idle_writer_wait": "10s"})
    user = "user1"
    h.doveadm_save(dc, user, count=1)
    c = imap(dc, user)
    pid = h.session_pid(dc, user)
    tag = idle_hibernated(dc, c)
    box = os.path.join(dc.mail_home(user), "Maildir")
    with strace_delay(dc, pid, "inotify_add_watch", 2000000,
                      ":when=1") as strace:
        time.sleep(0.5)         # strace attached (pacing, not a check)
        since = len(dc.log_text())
        poke_new(box)
        wait_in_syscall(strace, pid, INOTIFY_ADD_WATCH_SYSCALLS,
                        "the woken IDLE never started its watches")
        lock = h.hold_uidlist_lock(dc, box)
        h.external_delivery(dc, box, "behind the lock")
    assert h.wait_log(dc, "IDLE started", since, timeout=h.T_EVENT), \
        dc.log_text()[since:]
    # what imap-hibernate sent came before the wake-up
    drained = collect(c, 0.5)
    assert exists_counts(drained) == [], drained
    wait_for(c, lambda l: l.startswith(KEEPALIVE_LINE),
             what="a keepalive of the woken IDLE")
    os.unlink(lock)
    wait_exists(c, 2, timeout=30)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    errors = [l for l in dc.log_text().splitlines() if "Error:" in l]
    assert errors == [], errors

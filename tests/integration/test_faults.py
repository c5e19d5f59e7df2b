# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Faults around idlers of one mailbox, in both process modes (one client
per imap process, and client_limit = 50): a client that vanishes (close, or
a TCP reset) while idling or while its sync is being written; a client that
never reads while thousands of changes happen; the mailbox deleted, renamed
or given a new UIDVALIDITY under 100 idlers; an imap process killed with
SIGKILL mid-sync.  Each asserts that nothing is lost for the others: every
change is reported to every remaining idler before its DONE's tagged OK.
Timeouts are failure bounds only; nothing here waits for a time to pass.

sched_setscheduler refused and the inotify watch limit: test_faults_os.py."""

import os
import signal
import socket
import struct

import pytest

import idle_helpers as h
from idle_helpers import LmtpClient, make_message, wait_exists
from test_disconnects import KEYWORDS, MESSAGES

DEBUG = "log_debug = category=imap-idle\n"
MODES = {
    "process-per-client": "",
    "client-limit-50": ("  client_limit = 50\n  service_count = 0\n"
                        "  process_limit = 4\n"),
}


def mode_dovecot(dovecot, mode):
    """A Dovecot of the test's own (a long-lived imap process of
    client_limit = 50 outlives the test's clients) with one user."""
    return dovecot(users=["idler"], extra_conf=DEBUG,
                   service_imap=MODES[mode])

T_BULK = 60.0      # reading megabytes of FETCH output on a loaded machine


def vanish(c, how):
    """The client goes away: an orderly close, or a TCP reset (SO_LINGER
    with a zero timeout makes close() send RST)."""
    if how == "reset":
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
    c.close()


def idlers(dc, user, imap, count, **kw):
    clients = [imap(dc, user, **kw) for _ in range(count)]
    return [(c, c.idle()[0]) for c in clients]


def all_see(pairs, n, timeout=h.T_EVENT):
    for c, tag in pairs:
        wait_exists(c, n, timeout=timeout)


def all_done(pairs):
    for c, tag in pairs:
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), (tagged, untagged[-3:])


def read_fetches(c, count, timeout=T_BULK):
    """Lines until the FETCH of message `count`: every FETCH of a
    flag change on all messages."""
    lines = h.wait_for(c, lambda l: l.startswith("* %d FETCH" % count),
                       timeout=timeout, what="FETCH of message %d" % count)
    fetches = [l for l in lines if " FETCH " in l]
    assert len(fetches) == count, (len(fetches), fetches[:2])
    assert all("kw199_" in l for l in fetches), fetches[:1]


def pids_of(dc, user, since, count):
    """The imap pids of the user's `count` logins since `since`, in login
    order (the log process writes them asynchronously)."""
    h.wait_log(dc, "Login: user=<%s>" % user, since, count=count)
    pids = h.login_pids(dc, user, since)
    assert len(pids) == count, pids
    return pids


@pytest.mark.parametrize("how", ["close", "reset"])
@pytest.mark.parametrize("mode", sorted(MODES))
def test_idler_vanishes_while_idling(mode, how, dovecot, imap):
    dc = mode_dovecot(dovecot, mode)
    user = "idler"
    since = len(dc.log_text())
    pairs = idlers(dc, user, imap, 4)
    victim_pid = pids_of(dc, user, since, 4)[0]
    dc.deliver_lmtp(user, make_message())
    all_see(pairs, 1)
    vanish(pairs[0][0], how)
    rest = pairs[1:]
    for n in (2, 3):
        dc.deliver_lmtp(user, make_message())
        all_see(rest, n)
    if mode == "process-per-client":
        assert h.wait_pid_gone(victim_pid), victim_pid
    all_done(rest)


def blocked_victim_and_idlers(dc, user, imap):
    """A victim idler whose sync is blocked writing megabytes of FETCH
    FLAGS (it reads nothing, with a tiny receive buffer) and two idlers of
    the same mailbox that read: (victim, its pid, [(client, tag)])."""
    h.maildir_fill(dc, user, MESSAGES)
    since = len(dc.log_text())
    victim = imap(dc, user, rcvbuf=4096)
    victim.idle()
    rest = idlers(dc, user, imap, 2)
    victim_pid = pids_of(dc, user, since, 3)[0]
    dc.doveadm("flags", "add", "-u", user, KEYWORDS, "mailbox", "INBOX",
               "all")
    h.wait_output_blocked(dc, victim, timeout=T_BULK)
    return victim, victim_pid, rest


@pytest.mark.parametrize("how", ["close", "reset"])
@pytest.mark.parametrize("mode", sorted(MODES))
def test_idler_vanishes_mid_sync(mode, how, dovecot, imap):
    """The victim's sync is writing megabytes of FETCH FLAGS it never
    reads; it vanishes while blocked.  The others (in the same process
    with client_limit = 50) get every FETCH and the next delivery."""
    dc = mode_dovecot(dovecot, mode)
    user = "idler"
    victim, victim_pid, rest = blocked_victim_and_idlers(dc, user, imap)
    vanish(victim, how)
    for c, tag in rest:
        read_fetches(c, MESSAGES)
    dc.deliver_lmtp(user, make_message())
    all_see(rest, MESSAGES + 1)
    if mode == "process-per-client":
        assert h.wait_pid_gone(victim_pid), victim_pid
    all_done(rest)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


# A client that reads nothing holds at most Dovecot's output buffer and the
# kernel's socket buffers; its process's RSS may grow by the index it maps
# and that buffer, never by the changes it hasn't been sent: ~9.6 MB of
# FETCH FLAGS (DELIVERIES x KEYWORDS), of which the kernel holds ~2.8 MB.
# Measured: +0.5..0.9 MB.  (Not under ASan or valgrind, whose allocators
# keep freed memory.)
RSS_GROWTH_LIMIT_KB = 4 * 1024
DELIVERIES = 1000


@pytest.mark.parametrize("mode", sorted(MODES))
def test_client_that_never_reads(mode, dovecot, imap):
    """1000 deliveries and a flag change on each (thousands of changes)
    while one idler reads nothing: the others get every change, and the
    reader-less client's process stays bounded in memory."""
    dc = mode_dovecot(dovecot, mode)
    user = "idler"
    h.maildir_fill(dc, user, 1)
    since = len(dc.log_text())
    mute = imap(dc, user, rcvbuf=4096)
    m_tag, _ = mute.idle()
    rest = idlers(dc, user, imap, 2)
    mute_pid = pids_of(dc, user, since, 3)[0]
    rss_before = rss_kb(mute_pid)
    lmtp = LmtpClient(dc.host, dc.lmtp_port)
    try:
        for i in range(DELIVERIES):
            dc.deliver_lmtp(user, make_message(subject="flood %d" % i),
                            lmtp=lmtp)
    finally:
        lmtp.close()
    all_see(rest, DELIVERIES + 1, timeout=T_BULK)
    dc.doveadm("flags", "add", "-u", user, KEYWORDS, "mailbox", "INBOX",
               "all")
    for c, tag in rest:
        read_fetches(c, DELIVERIES + 1)
    h.wait_output_blocked(dc, mute, timeout=T_BULK)
    growth = rss_kb(mute_pid) - rss_before
    print("never-reading client: RSS %+d kB, send queue %d bytes" % (
        growth, h.server_send_queue(dc.imap_port, mute.sock)))
    if not h.runtime_checks.enabled():
        assert growth < RSS_GROWTH_LIMIT_KB, (
            "the process of a client that reads nothing grew by %d kB"
            % growth)
    # the others keep getting pushes while it is still stuck
    dc.deliver_lmtp(user, make_message(subject="after the flood"))
    all_see(rest, DELIVERIES + 2)
    all_done(rest)
    vanish(mute, "reset")


def mailbox_change(dc, user, action):
    if action == "delete":
        dc.doveadm("mailbox", "delete", "-u", user, "Folder")
    elif action == "rename":
        dc.doveadm("mailbox", "rename", "-u", user, "Folder", "Renamed")
    else:
        dc.doveadm("mailbox", "update", "-u", user, "--uid-validity",
                   "12345", "Folder")


def outcome_after_done(c, tag):
    """'closed' or 'usable' (answered DONE and a NOOP).  DONE was sent
    already; a hang fails."""
    try:
        lines = h.wait_for(c, lambda l: l.startswith(tag + " "),
                           timeout=30, what="IDLE's tagged reply")
        ntag = c.next_tag()
        c.send("%s NOOP\r\n" % ntag)
        lines += h.wait_for(c, lambda l: l.startswith(ntag + " "),
                            timeout=30, what="NOOP's tagged reply")
    except AssertionError as e:
        if "connection closed" in str(e):
            return "closed", str(e)
        raise
    except OSError as e:
        return "closed", str(e)
    return "usable", lines


IDLERS = 100


@pytest.mark.parametrize("action", ["delete", "rename", "uidvalidity"])
@pytest.mark.parametrize("mode", sorted(MODES))
def test_mailbox_changes_under_100_idlers(mode, action, dovecot, imap):
    """100 idlers of one folder; a delivery reaches all of them; then the
    folder is deleted, renamed or gets a new UIDVALIDITY.  Every idler ends
    the same way (the server closes, or DONE and NOOP are answered), none
    hangs, and the server keeps serving the user."""
    dc = dovecot(users=["owner"], extra_conf=DEBUG,
                 service_imap=MODES[mode])
    c = imap(dc, "owner", select=None)
    c.command("CREATE Folder")
    h.doveadm_save(dc, "owner", folder="Folder", count=2)
    c.command("LOGOUT")
    pairs = idlers(dc, "owner", imap, IDLERS, select="Folder")
    h.doveadm_save(dc, "owner", folder="Folder", count=1)
    all_see(pairs, 3)
    mailbox_change(dc, "owner", action)
    for cl, tag in pairs:
        try:
            cl.send("DONE\r\n")
        except OSError:
            pass
    outcomes = [outcome_after_done(cl, tag) for cl, tag in pairs]
    kinds = sorted(set(o for o, _ in outcomes))
    assert len(kinds) == 1, "idlers ended differently: %r" % (
        [(o, str(t)[-200:]) for o, t in outcomes[:5]],)
    for cl, _ in pairs:
        cl.close()
    # the server goes on serving the user
    c2 = imap(dc, "owner")
    tag2, _ = c2.idle()
    h.doveadm_save(dc, "owner", count=1, subject="afterwards")
    wait_exists(c2, 1)
    untagged, tagged = c2.done(tag2)
    assert tagged.startswith(tag2 + " OK"), tagged


def test_imap_process_killed_mid_sync(shared_dovecot, fresh_user, imap):
    """SIGKILL to an imap process while its idler's sync is writing: the
    idlers in the other processes get every change, before and after."""
    dc = shared_dovecot()
    user = fresh_user(dc)
    victim, victim_pid, rest = blocked_victim_and_idlers(dc, user, imap)
    h.KILLED_PIDS.add(victim_pid)
    os.kill(victim_pid, signal.SIGKILL)
    assert h.wait_pid_gone(victim_pid), victim_pid
    for c, tag in rest:
        read_fetches(c, MESSAGES)
    for n in (1, 2):
        dc.deliver_lmtp(user, make_message())
        all_see(rest, MESSAGES + n)
    all_done(rest)
    # the victim's connection is gone, and a new login works
    with pytest.raises(h.Closed):
        h.collect(victim, 10)
    c = imap(dc, user)
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, MESSAGES + 3)
    c.done(tag)

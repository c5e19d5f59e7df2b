# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""A client that goes away in the middle of IDLE: while idling, after a
half-close, right after DONE during the final sync, while a sync's output is
being written, and while output is blocked with DONE unread.  After each:
no Panic/Fatal/assert in the log (checked by the fixtures), the session's
imap process has exited, and a new login + IDLE still gets changes.  The
blocked-output control test shows that the same blocked output completes
in order when the client does read it."""

import socket
import time

import pytest

import idle_helpers as h
from idle_helpers import make_message, wait_exists, wait_for

KEYWORDS = " ".join("kw%03d_%s" % (i, "x" * 40) for i in range(200))
MESSAGES = 800     # x ~9.6 KB of FETCH FLAGS each: far more than the
                   # kernel buffers of a loopback connection hold


def new_login_still_works(dc, user, imap, only_done_syncs=False):
    c = imap(dc, user, select=None)
    untagged, _ = c.select("INBOX")
    count = [h.exists_count(l) for l in untagged
             if h.exists_count(l) is not None][0]
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message(subject="after disconnect"))
    if only_done_syncs:
        untagged, tagged = c.done(tag)
        assert "* %d EXISTS" % (count + 1) in untagged, untagged
    else:
        wait_exists(c, count + 1)
        untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def login_and_idle(dc, user, imap, **kw):
    since = len(dc.log_text())
    c = imap(dc, user, **kw)
    pid = h.session_pid(dc, user, since)
    tag, _ = c.idle()
    return c, tag, pid, since


def check_gone(dc, pid):
    assert h.wait_pid_gone(pid, 10), "imap process %d still runs" % pid
    # exited is not yet reaped: Dovecot 2.4's master may take a moment
    # longer than 2.3's to collect the zombie
    deadline = time.monotonic() + 10
    while pid in dc.descendant_pids() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pid not in dc.descendant_pids(), (
        "imap process %d exited but the master never reaped it" % pid)


def test_disconnect_while_idling(shared_dovecot, fresh_user, imap):
    dc = shared_dovecot()
    user = fresh_user(dc)
    c, tag, pid, since = login_and_idle(dc, user, imap)
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 1)
    c.close()
    check_gone(dc, pid)
    new_login_still_works(dc, user, imap)


def test_half_close_while_idling(shared_dovecot, fresh_user, imap):
    dc = shared_dovecot()
    user = fresh_user(dc)
    c, tag, pid, since = login_and_idle(dc, user, imap)
    c.sock.shutdown(socket.SHUT_WR)
    # the server sees EOF and hangs up without a tagged reply
    try:
        lines = h.collect(c, 5)
        closed = False
    except h.Closed as e:
        lines, closed = e.lines, True
    assert closed, "server did not close after EOF: %r" % lines
    assert not any(l.startswith(tag + " ") for l in lines), lines
    check_gone(dc, pid)
    new_login_still_works(dc, user, imap)


def test_disconnect_during_final_sync(shared_dovecot, fresh_user, imap):
    # only DONE syncs here: DONE starts the final sync and the client is
    # gone by the time it writes
    dc = shared_dovecot(profile="slow")
    user = fresh_user(dc)
    h.doveadm_save(dc, user, count=5)
    c, tag, pid, since = login_and_idle(dc, user, imap)
    dc.doveadm("flags", "add", "-u", user, "\\Seen", "mailbox", "INBOX",
               "all")
    dc.deliver_lmtp(user, make_message())
    c.send("DONE\r\n")
    c.close()
    check_gone(dc, pid)
    new_login_still_works(dc, user, imap, only_done_syncs=True)


def blocked_idler(dc, user, imap):
    """An idler whose connection has megabytes of FETCH FLAGS queued: the
    client reads nothing and has a tiny receive buffer."""
    h.maildir_fill(dc, user, MESSAGES)
    since = len(dc.log_text())
    c = imap(dc, user, rcvbuf=4096)
    pid = h.session_pid(dc, user, since)
    tag, _ = c.idle()
    dc.doveadm("flags", "add", "-u", user, KEYWORDS, "mailbox", "INBOX",
               "all")
    h.wait_output_blocked(dc, c)
    return c, tag, pid, since


@pytest.mark.parametrize("with_done", [False, True],
                         ids=["sync-writing", "blocked-with-done-unread"])
def test_disconnect_while_output_blocked(with_done, shared_dovecot,
                                         fresh_user, imap):
    dc = shared_dovecot(profile="keepalive")
    user = fresh_user(dc)
    c, tag, pid, since = blocked_idler(dc, user, imap)
    if with_done:
        c.send("DONE\r\n")
        time.sleep(1.5)       # keepalive timers fire meanwhile
    c.close()                 # unread data: the server gets a RST
    check_gone(dc, pid)
    found = h.wait_log(dc, "Disconnected", since)
    mine = [l for l in found if h.line_pid(l) == pid]
    assert mine, found
    assert "state=wait-output" in mine[0], (
        "the test meant to disconnect while IDLE's sync output was "
        "blocked: %r" % mine)
    new_login_still_works(dc, user, imap)


def read_blocked_output(c, tag, what):
    lines = wait_for(c, lambda l: (l.startswith(tag + " ") or
                                   l.startswith("* %d FETCH" % MESSAGES)),
                     timeout=20, what=what)
    fetches = [l for l in lines if " FETCH " in l]
    return lines, fetches


def test_blocked_output_resumes_when_client_reads(shared_dovecot,
                                                  fresh_user, imap):
    """Control for the tests above: the blocked output is really IDLE's
    sync waiting for the socket, and it completes once the client reads."""
    dc = shared_dovecot(profile="keepalive")
    user = fresh_user(dc)
    c, tag, pid, since = blocked_idler(dc, user, imap)
    lines, fetches = read_blocked_output(c, tag, "all %d FETCH lines"
                                         % MESSAGES)
    assert len(fetches) == MESSAGES, (len(fetches), lines[-3:])
    assert all("kw199_" in l for l in fetches), fetches[:1]
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert not [l for l in untagged if " FETCH " in l], untagged[:3]
    c.close()
    check_gone(dc, pid)


def test_done_while_output_blocked_is_answered_after_the_output(
        shared_dovecot, fresh_user, imap):
    """RFC2177-4: DONE that arrives while a sync is still writing ends
    IDLE after that output: every FETCH, then the tagged OK."""
    dc = shared_dovecot(profile="keepalive")
    user = fresh_user(dc)
    c, tag, pid, since = blocked_idler(dc, user, imap)
    c.send("DONE\r\n")
    lines = wait_for(c, lambda l: l.startswith(tag + " "), timeout=20,
                     what="the tagged reply to DONE after the blocked "
                          "output")
    fetches = [l for l in lines if " FETCH " in l]
    assert len(fetches) == MESSAGES, (len(fetches), lines[-3:])
    assert lines[-1].startswith(tag + " OK"), lines[-3:]
    untagged, tagged = c.command("NOOP")
    assert not [l for l in untagged if " FETCH " in l], untagged[:3]
    c.close()
    check_gone(dc, pid)

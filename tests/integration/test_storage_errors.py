# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""A storage error during one of IDLE's syncs (maildir cur/ made unreadable
for the mail uid, as root, while the client idles): the client gets an
untagged NO with the storage error and IDLE ends cleanly with a tagged NO
(on its own when the failing sync ran while idling, at the latest when
DONE's final sync fails); the session and the server keep working once the
permissions are restored."""

import os
import time

import pytest

import idle_helpers as h
from idle_helpers import make_message, wait_for, wait_exists


@pytest.fixture
def unreadable_cur():
    restore = []

    def make(dc, user):
        cur = os.path.join(dc.mail_home(user), "Maildir", "cur")
        os.chmod(cur, 0)
        restore.append(cur)
        return cur
    yield make
    for cur in restore:
        if os.path.isdir(cur):
            os.chmod(cur, 0o700)


def end_idle(c, tag, settle):
    """Lines until IDLE's tagged reply: waits `settle` seconds for IDLE to
    end on its own, then sends DONE."""
    lines = h.collect(c, settle, stop=lambda l: l.startswith(tag + " "))
    if not (lines and lines[-1].startswith(tag + " ")):
        c.send("DONE\r\n")
        lines += wait_for(c, lambda l: l.startswith(tag + " "),
                          what="IDLE's tagged reply")
    return lines


def assert_recovers(dc, user, c, cur):
    os.chmod(cur, 0o700)
    untagged, tagged = c.command("NOOP")
    assert " OK " in tagged, tagged
    untagged, tagged = c.command("STATUS INBOX (MESSAGES)")
    n = int(untagged[0].split("MESSAGES ")[1].rstrip(")"))
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message(subject="after the error"))
    wait_exists(c, n + 1)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_error_in_a_sync_while_idling_ends_idle_with_no(
        shared_dovecot, fresh_user, imap, unreadable_cur):
    dc = shared_dovecot()
    user = fresh_user(dc)
    h.doveadm_save(dc, user, count=1)
    since = len(dc.log_text())
    c = imap(dc, user)
    tag, _ = c.idle()
    time.sleep(1.1)     # cur/'s mtime is no longer "too new" to trust
    # a new file in cur/ makes the next sync read cur/, which now fails
    cur = os.path.join(dc.mail_home(user), "Maildir", "cur")
    path = os.path.join(cur, "%d.M1P1.test:2," % time.time())
    with open(path, "wb") as f:
        f.write(make_message())
    os.chown(path, dc.mail_uid, dc.mail_uid)
    unreadable_cur(dc, user)
    lines = end_idle(c, tag, settle=5)
    nos = [l for l in lines if l.startswith("* NO ")]
    assert nos, lines
    assert lines.index(nos[0]) < len(lines) - 1, lines
    assert lines[-1].startswith(tag + " NO "), lines
    assert not any(l.startswith(tag + " ") for l in lines[:-1]), lines
    assert h.wait_log(dc, "opendir(", since), "the storage error is logged"
    assert_recovers(dc, user, c, cur)


def test_error_after_delivery_into_unreadable_cur(
        shared_dovecot, fresh_user, imap, unreadable_cur):
    """chmod 000 cur/, then deliver: the delivery (into new/) is still
    reported; cur/ then changes on disk, so DONE's final sync has to read
    it and fails: untagged NO, then the tagged NO."""
    dc = shared_dovecot()
    user = fresh_user(dc)
    h.doveadm_save(dc, user, count=1)
    c = imap(dc, user)
    tag, _ = c.idle()
    cur = unreadable_cur(dc, user)
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 2)
    os.utime(cur, (time.time() + 5, time.time() + 5))
    c.send("DONE\r\n")
    lines = wait_for(c, lambda l: l.startswith(tag + " "),
                     what="IDLE's tagged reply")
    nos = [l for l in lines if l.startswith("* NO ")]
    assert nos, ("no untagged NO for the failed final sync before IDLE's "
                 "tagged reply: %r" % lines)
    assert lines[-1].startswith(tag + " NO "), lines
    assert_recovers(dc, user, c, cur)

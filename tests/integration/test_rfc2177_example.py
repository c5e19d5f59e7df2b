# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Every exchange of the example in RFC 2177 section 3 (RFC2177-3, -4, -7):
IDLE is answered with a continuation; new mail shows up as EXISTS and
another client's expunges as EXPUNGE while idling; DONE ends IDLE with a
tagged OK; a new IDLE right after works, and changes queued before it are
reported.  Run against the plugin and against Dovecot's built-in IDLE, which
must behave the same."""

import pytest

import idle_helpers as h

from idle_helpers import (make_message, wait_exists, wait_for, wait_tagged,
                          wait_all, exists_count, doveadm_save)

pytestmark = pytest.mark.parametrize("plugin", [True, False],
                                     ids=["plugin", "builtin"])


def expunge_by_other_client(imap, dc, user, seq):
    other = imap(dc, user)
    other.command("STORE %d +FLAGS.SILENT (\\Deleted)" % seq)
    other.command("EXPUNGE")
    other.command("LOGOUT")


def test_rfc2177_example(plugin, shared_dovecot, fresh_user, imap):
    dc = shared_dovecot(plugin=plugin)
    user = fresh_user(dc)
    doveadm_save(dc, user, count=3)

    c = imap(dc, user, select=None)
    untagged, tagged = c.select("INBOX")
    assert "* 3 EXISTS" in untagged

    # A002 IDLE / + idling / ...new mail... / * 4 EXISTS / DONE / OK
    tag, before = c.idle()
    assert before == [], "nothing was pending before IDLE: %r" % before
    dc.deliver_lmtp(user, make_message(subject="fourth"))
    wait_exists(c, 4)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged

    # another client expunges message 2; A003 FETCH 4 ALL
    expunge_by_other_client(imap, dc, user, 2)
    untagged, tagged = c.command("FETCH 4 ALL")
    assert any(l.startswith("* 4 FETCH") for l in untagged), untagged

    # A004 IDLE: the expunge queued before IDLE is reported (before or
    # after the continuation, RFC2177-7)
    tag = c.next_tag()
    c.send("%s IDLE\r\n" % tag)
    lines = wait_all(c, ["* 2 EXPUNGE", "+ idling"])
    assert not any(l.startswith(tag + " ") for l in lines), lines

    # another client expunges message 3: * 3 EXPUNGE
    expunge_by_other_client(imap, dc, user, 3)
    wait_for(c, lambda l: l == "* 3 EXPUNGE", what="* 3 EXPUNGE")

    # new mail: * 3 EXISTS
    dc.deliver_lmtp(user, make_message(subject="fifth"))
    wait_exists(c, 3)

    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    # and the session goes on: nothing was lost
    untagged, tagged = c.command("NOOP")
    assert [exists_count(l) for l in untagged if exists_count(l)] == [], \
        untagged
    untagged, tagged = c.command("SEARCH ALL")
    assert "* SEARCH 1 2 3" in untagged, untagged

    # and the variant under test really served these IDLEs
    started = [l for l in h.wait_log(dc, "imap-idle: IDLE started",
                                     count=2 if plugin else 1,
                                     timeout=2 if plugin else 0.2)
               if "imap(%s)" % user in l]
    assert len(started) == (2 if plugin else 0), started


def test_idle_again_right_after_done(plugin, shared_dovecot, fresh_user,
                                     imap):
    dc = shared_dovecot(plugin=plugin)
    user = fresh_user(dc)
    c = imap(dc, user)
    for i in range(1, 4):
        tag, _ = c.idle()
        dc.deliver_lmtp(user, make_message(subject="again %d" % i))
        wait_exists(c, i)
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), tagged


def test_idle_response_is_continuation_and_ok_text(plugin, shared_dovecot,
                                                    fresh_user, imap):
    dc = shared_dovecot(plugin=plugin)
    c = imap(dc, fresh_user(dc))
    assert "IDLE" in c.greeting.split("]")[0].split(), c.greeting
    tag = c.next_tag()
    c.send("%s IDLE\r\n" % tag)
    assert c.read_line() == "+ idling"
    c.send("DONE\r\n")
    untagged, tagged = wait_tagged(c, tag)
    assert untagged == []
    assert tagged.startswith(tag + " OK Idle completed"), tagged

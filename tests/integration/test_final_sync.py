# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The final sync on DONE (RFC2177-4 as the checklist reads it: a change
the server already knows about when DONE arrives is reported before the
tagged OK).  With imap_idle_notify_delay = 10s no change is reported on
its own within the test, so only DONE can bring it: the untagged response
must come before the tagged OK.  imap_idle_done_sync = no turns that off:
the change then comes with the next command instead."""

import re

import pytest

from idle_helpers import (make_message, collect, exists_counts, doveadm_save,
                          wait_tagged)

QUIET = 1.0     # how long we check that the delay holds the change back


def idle_and_change(dc, user, c, change):
    tag, _ = c.idle()
    change()
    early = collect(c, QUIET)
    assert not [l for l in early if l.startswith("* ") and
                "Still here" not in l], (
        "imap_idle_notify_delay = 10s should hold the change back, but it "
        "came at once (so this test can't see the final sync): %r" % early)
    c.send("DONE\r\n")
    return tag, wait_tagged(c, tag)


@pytest.mark.parametrize("mail_format", ["maildir", "mdbox"])
def test_delivery_reported_before_tagged_ok(mail_format, shared_dovecot,
                                            fresh_user, imap):
    dc = shared_dovecot(mail_format=mail_format, profile="slow")
    user = fresh_user(dc)
    c = imap(dc, user)
    tag, (untagged, tagged) = idle_and_change(
        dc, user, c, lambda: dc.deliver_lmtp(user, make_message()))
    assert tagged.startswith(tag + " OK"), tagged
    assert "* 1 EXISTS" in untagged, (
        "the delivery made before DONE must be reported before the "
        "tagged OK; got %r then %r" % (untagged, tagged))
    untagged, _ = c.command("NOOP")
    assert not exists_counts(untagged), untagged


def test_flag_change_and_expunge_reported_before_tagged_ok(
        shared_dovecot, fresh_user, imap):
    dc = shared_dovecot(profile="slow")
    user = fresh_user(dc)
    doveadm_save(dc, user, count=3)
    c = imap(dc, user)

    def change():
        dc.doveadm("flags", "add", "-u", user, "\\Seen", "mailbox", "INBOX",
                   "uid", "3")
        dc.doveadm("expunge", "-u", user, "mailbox", "INBOX", "uid", "1")
    tag, (untagged, tagged) = idle_and_change(dc, user, c, change)
    assert tagged.startswith(tag + " OK"), tagged
    assert "* 1 EXPUNGE" in untagged, untagged
    # message 3 was flagged before the expunge: reported as seq 3 before
    # the EXPUNGE, or seq 2 after it
    fetch = [l for l in untagged if re.match(r"\* [23] FETCH", l)]
    assert fetch and "\\Seen" in fetch[0], untagged


def test_done_without_changes_sends_only_ok(shared_dovecot, fresh_user,
                                           imap):
    dc = shared_dovecot(profile="slow")
    c = imap(dc, fresh_user(dc))
    tag, _ = c.idle()
    untagged, tagged = c.done(tag)
    assert untagged == [] and tagged.startswith(tag + " OK"), (untagged,
                                                                tagged)


def test_done_sync_off_reports_at_next_command(shared_dovecot, fresh_user,
                                               imap):
    dc = shared_dovecot(profile="slow-nodonesync")
    user = fresh_user(dc)
    c = imap(dc, user)
    tag, (untagged, tagged) = idle_and_change(
        dc, user, c, lambda: dc.deliver_lmtp(user, make_message()))
    assert tagged.startswith(tag + " OK"), tagged
    assert not exists_counts(untagged), (
        "imap_idle_done_sync = no: DONE must not sync, got %r" % untagged)
    untagged, tagged = c.command("NOOP")
    assert "* 1 EXISTS" in untagged, untagged

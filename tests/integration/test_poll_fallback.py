# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""IDLE without filesystem notifications.  Helper processes running as the
mail uid take every inotify instance that uid may have (the per-uid limit
fs.inotify.max_user_instances; no global sysctl is changed), so the imap
processes started afterwards can't watch anything.  Dovecot's own fallback
then polls every 30 s (mailbox_idle_check_interval); with
imap_idle_poll_interval = 200ms an idler must still see a delivery within a
generous 5 s, which only the plugin's poll path can do.  The plugin warns
once per imap process and names fs.inotify.max_user_instances.
imap_idle_force_poll = yes polls without being forced to, and
imap_idle_poll_interval can be overridden per user."""

import collections

import pytest

import idle_helpers as h
from idle_helpers import make_message, wait_exists, collect, exists_counts

DEBUG = "log_debug = category=imap-idle\n"
WARNING = "fs.inotify.max_user_instances"
FAST = 5.0      # well under Dovecot's own 30 s fallback

h.register_profile(
    "poll", extra_conf=DEBUG,
    settings={"imap_idle_poll_interval": "200ms"},
    users=["p%d" % i for i in range(1, 21)] + ["slowpoll"],
    userdb_extra={"slowpoll": "userdb_plugin/imap_idle_poll_interval=1h"})
h.register_profile(
    "forcepoll", extra_conf=DEBUG,
    settings={"imap_idle_poll_interval": "200ms",
              "imap_idle_force_poll": "yes"})

_next = collections.Counter()


def poll_user(dc):
    _next[id(dc)] += 1
    return "p%d" % _next[id(dc)]


@pytest.fixture
def inotify_exhausted():
    """While the test runs, no new inotify instance for the mail uid."""
    ex = h.InotifyExhauster(h.TEST_MAIL_UID).start()
    try:
        assert not h.inotify_available_for(h.TEST_MAIL_UID)
        yield ex
    finally:
        ex.stop()


def idle_session(dc, user, imap, since):
    c = imap(dc, user)
    pid = h.session_pid(dc, user, since)
    tag, _ = c.idle()
    return c, tag, pid


def deliver_and_see(dc, user, c, n):
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, n, timeout=FAST)


@pytest.mark.parametrize("mail_format", ["maildir", "mdbox"])
def test_poll_fallback_reports_delivery_fast(mail_format, shared_dovecot,
                                             imap, inotify_exhausted):
    dc = shared_dovecot(mail_format=mail_format, profile="poll")
    since = len(dc.log_text())
    a_user, b_user = poll_user(dc), poll_user(dc)
    a, a_tag, a_pid = idle_session(dc, a_user, imap, since)
    b, b_tag, b_pid = idle_session(dc, b_user, imap, since)
    assert a_pid != b_pid

    deliver_and_see(dc, a_user, a, 1)
    deliver_and_see(dc, b_user, b, 1)
    untagged, tagged = a.done(a_tag)
    assert tagged.startswith(a_tag + " OK"), tagged
    # a second IDLE in the same process polls again, without a new warning
    a_tag, _ = a.idle()
    deliver_and_see(dc, a_user, a, 2)
    # changes by another session are seen by polling too
    dc.doveadm("flags", "add", "-u", a_user, "\\Flagged", "mailbox",
               "INBOX", "uid", "1")
    h.wait_for(a, lambda l: l.startswith("* 1 FETCH") and "\\Flagged" in l,
               timeout=FAST, what="* 1 FETCH (FLAGS (\\Flagged))")
    for c, tag in ((a, a_tag), (b, b_tag)):
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), tagged

    h.wait_log(dc, "IDLE finished", since, count=3)
    warnings = h.log_lines(dc, WARNING, since)
    per_pid = collections.Counter(h.line_pid(l) for l in warnings)
    assert per_pid == {a_pid: 1, b_pid: 1}, warnings
    assert all("Warning" in l for l in warnings), warnings
    assert h.log_lines(dc, "Polling the mailbox for changes", since)


def test_poll_interval_overridden_per_user(shared_dovecot, imap,
                                           inotify_exhausted):
    dc = shared_dovecot(profile="poll")
    since = len(dc.log_text())
    c, tag, pid = idle_session(dc, "slowpoll", imap, since)
    dc.deliver_lmtp("slowpoll", make_message())
    early = collect(c, 2.5)
    assert not exists_counts(early), (
        "userdb imap_idle_poll_interval=1h, but the delivery was seen "
        "within 2.5 s without inotify: %r" % early)
    untagged, tagged = c.done(tag)
    assert "* 1 EXISTS" in untagged, (untagged, tagged)


@pytest.mark.parametrize("inotify", ["exhausted", "available"])
def test_force_poll_reports_changes(inotify, shared_dovecot, fresh_user,
                                    imap, request):
    if inotify == "exhausted":
        request.getfixturevalue("inotify_exhausted")
    dc = shared_dovecot(profile="forcepoll")
    user = fresh_user(dc)
    h.doveadm_save(dc, user, count=1)
    since = len(dc.log_text())
    c = imap(dc, user)
    tag, _ = c.idle()
    deliver_and_see(dc, user, c, 2)
    dc.doveadm("expunge", "-u", user, "mailbox", "INBOX", "uid", "1")
    h.wait_for(c, lambda l: l == "* 1 EXPUNGE", timeout=FAST,
               what="* 1 EXPUNGE")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    h.wait_log(dc, "IDLE finished", since)
    assert h.log_lines(dc, "imap_idle_force_poll = yes", since), \
        dc.log_text()[since:]
    # polling by choice is not a problem to warn about
    assert not h.log_lines(dc, WARNING, since), h.log_lines(dc, WARNING,
                                                            since)

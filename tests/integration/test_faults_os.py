# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Faults from the operating system.

sched_setscheduler() refused, in either direction, by a seccomp filter that
a wrapper (tests/faults/sched-refuse) installs in front of the imap binary:
no client command may ever run under SCHED_BATCH, pushes still arrive, and
the process warns once, naming the setting.

The inotify watch limit (fs.inotify.max_user_watches, not the instance
limit) reached in the middle of an IDLE: a helper running as the
instance's own mail uid (one no other test or Dovecot of the machine uses)
takes every watch that uid may have, and any the idler gives back while
it waits out imap_idle_notify_delay.  When the idler listens again it
can't: it must fall back to polling with one log line naming the limit,
and report every delivery, before and after, by DONE's tagged OK."""

import os

import pytest

import idle_helpers as h
from idle_helpers import make_message, wait_exists
from dovecot_instance import TOP_BUILDDIR

DEBUG = "log_debug = category=imap-idle\n"
SCHED_REFUSE = os.path.join(TOP_BUILDDIR, "tests", "faults", "sched-refuse")
IMAP = "/usr/lib/dovecot/imap"
POLICY_NAMES = {os.SCHED_OTHER: "SCHED_OTHER", os.SCHED_BATCH: "SCHED_BATCH"}


def assert_other(pid, when):
    policy = os.sched_getscheduler(pid)
    assert policy == os.SCHED_OTHER, "imap pid %d runs under %s %s" % (
        pid, POLICY_NAMES.get(policy, policy), when)


@pytest.mark.parametrize("service_imap", [
    "", "  client_limit = 10\n  service_count = 0\n  process_limit = 1\n"],
    ids=["process-per-client", "client-limit-10"])
@pytest.mark.parametrize("refused", ["SCHED_BATCH", "SCHED_OTHER"])
def test_sched_setscheduler_refused(refused, service_imap, dovecot, imap):
    assert os.path.exists(SCHED_REFUSE), "%s is not built (run make check)" % (
        SCHED_REFUSE)
    dc = dovecot(users=["a", "b"], extra_conf=DEBUG,
                 service_imap="  executable = %s %s %s\n%s" % (
                     SCHED_REFUSE, refused, IMAP, service_imap))
    since = len(dc.log_text())
    a = imap(dc, "a")
    pid = h.session_pid(dc, "a", since)
    assert_other(pid, "after SELECT")
    for round_no in (1, 2):
        tag, _ = a.idle()
        # the policy is decided before "+ idling" is sent
        assert_other(pid, "while idling (round %d)" % round_no)
        dc.deliver_lmtp("a", make_message())
        wait_exists(a, round_no)
        untagged, tagged = a.done(tag)
        assert tagged.startswith(tag + " OK"), tagged
        a.command("NOOP")
        assert_other(pid, "after DONE and NOOP (round %d)" % round_no)
    if service_imap:
        # a second client of the same process is served as usual
        b = imap(dc, "b")
        assert h.session_pid(dc, "b", since) == pid
        tag, _ = b.idle()
        dc.deliver_lmtp("b", make_message())
        wait_exists(b, 1)
        b.done(tag)
    warnings = h.wait_log(dc, "sched_setscheduler(%s) failed" % refused,
                          since)
    assert len(warnings) == 1, warnings
    assert "imap_idle_yield_cpu" in warnings[0], warnings
    assert h.line_pid(warnings[0]) == pid, warnings


PRELOAD_EXEC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "faults", "preload-exec")
SCHED_FLAKY = os.path.join(TOP_BUILDDIR, "tests", "faults", ".libs",
                           "libschedflaky.so")


def test_sched_other_refused_after_the_probe(dovecot, imap):
    """A policy that allows the probe and the switch to SCHED_BATCH, then
    refuses SCHED_OTHER (tests/faults/sched-flaky.c, preloaded): the
    process logs one error, takes no new clients (the next login gets
    another process) and exits once its client has left."""
    assert os.path.exists(SCHED_FLAKY), "%s is not built (run make check)" % (
        SCHED_FLAKY)
    dc = dovecot(users=["a", "b"], extra_conf=DEBUG,
                 service_imap="  executable = %s %s %s\n"
                              "  client_limit = 10\n  service_count = 0\n"
                              "  process_limit = 4\n" % (
                                  PRELOAD_EXEC, SCHED_FLAKY, IMAP))
    since = len(dc.log_text())
    a = imap(dc, "a")
    pid = h.session_pid(dc, "a", since)
    tag, _ = a.idle()
    assert os.sched_getscheduler(pid) == os.SCHED_BATCH, (
        "the probe passed, so the idling process should yield")
    untagged, tagged = a.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    errors = h.wait_log(dc, "failed under SCHED_BATCH", since)
    assert len(errors) == 1 and h.line_pid(errors[0]) == pid, errors
    assert "takes no new clients" in errors[0], errors
    b = imap(dc, "b")
    b_pid = h.session_pid(dc, "b", since)
    assert b_pid != pid, "a process stuck under SCHED_BATCH took a client"
    assert_other(b_pid, "in a fresh process")
    a.command("LOGOUT")
    a.close()
    assert h.wait_pid_gone(pid), (
        "the stuck process %d did not exit after its client left" % pid)
    tag, _ = b.idle()
    dc.deliver_lmtp("b", make_message())
    wait_exists(b, 1)
    b.done(tag)


# a mail uid of this test alone: taking all of its inotify watches must not
# touch another test's or another suite's Dovecot on the machine
WATCH_TEST_UID = 20000 + os.getpid() % 10000


@pytest.fixture
def watch_taker():
    takers = []

    def start(uid):
        t = h.InotifyWatchTaker(uid).start()
        takers.append(t)
        return t
    yield start
    for t in takers:
        t.stop()


def test_inotify_watch_limit_reached_mid_idle(dovecot, imap, watch_taker):
    dc = dovecot(users=["w"], mail_uid=WATCH_TEST_UID, extra_conf=DEBUG,
                 settings={"imap_idle_notify_delay": "5s",
                           "imap_idle_poll_interval": "200ms"})
    since = len(dc.log_text())
    c = imap(dc, "w")
    pid = h.session_pid(dc, "w", since)
    tag, _ = c.idle()
    assert h.wait_log(dc, "IDLE started", since), "no IDLE started line"
    assert not h.log_lines(dc, "Polling the mailbox", since), (
        "polling before the limit was reached")
    watch_taker(WATCH_TEST_UID)
    # the delivery opens the 5 s window; the idler stops listening during
    # it, and listens again when the window's sync starts: by then the
    # uid has no watch to spare
    dc.deliver_lmtp("w", make_message())
    wait_exists(c, 1, timeout=30)
    fallback = h.wait_log(dc, "inotify watch limit reached", since)
    assert fallback and h.line_pid(fallback[0]) == pid, (
        "no poll fallback logged: %r" % h.log_lines(dc, "imap-idle", since))
    # polled from now on: nothing is lost
    for n in (2, 3):
        dc.deliver_lmtp("w", make_message())
        wait_exists(c, n, timeout=30)
    dc.deliver_lmtp("w", make_message())
    untagged, tagged = c.done(tag)
    assert "* 4 EXISTS" in untagged, untagged
    assert tagged.startswith(tag + " OK"), tagged
    # one warning of the plugin's, naming the limit (Dovecot warns too)
    warnings = h.log_lines(dc, "Filesystem notifications are unavailable",
                           since)
    assert len(warnings) == 1, warnings
    assert "fs.inotify.max_user_watches" in warnings[0], warnings

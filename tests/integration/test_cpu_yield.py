# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""imap_idle_yield_cpu (plugin/imap-idle/idle-cpu-yield.c): while every
client of an imap process idles, the process runs under SCHED_BATCH, so its
pushes never preempt the delivery that caused them; any other command gets
SCHED_OTHER back before it runs.  The policy is read from outside with
sched_getscheduler(pid), and pushes still arrive while it is in force."""

import os
import time

import idle_helpers as h
from idle_helpers import make_message, wait_exists

DEBUG = "log_debug = category=imap-idle\n"

h.register_profile(
    "cpu-yield", extra_conf=DEBUG,
    users=["yielder", "no_yield"],
    userdb_extra={"no_yield": "userdb_plugin/imap_idle_yield_cpu=no"})

POLICY_NAMES = {os.SCHED_OTHER: "SCHED_OTHER", os.SCHED_BATCH: "SCHED_BATCH"}


def policy(pid):
    return os.sched_getscheduler(pid)


def wait_policy(pid, wanted, timeout=5.0):
    """The process's policy is changed by the process itself, after the
    client's line reached it: wait for it, and say what it was if not."""
    deadline = time.monotonic() + timeout
    while True:
        now = policy(pid)
        if now == wanted:
            return
        if time.monotonic() > deadline:
            raise AssertionError("imap pid %d runs under %s, expected %s" % (
                pid, POLICY_NAMES.get(now, now),
                POLICY_NAMES.get(wanted, wanted)))
        time.sleep(0.02)


def logout(dc, client, user):
    """Logs user out and waits until its imap process has let it go (the
    log line is written as the client is destroyed)."""
    since = len(dc.log_text())
    client.command("LOGOUT")
    client.close()
    deadline = time.monotonic() + 5
    while not any("(%s)<" % user in l for l in
                  h.log_lines(dc, "Logged out", since)):
        assert time.monotonic() < deadline, "%s was not logged out" % user
        time.sleep(0.02)


def test_idling_process_yields_until_done(shared_dovecot, imap):
    dc = shared_dovecot(profile="cpu-yield")
    c = imap(dc, "yielder")
    pid = h.session_pid(dc, "yielder")
    assert policy(pid) == os.SCHED_OTHER, "SELECT ran under %s" % (
        POLICY_NAMES.get(policy(pid)))

    tag, _ = c.idle()
    wait_policy(pid, os.SCHED_BATCH)
    # a yielding idler is still pushed to at once
    dc.deliver_lmtp("yielder", make_message())
    wait_exists(c, 1)
    assert policy(pid) == os.SCHED_BATCH
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    wait_policy(pid, os.SCHED_OTHER)

    # the next IDLE yields again, and a command after it does not
    tag, _ = c.idle()
    wait_policy(pid, os.SCHED_BATCH)
    c.done(tag)
    c.command("NOOP")
    assert policy(pid) == os.SCHED_OTHER


def test_yield_cpu_no_keeps_the_process_as_it_is(shared_dovecot, imap):
    dc = shared_dovecot(profile="cpu-yield")
    c = imap(dc, "no_yield")
    pid = h.session_pid(dc, "no_yield")
    tag, _ = c.idle()
    dc.deliver_lmtp("no_yield", make_message())
    wait_exists(c, 1)
    assert policy(pid) == os.SCHED_OTHER, (
        "imap_idle_yield_cpu = no, yet the idling process runs under %s"
        % POLICY_NAMES.get(policy(pid)))
    c.done(tag)


def test_process_yields_only_while_every_client_idles(dovecot, imap):
    dc = dovecot(users=["a", "b", "c", "off"], extra_conf=DEBUG,
                 userdb_extra={"off": "userdb_plugin/imap_idle_yield_cpu=no"},
                 service_imap="  client_limit = 10\n"
                              "  service_count = 0\n"
                              "  process_limit = 1\n")
    a = imap(dc, "a")
    b = imap(dc, "b")
    pid = h.session_pid(dc, "a")
    assert h.session_pid(dc, "b") == pid

    tag_a, _ = a.idle()
    # b is logged in and not idling: it keeps the CPU as usual
    b.command("NOOP")
    assert policy(pid) == os.SCHED_OTHER
    tag_b, _ = b.idle()
    wait_policy(pid, os.SCHED_BATCH)

    # a client that logs in is served under SCHED_OTHER ...
    c = imap(dc, "c")
    assert h.session_pid(dc, "c") == pid
    assert policy(pid) == os.SCHED_OTHER
    # ... and once it has left, the next push notices the idlers are alone
    logout(dc, c, "c")
    dc.deliver_lmtp("a", make_message())
    wait_exists(a, 1)
    wait_policy(pid, os.SCHED_BATCH)

    # an idler without the setting keeps the process as it is
    off = imap(dc, "off")
    assert h.session_pid(dc, "off") == pid
    tag_off, _ = off.idle()
    dc.deliver_lmtp("a", make_message())
    wait_exists(a, 2)
    assert policy(pid) == os.SCHED_OTHER
    off.done(tag_off)
    logout(dc, off, "off")

    # DONE from one idler is enough to take the CPU back
    dc.deliver_lmtp("b", make_message())
    wait_exists(b, 1)
    wait_policy(pid, os.SCHED_BATCH)
    untagged, tagged = b.done(tag_b)
    assert tagged.startswith(tag_b + " OK"), tagged
    wait_policy(pid, os.SCHED_OTHER)
    a.done(tag_a)

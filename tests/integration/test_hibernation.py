# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Hibernation (imap_hibernate_timeout): the plugin's idlers leave their
imap process through Dovecot's imap_client_hibernate() and are woken by a
change or by input, and IDLE goes on without a second "+ idling".

That a client hibernated is shown without timing: its imap process is gone
(one process per connection), or the plugin's imap_idle_hibernated event is
in the debug log (several connections per process).  Dovecot's own debug
line "Successfully hibernated" is used for stock."""

import os
import time

import pytest

import idle_helpers as h
from idle_helpers import make_message, wait_exists, wait_for

DEBUG = "log_debug = category=imap-idle OR event=imap_client_hibernated\n"
HIBERNATE = "imap_hibernate_timeout = 1s\n"
HIBERNATED = "Hibernated after"
STOCK_HIBERNATED = "Successfully hibernated imap client"
SHARED = ("  client_limit = 50\n"
          "  service_count = 0\n"
          "  process_limit = 1\n")
MODES = {"process": "", "shared": SHARED}


def start(dovecot, mail_format="maildir", mode="process", plugin=True,
          users=1, extra=""):
    return dovecot(users=users, mail_format=mail_format, plugin=plugin,
                   extra_conf=DEBUG + HIBERNATE + extra,
                   service_imap=MODES[mode])


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

# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Keepalives while idling (RFC2177-6, checklist 14): with
imap_idle_notify_interval = 1 secs, "* OK Still here" arrives within a few
seconds and keeps coming; they don't disturb IDLE (changes are still
reported, DONE still ends it); with imap_idle_notify_interval = 0 none are
sent.  The plugin must behave like the built-in."""

import pytest

from idle_helpers import collect, make_message, wait_for, wait_exists

pytestmark = pytest.mark.parametrize("plugin", [True, False],
                                     ids=["plugin", "builtin"])
STILL_HERE = "* OK Still here"


def test_keepalives_arrive_repeatedly(plugin, shared_dovecot, fresh_user,
                                      imap):
    dc = shared_dovecot(plugin=plugin, profile="keepalive")
    user = fresh_user(dc)
    c = imap(dc, user)
    tag, _ = c.idle()
    lines = wait_for(c, lambda l: l == STILL_HERE, timeout=5,
                     what="the first keepalive")
    lines += wait_for(c, lambda l: l == STILL_HERE, timeout=5,
                      what="a second keepalive")
    assert [l for l in lines if l != STILL_HERE] == [], lines
    # IDLE still works between keepalives
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 1)
    lines = wait_for(c, lambda l: l == STILL_HERE, timeout=5,
                     what="a keepalive after the change")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_no_keepalives_when_interval_is_zero(plugin, shared_dovecot,
                                             fresh_user, imap):
    dc = shared_dovecot(plugin=plugin, profile="nokeepalive")
    c = imap(dc, fresh_user(dc))
    tag, _ = c.idle()
    lines = collect(c, 3.0)
    assert lines == [], lines
    untagged, tagged = c.done(tag)
    assert untagged == [] and tagged.startswith(tag + " OK"), (untagged,
                                                                tagged)


def test_no_keepalives_outside_idle(plugin, shared_dovecot, fresh_user,
                                    imap):
    dc = shared_dovecot(plugin=plugin, profile="keepalive")
    c = imap(dc, fresh_user(dc))
    tag, _ = c.idle()
    wait_for(c, lambda l: l == STILL_HERE, timeout=5, what="a keepalive")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    # the keepalive timer went with the IDLE command
    assert collect(c, 1.6) == []
    # and a new IDLE has its own
    tag, _ = c.idle()
    wait_for(c, lambda l: l == STILL_HERE, timeout=5,
             what="a keepalive in the second IDLE")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged

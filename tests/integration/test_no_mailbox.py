# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""IDLE in the authenticated state, without a selected mailbox
(RFC9051-8): "+ idling", keepalives arrive, DONE ends it with OK, and the
session goes on (SELECT, IDLE with a mailbox).  Plugin and built-in alike."""

import pytest

from idle_helpers import wait_for, make_message, wait_exists, collect

pytestmark = pytest.mark.parametrize("plugin", [True, False],
                                     ids=["plugin", "builtin"])


def test_idle_without_selected_mailbox(plugin, shared_dovecot, fresh_user,
                                       imap):
    dc = shared_dovecot(plugin=plugin, profile="keepalive")
    user = fresh_user(dc)
    c = imap(dc, user, select=None)
    tag, before = c.idle()
    assert before == []
    wait_for(c, lambda l: l == "* OK Still here", timeout=5,
             what="a keepalive")
    # mail arriving now is nobody's business yet: no mailbox is selected
    dc.deliver_lmtp(user, make_message())
    lines = collect(c, 1.0)
    assert [l for l in lines if l != "* OK Still here"] == [], lines
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert [l for l in untagged if l != "* OK Still here"] == [], untagged

    untagged, tagged = c.select("INBOX")
    assert "* 1 EXISTS" in untagged, untagged
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 2)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_idle_after_unselect(plugin, shared_dovecot, fresh_user, imap):
    dc = shared_dovecot(plugin=plugin)
    user = fresh_user(dc)
    c = imap(dc, user)
    c.command("UNSELECT")
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message())
    # the shared Dovecot's keepalives are frequent enough to land here
    lines = collect(c, 1.0)
    assert [l for l in lines if l != "* OK Still here"] == [], lines
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    untagged, tagged = c.command("NOOP")
    assert tagged.split()[1] == "OK", tagged

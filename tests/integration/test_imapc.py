# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""A mailbox served through imapc (mail_location = imapc:) from a second,
stock Dovecot on 127.0.0.1: the front's index is in memory, or on disk as
a cache of the remote mailbox; either way the front sees a change only
when the backend reports it, over imapc's own IDLE on the remote
connection, and Dovecot's watch is all there is to listen to.  The plugin
keeps out of its way and says once why; a delivery through the backend's
LMTP reaches the front's idler; DONE gets its OK; no error in either log."""

import pytest

from idle_helpers import (make_message, log_lines, wait_log,
                          idle_through_deliveries)
from dovecot_instance import DOVECOT_24

USER = "remote"


def imapc_conf(backend, index):
    """The front's settings in 2.3's syntax (the harness translates them
    for 2.4), but for the user's name: %u in 2.3, %{user} in 2.4."""
    return ("mail_location = imapc:%s\n"
            "imapc_host = %s\n"
            "imapc_port = %d\n"
            "imapc_user = %s\n"
            "imapc_password = %s\n"
            "log_debug = category=imap-idle\n"
            % (index, backend.host, backend.imap_port,
               "%{user}" if DOVECOT_24 else "%u", backend.password))


@pytest.mark.parametrize("index", ["", "~/imapc"],
                         ids=["index-in-memory", "index-on-disk"])
def test_imapc_delivery_reaches_the_idler(dovecot, imap, index):
    backend = dovecot(plugin=False, mail_format="maildir", users=[USER])
    front = dovecot(plugin=True, users=[USER],
                    extra_conf=imapc_conf(backend, index))
    backend.deliver_lmtp(USER, make_message(subject="before"))
    c = imap(front, USER)
    idle_through_deliveries(c, lambda n: backend.deliver_lmtp(
        USER, make_message(subject="delivery %d" % n)), (2, 3))
    lines, tagged = c.command("FETCH 1:3 (BODY.PEEK[HEADER.FIELDS "
                              "(SUBJECT)])")
    assert tagged.split()[1] == "OK", tagged
    assert "delivery 3" in "\n".join(lines), lines
    for dc in (front, backend):
        problems = log_lines(dc, "Error:") + log_lines(dc, "Warning:")
        assert problems == [], problems
    # the changes came over imapc's IDLE, through Dovecot's watch
    # (the log process writes asynchronously: the last push's line may
    # land after DONE's reply)
    pushed = wait_log(front, "imap-idle: Pushed changes from ", count=2)
    assert len(pushed) == 2 and all(
        "Pushed changes from dovecot:" in l for l in pushed), pushed
    # why the plugin leaves it to Dovecot's watch: once per IDLE at debug
    # level, once per process at info level
    why = "the mailbox is on another IMAP server (imapc)"
    assert len(log_lines(front, "Dovecot's own watch only: " + why)) == 1
    assert len(log_lines(front, "Info: imap-idle: " + why + ", so ")) == 1

# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""A maildir whose index lives in memory (mail_location ...:INDEX=MEMORY):
no other process sees this index and there is no transaction log on disk,
so the plugin watches the mailbox as Dovecot's own IDLE does (a full sync
on each signal of Dovecot's watch) and says so once in the log.  Deliveries
are pushed, and Dovecot's log has no error or warning."""

from idle_helpers import (make_message, doveadm_save, log_lines,
                          idle_through_deliveries)

IN_MEMORY = "mail_location = maildir:~/Maildir:INDEX=MEMORY\n"


def test_index_in_memory_gets_deliveries_pushed(dovecot, imap):
    user = "mem"
    dc = dovecot(plugin=True, mail_format="maildir", users=[user],
                 extra_conf=IN_MEMORY + "log_debug = category=imap-idle\n")
    doveadm_save(dc, user, count=1)
    c = imap(dc, user)
    idle_through_deliveries(c, lambda n: dc.deliver_lmtp(
        user, make_message(subject="delivery %d" % n)), (2, 3))
    lines, tagged = c.command("NOOP")
    assert tagged.split()[1] == "OK", tagged
    problems = log_lines(dc, "Error:") + log_lines(dc, "Warning:")
    assert problems == [], problems
    # the reason, once per process
    assert len(log_lines(dc, "index is in memory (INDEX=MEMORY), so")) == 1

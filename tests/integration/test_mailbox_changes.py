# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The selected mailbox is deleted, renamed, or gets a new UIDVALIDITY
while the client idles (RFC9051-10).  What the client sees is whatever
Dovecot's own sync makes of it (BYE, untagged NO, or nothing until the next
command); the plugin must not crash or hang, and its outcome class ("closed"
or "still usable" after IDLE, DONE and a NOOP) must match the built-in's in
the same setup."""

import pytest

import idle_helpers as h


def change(dc, user, action):
    if action == "delete":
        dc.doveadm("mailbox", "delete", "-u", user, "Folder")
    elif action == "rename":
        dc.doveadm("mailbox", "rename", "-u", user, "Folder", "Renamed")
    elif action == "uidvalidity":
        dc.doveadm("mailbox", "update", "-u", user, "--uid-validity",
                   "12345", "INBOX")
    else:
        raise ValueError(action)


def observe(shared_dovecot, fresh_user, imap, plugin, mail_format, action):
    dc = shared_dovecot(plugin=plugin, mail_format=mail_format)
    user = fresh_user(dc)
    since = len(dc.log_text())
    c = imap(dc, user, select=None)
    c.command("CREATE Folder")
    box = "INBOX" if action == "uidvalidity" else "Folder"
    h.doveadm_save(dc, user, folder=box, count=2)
    c.select(box)
    pid = h.session_pid(dc, user, since)
    tag, _ = c.idle()
    change(dc, user, action)
    outcome, transcript = h.drive_to_outcome(c, tag)
    if outcome == "closed":
        c.close()
        assert h.wait_pid_gone(pid, 10), \
            "imap process %d still runs after the server closed" % pid
    # the server goes on serving the user either way
    c2 = imap(dc, user)
    tag2, _ = c2.idle()
    h.doveadm_save(dc, user, count=1, subject="afterwards")
    h.wait_for(c2, lambda l: l.endswith(" EXISTS"), what="EXISTS")
    untagged, tagged = c2.done(tag2)
    assert tagged.startswith(tag2 + " OK"), tagged
    return outcome, transcript


@pytest.mark.parametrize("mail_format", ["maildir", "mdbox"])
@pytest.mark.parametrize("action", ["delete", "rename", "uidvalidity"])
def test_outcome_matches_builtin(action, mail_format, shared_dovecot,
                                 fresh_user, imap):
    builtin, b_lines = observe(shared_dovecot, fresh_user, imap, False,
                               mail_format, action)
    plugin, p_lines = observe(shared_dovecot, fresh_user, imap, True,
                              mail_format, action)
    print("%s/%s: built-in %s %r; plugin %s %r" % (
        action, mail_format, builtin, b_lines, plugin, p_lines))
    assert plugin == builtin, (
        "%s of the selected mailbox while idling: built-in -> %s %r, "
        "plugin -> %s %r" % (action, builtin, b_lines, plugin, p_lines))

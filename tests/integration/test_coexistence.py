# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The plugin next to what else runs in an imap process:
- a user whose userdb sets mail_plugins without imap_idle (passwd-file extra
  field userdb_mail_plugins=notify; an empty value would mean "yes" to
  Dovecot, so a harmless other plugin stands in) gets Dovecot's
  built-in IDLE, in a process of its own and in a process shared with
  plugin users (client_limit = 10), whichever logged in first;
- NOTIFY (RFC 5465, checklist 13) keeps working while idling: events of
  other mailboxes arrive as STATUS, the selected one's as EXISTS, and
  NOTIFY's event selection still shapes what IDLE reports;
- with imap_hibernate_timeout set, the plugin keeps idling clients in their
  process (IDLE works past the timeout) and says so once per process;
- several idlers of one mailbox in one process (the plugin shares one
  directory watch between them) all get every change, also after one of
  them stopped idling or disconnected.

Which IDLE served a session is read from the plugin's debug log line
"imap-idle: IDLE started" (log_debug = category=imap-idle), which the
built-in never writes."""

import collections
import time

import pytest

import idle_helpers as h
from idle_helpers import make_message, wait_exists, wait_for, collect

DEBUG = "log_debug = category=imap-idle\n"
STARTED = "imap-idle: IDLE started"


def started_by(dc, user, since=0):
    return [l for l in h.log_lines(dc, STARTED, since)
            if "imap(%s)" % user in l]


def idle_round(dc, user, c, n):
    """IDLE, one delivery -> '* n EXISTS', DONE -> OK."""
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, n)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_user_without_plugin_gets_builtin_idle(dovecot, imap):
    dc = dovecot(users=["withplugin", "without"], extra_conf=DEBUG,
                 userdb_extra={"without": "userdb_mail_plugins=notify"})
    a = imap(dc, "withplugin")
    b = imap(dc, "without")
    idle_round(dc, "withplugin", a, 1)
    idle_round(dc, "without", b, 1)
    assert len(h.wait_log(dc, STARTED)) >= 1
    assert len(started_by(dc, "withplugin")) == 1, dc.log_text()
    assert started_by(dc, "without") == [], (
        "the user without imap_idle in mail_plugins was served by the "
        "plugin")
    # IDLE stays advertised for both
    for c in (a, b):
        untagged, _ = c.command("CAPABILITY")
        assert " IDLE" in untagged[0], untagged


def test_mixed_users_in_one_process(dovecot, imap):
    dc = dovecot(users=["first", "plug", "later"], extra_conf=DEBUG,
                 userdb_extra={"first": "userdb_mail_plugins=notify",
                               "later": "userdb_mail_plugins=notify"},
                 service_imap="  client_limit = 10\n"
                              "  service_count = 0\n"
                              "  process_limit = 1\n")
    # a built-in user idles before the plugin is even loaded ...
    first = imap(dc, "first")
    tag_first, _ = first.idle()
    # ... then a plugin user loads it into the same process ...
    plug = imap(dc, "plug")
    tag_plug, _ = plug.idle()
    later = imap(dc, "later")
    tag_later, _ = later.idle()
    pids = {u: h.session_pid(dc, u) for u in ("first", "plug", "later")}
    assert len(set(pids.values())) == 1, pids

    for user, c in (("first", first), ("plug", plug), ("later", later)):
        dc.deliver_lmtp(user, make_message())
        wait_exists(c, 1)
    for c, tag in ((first, tag_first), (plug, tag_plug),
                   (later, tag_later)):
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), tagged
    # the built-in users IDLE again with the plugin loaded in the process
    idle_round(dc, "first", first, 2)
    idle_round(dc, "later", later, 2)
    idle_round(dc, "plug", plug, 2)

    h.wait_log(dc, STARTED, count=2)
    assert len(started_by(dc, "plug")) == 2, dc.log_text()
    assert started_by(dc, "first") == [], dc.log_text()
    assert started_by(dc, "later") == [], dc.log_text()


# MessageNew with MessageExpunge: RFC 5465 requires them together, and
# Dovecot 2.4 enforces it (2.3 let MessageNew alone pass)
NOTIFY_ALL = ("NOTIFY SET (selected (MessageNew MessageExpunge FlagChange)) "
              "(personal (MessageNew MessageExpunge))")


@pytest.mark.parametrize("plugin", [True, False], ids=["plugin", "builtin"])
def test_notify_events_while_idling(plugin, shared_dovecot, fresh_user,
                                    imap):
    dc = shared_dovecot(plugin=plugin, profile="notify")
    user = fresh_user(dc)
    c = imap(dc, user, select=None)
    c.command("CREATE Folder")
    c.select("INBOX")
    c.command(NOTIFY_ALL)
    tag, _ = c.idle()

    h.doveadm_save(dc, user, folder="Folder")
    lines = wait_for(c, lambda l: l.startswith("* STATUS Folder"),
                     what="* STATUS Folder")
    assert "MESSAGES 1" in lines[-1], lines

    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 1)
    dc.doveadm("flags", "add", "-u", user, "\\Flagged", "mailbox", "INBOX",
               "uid", "1")
    lines = wait_for(c, lambda l: l.startswith("* 1 FETCH"),
                     what="* 1 FETCH")
    assert "\\Flagged" in lines[-1], lines
    dc.doveadm("expunge", "-u", user, "mailbox", "INBOX", "uid", "1")
    wait_for(c, lambda l: l == "* 1 EXPUNGE", what="* 1 EXPUNGE")

    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    if plugin:
        assert started_by(dc, user), "the plugin did not serve this IDLE"


@pytest.mark.parametrize("plugin", [True, False], ids=["plugin", "builtin"])
def test_notify_without_flagchange_hides_flag_changes(plugin, shared_dovecot,
                                                      fresh_user, imap):
    dc = shared_dovecot(plugin=plugin, profile="notify")
    user = fresh_user(dc)
    h.doveadm_save(dc, user, count=1)
    c = imap(dc, user)
    c.command("NOTIFY SET (selected (MessageNew MessageExpunge))")
    tag, _ = c.idle()
    dc.doveadm("flags", "add", "-u", user, "\\Flagged", "mailbox", "INBOX",
               "uid", "1")
    # a delivery afterwards shows the client is being notified at all
    dc.deliver_lmtp(user, make_message())
    lines = wait_exists(c, 2)
    lines += collect(c, 0.7)
    assert not [l for l in lines if " FETCH " in l], (
        "NOTIFY without FlagChange: flag changes must not be reported, "
        "got %r" % lines)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_hibernate_timeout_is_ignored_with_one_notice_per_process(
        dovecot, imap):
    conf = DEBUG + "imap_hibernate_timeout = 1s\n"
    # one process per connection (the default) ...
    dc = dovecot(users=2, extra_conf=conf)
    # ... and one process for several connections
    shared = dovecot(users=2, extra_conf=conf,
                     service_imap="  client_limit = 10\n"
                                  "  service_count = 0\n"
                                  "  process_limit = 1\n")
    sessions = []
    for inst in (dc, shared):
        for user in inst.users:
            c = imap(inst, user)
            tag, _ = c.idle()
            sessions.append((inst, user, c, tag))
    time.sleep(2.5)       # well past imap_hibernate_timeout
    for inst, user, c, tag in sessions:
        inst.deliver_lmtp(user, make_message())
        wait_exists(c, 1)
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), tagged
        # a second IDLE in the same process logs no second notice
        tag, _ = c.idle()
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), tagged

    for inst, processes in ((dc, 2), (shared, 1)):
        notices = h.log_lines(inst, "does not hibernate")
        per_pid = collections.Counter(h.line_pid(l) for l in notices)
        assert len(per_pid) == processes and \
            set(per_pid.values()) == {1}, (processes, notices)
        assert not h.log_lines(inst, "hibernated"), inst.log_text()


@pytest.mark.parametrize("mail_format", ["maildir", "mdbox"])
def test_several_idlers_of_one_mailbox_in_one_process(mail_format, dovecot,
                                                      imap):
    """The plugin shares one directory watch between the clients of a
    process: every idler of the mailbox gets every change, also after one
    of them stopped idling or went away."""
    dc = dovecot(users=["shared", "other"], mail_format=mail_format,
                 extra_conf=DEBUG,
                 service_imap="  client_limit = 10\n"
                              "  service_count = 0\n"
                              "  process_limit = 1\n")
    clients = [imap(dc, "shared") for _ in range(3)]
    other = imap(dc, "other")
    tags = [c.idle()[0] for c in clients]
    other_tag, _ = other.idle()
    assert len(set(h.login_pids(dc, "shared") +
                   h.login_pids(dc, "other"))) == 1

    dc.deliver_lmtp("shared", make_message())
    for c in clients:
        wait_exists(c, 1)
    # one stops idling, one goes away: the rest still hear about changes
    untagged, tagged = clients[0].done(tags[0])
    assert tagged.startswith(tags[0] + " OK"), tagged
    clients[1].close()
    dc.deliver_lmtp("shared", make_message())
    wait_exists(clients[2], 2)
    dc.deliver_lmtp("other", make_message())
    wait_exists(other, 1)
    assert not [l for l in collect(other, 0.3) if "EXISTS" in l]
    # and a new IDLE in the same process joins in
    tags[0], _ = clients[0].idle()
    dc.doveadm("flags", "add", "-u", "shared", "\\Seen", "mailbox", "INBOX",
               "uid", "2")
    for c in (clients[0], clients[2]):
        wait_for(c, lambda l: l.startswith("* 2 FETCH") and "\\Seen" in l,
                 what="* 2 FETCH (FLAGS (\\Seen))")
    for c, tag in ((clients[0], tags[0]), (clients[2], tags[2]),
                   (other, other_tag)):
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), tagged

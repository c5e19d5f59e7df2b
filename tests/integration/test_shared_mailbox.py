# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""A mailbox shared through ACLs (acl + imap_acl plugins, a shared
namespace): a user idling on another user's INBOX learns of the owner's
flag changes, another grantee's expunges and LMTP deliveries to the owner,
the same way as for their own mailbox.  For maildir, sdbox and mdbox.
Settings bad only for the owner (Dovecot creates a user for them when the
sharer opens the mailbox) don't fail the sharer's access."""

import os
import re

import pytest

import idle_helpers as h
from dovecot_instance import DOVECOT_24
from idle_helpers import (make_message, wait_exists, wait_for,
                          register_profile, doveadm_save, log_lines)

FORMATS = {"maildir": "maildir:%%h/Maildir", "sdbox": "sdbox:%%h/sdbox",
           "mdbox": "mdbox:%%h/mdbox"}
pytestmark = pytest.mark.parametrize("mail_format", sorted(FORMATS))


def shared_namespace(fmt, location):
    """The shared namespace in the running Dovecot's syntax: 2.4 split
    location into mail_driver and mail_path and names the owner's home
    %{owner_home} and the owner $user."""
    if DOVECOT_24:
        return ("namespace shared {\n  type = shared\n"
                "  separator = /\n  prefix = shared/$user/\n"
                "  mail_driver = " + fmt + "\n"
                "  mail_path = %{owner_home}/" + location.split("/", 1)[1] +
                "\n  subscriptions = no\n  list = children\n}\n")
    return ("namespace shared {\n  type = shared\n"
            "  separator = /\n  prefix = shared/%%u/\n"
            "  location = " + location + "\n"
            "  subscriptions = no\n  list = children\n}\n")


for fmt, location in FORMATS.items():
    register_profile(
        "acl-" + fmt,
        imap_mail_plugins="$mail_plugins acl imap_acl imap_idle",
        settings={"acl_driver" if DOVECOT_24 else "acl": "vfile"},
        extra_conf="log_debug = category=imap-idle\n"
                   "namespace inbox {\n  inbox = yes\n  separator = /\n}\n"
                   + shared_namespace(fmt, location))


@pytest.fixture
def shared_inbox(mail_format, shared_dovecot, fresh_user, imap):
    """Owner, grantee and idler; the idler has IDLE running on the
    owner's INBOX, which holds 3 messages."""
    dc = shared_dovecot(plugin=True, mail_format=mail_format,
                        profile="acl-" + mail_format)
    owner, grantee, idler = fresh_user(dc), fresh_user(dc), fresh_user(dc)
    doveadm_save(dc, owner, count=3)
    own = imap(dc, owner)
    for who in (grantee, idler):
        own.command("SETACL INBOX %s lrswitekx" % who)
    c = imap(dc, idler, select=None)
    untagged, tagged = c.command("SELECT shared/%s/INBOX" % owner)
    assert "[READ-WRITE]" in tagged, (untagged, tagged)
    assert any(l == "* 3 EXISTS" for l in untagged), untagged
    tag, _ = c.idle()
    return dc, owner, grantee, own, c, tag


def test_owner_flag_change_reaches_idler(shared_inbox):
    dc, owner, grantee, own, c, tag = shared_inbox
    own.command("STORE 2 +FLAGS.SILENT (\\Flagged)")
    lines = wait_for(c, lambda l: l.startswith("* 2 FETCH"),
                     what="* 2 FETCH")
    assert re.match(r"\* 2 FETCH \(FLAGS \(.*\\Flagged.*\)\)$",
                    lines[-1]), lines
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_grantee_expunge_reaches_idler(shared_inbox, imap):
    dc, owner, grantee, own, c, tag = shared_inbox
    other = imap(dc, grantee, select="shared/%s/INBOX" % owner)
    other.command("STORE 1 +FLAGS.SILENT (\\Deleted)")
    other.command("EXPUNGE")
    wait_for(c, lambda l: l == "* 1 EXPUNGE", what="* 1 EXPUNGE")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    lines, tagged = c.command("NOOP")
    assert not any("EXISTS" in l or "EXPUNGE" in l for l in lines), lines


def test_delivery_to_owner_reaches_idler(shared_inbox):
    dc, owner, grantee, own, c, tag = shared_inbox
    dc.deliver_lmtp(owner, make_message(subject="for the owner"))
    wait_exists(c, 4)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_owner_only_bad_setting_does_not_fail_the_sharer(mail_format,
                                                         dovecot, imap):
    """Dovecot 2.3 gives the user it creates for a shared mailbox's owner
    the sharer's settings, expanded for the owner, without the owner's
    userdb fields: a %{userdb:...} that falls back to a bad default is
    bad for that owner user only.  The plugin skips such users (it
    serves the logged-in one), so the sharer selects and idles."""
    users = ["owner", "sharer"]
    profile = dict(h.PROFILES["acl-" + mail_format])
    if DOVECOT_24:
        # 2.4 has no plugin {} to expand per user, and the user it creates
        # for the owner reads the owner's own userdb fields: a bad value
        # there, put in after the owner shared the INBOX, is the owner's
        # alone
        settings = dict(profile["settings"])
        userdb_extra = {}
    else:
        settings = {"acl": "vfile",
                    "imap_idle_notify_delay": "%{userdb:idle_delay:bogus}"}
        userdb_extra = {u: "userdb_idle_delay=0" for u in users}
    dc = dovecot(plugin=True, mail_format=mail_format, users=users,
                 imap_mail_plugins=profile["imap_mail_plugins"],
                 settings=settings, userdb_extra=userdb_extra,
                 extra_conf=profile["extra_conf"])
    doveadm_save(dc, "owner", count=1)
    own = imap(dc, "owner")
    own.command("SETACL INBOX sharer lrswitekx")
    if DOVECOT_24:
        own.command("LOGOUT")
        passwd = os.path.join(dc.tmp, "passwd")
        with open(passwd) as f:
            lines = f.read().splitlines(True)
        with open(passwd, "w") as f:
            for line in lines:
                if line.startswith("owner:"):
                    line = line.rstrip("\n") + \
                        "userdb_imap_idle_notify_delay=bogus\n"
                f.write(line)
    c = imap(dc, "sharer", select=None)
    untagged, tagged = c.command("SELECT shared/owner/INBOX")
    assert "[READ-WRITE]" in tagged, (untagged, tagged)
    tag, _ = c.idle()
    dc.deliver_lmtp("owner", make_message(subject="for the owner"))
    wait_exists(c, 2)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert log_lines(dc, "Error:") == [], log_lines(dc, "Error:")

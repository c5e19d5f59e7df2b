# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""How the line that ends IDLE is read (RFC2177-4, -5): DONE in any case
ends IDLE with OK; any other line (trailing space, another command, an
overlong line) ends it with a readable tagged BAD and the connection stays
usable; IDLE and DONE pipelined with other commands in one packet work.
Run against the plugin and the built-in IDLE, which must agree (except for
the text of the overlong-line BAD)."""

import re

import pytest

from idle_helpers import (wait_tagged, wait_for, make_message, wait_exists,
                          doveadm_save)

pytestmark = pytest.mark.parametrize("plugin", [True, False],
                                     ids=["plugin", "builtin"])


def start(shared_dovecot, fresh_user, imap, plugin, select="INBOX"):
    dc = shared_dovecot(plugin=plugin)
    user = fresh_user(dc)
    c = imap(dc, user, select=select)
    return dc, user, c


def assert_usable(c):
    untagged, tagged = c.command("NOOP")
    assert " OK " in tagged, tagged


@pytest.mark.parametrize("word", ["DONE", "done", "DoNe", "dONE"])
def test_done_any_case_ends_idle_with_ok(plugin, word, shared_dovecot,
                                         fresh_user, imap):
    dc, user, c = start(shared_dovecot, fresh_user, imap, plugin)
    tag, _ = c.idle()
    c.send(word + "\r\n")
    untagged, tagged = wait_tagged(c, tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert_usable(c)


def test_done_with_bare_lf(plugin, shared_dovecot, fresh_user, imap):
    dc, user, c = start(shared_dovecot, fresh_user, imap, plugin)
    tag, _ = c.idle()
    c.send("DONE\n")
    untagged, tagged = wait_tagged(c, tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert_usable(c)


def test_done_split_over_packets(plugin, shared_dovecot, fresh_user, imap):
    dc, user, c = start(shared_dovecot, fresh_user, imap, plugin)
    tag, _ = c.idle()
    for part in ("D", "ON", "E\r"):
        c.send(part)
        assert c.try_read_line(0.15) is None
    c.send("\n")
    untagged, tagged = wait_tagged(c, tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert_usable(c)


@pytest.mark.parametrize("line", ["DONE ", " DONE", "FOO", "",
                                  "a9 NOOP", "DONEX", "DONE DONE"],
                         ids=["trailing-space", "leading-space", "FOO",
                              "empty", "command", "DONEX", "DONE-DONE"])
def test_other_line_is_bad_and_connection_stays_usable(
        plugin, line, shared_dovecot, fresh_user, imap):
    dc, user, c = start(shared_dovecot, fresh_user, imap, plugin)
    tag, _ = c.idle()
    c.send(line + "\r\n")
    untagged, tagged = wait_tagged(c, tag)
    assert re.match(re.escape(tag) + r" BAD [A-Za-z][^\r\n]{4,}", tagged), \
        tagged
    assert "DONE" in tagged, "the BAD should say what was expected: %r" % (
        tagged,)
    # the bad line was consumed: the next command is answered normally
    assert_usable(c)
    # and IDLE works again
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 1)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_overlong_line_is_bad_and_next_command_works(plugin, shared_dovecot,
                                                     fresh_user, imap):
    dc, user, c = start(shared_dovecot, fresh_user, imap, plugin)
    tag, _ = c.idle()
    c.send("X" * 70000 + "\r\n")
    untagged, tagged = wait_tagged(c, tag)
    assert tagged.startswith(tag + " BAD "), tagged
    untagged, tagged = c.command("NOOP")
    assert " OK " in tagged, tagged
    untagged, tagged = c.command("SELECT INBOX")
    assert " OK " in tagged, tagged


def test_pipelined_idle_done_noop(plugin, shared_dovecot, fresh_user, imap):
    dc, user, c = start(shared_dovecot, fresh_user, imap, plugin)
    c.send("p1 IDLE\r\nDONE\r\np2 NOOP\r\n")
    lines = wait_for(c, lambda l: l.startswith("p2 "), what="p2's reply")
    tagged = [l for l in lines if l[:1] in ("+", "p")]
    assert tagged[0] == "+ idling", lines
    assert tagged[1].startswith("p1 OK"), lines
    assert tagged[2].startswith("p2 OK"), lines
    assert len(tagged) == 3, lines
    assert_usable(c)


def test_pipelined_select_idle_done_noop_in_one_packet(
        plugin, shared_dovecot, fresh_user, imap):
    dc, user, c = start(shared_dovecot, fresh_user, imap, plugin,
                        select=None)
    dc.deliver_lmtp(user, make_message())
    c.send("p1 SELECT INBOX\r\np2 IDLE\r\nDONE\r\np3 NOOP\r\n")
    lines = wait_for(c, lambda l: l.startswith("p3 "), what="p3's reply")
    order = [l for l in lines if l[:1] in ("+", "p")]
    assert order[0].startswith("p1 OK"), lines
    assert order[1] == "+ idling", lines
    assert order[2].startswith("p2 OK"), lines
    assert order[3].startswith("p3 OK"), lines
    assert "* 1 EXISTS" in lines[:lines.index(order[0])], lines


def test_pipelined_without_selected_mailbox(plugin, shared_dovecot,
                                            fresh_user, imap):
    dc, user, c = start(shared_dovecot, fresh_user, imap, plugin,
                        select=None)
    c.send("p1 IDLE\r\ndone\r\np2 NOOP\r\n")
    lines = wait_for(c, lambda l: l.startswith("p2 "), what="p2's reply")
    assert lines == ["+ idling"] + lines[1:], lines
    assert lines[1].startswith("p1 OK"), lines
    assert lines[2].startswith("p2 OK"), lines


def test_pipelined_idle_bad_line_noop(plugin, shared_dovecot, fresh_user,
                                      imap):
    dc, user, c = start(shared_dovecot, fresh_user, imap, plugin)
    c.send("p1 IDLE\r\nFOO\r\np2 NOOP\r\n")
    lines = wait_for(c, lambda l: l.startswith("p2 "), what="p2's reply")
    order = [l for l in lines if l[:1] in ("+", "p", "F")]
    assert order[0] == "+ idling", lines
    assert order[1].startswith("p1 BAD"), lines
    assert order[2].startswith("p2 OK"), lines
    assert len(order) == 3, lines


def test_pipelined_done_copy_noop(plugin, shared_dovecot, fresh_user, imap):
    """IDLE ended by a DONE that shares its packet with a COPY (the case
    of Dovecot's uncork assert fix 60d431a0cc) and more commands."""
    dc = shared_dovecot(plugin=plugin)
    user = fresh_user(dc)
    doveadm_save(dc, user, count=2)
    c = imap(dc, user, select=None)
    c.command("CREATE Folder")
    c.select("INBOX")
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 3)
    c.send("DONE\r\np2 COPY 1:3 Folder\r\np3 NOOP\r\n")
    lines = wait_for(c, lambda l: l.startswith("p3 "), what="p3's reply")
    order = [l for l in lines if l.startswith((tag + " ", "p"))]
    assert order[0].startswith(tag + " OK"), lines
    assert order[1].startswith("p2 OK"), lines
    assert order[2].startswith("p3 OK"), lines
    untagged, _ = c.command("STATUS Folder (MESSAGES)")
    assert any("MESSAGES 3" in l for l in untagged), untagged


def test_done_and_next_idle_in_one_packet(plugin, shared_dovecot, fresh_user,
                                          imap):
    dc = shared_dovecot(plugin=plugin)
    user = fresh_user(dc)
    c = imap(dc, user)
    tag, _ = c.idle()
    c.send("DONE\r\np2 IDLE\r\n")
    lines = wait_for(c, lambda l: l.startswith("+"), what="'+ idling'")
    assert lines[-2].startswith(tag + " OK"), lines
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 1)
    untagged, tagged = c.done("p2")
    assert tagged.startswith("p2 OK"), tagged

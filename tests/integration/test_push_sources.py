# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Every way a selected mailbox can change reaches an idling client
(RFC2177-3, RFC9051-9, RFC7162-11/12): deliveries by LMTP and dovecot-lda
(EXISTS + RECENT), changes made between SELECT and IDLE, flag changes and
expunges by another IMAP session and by doveadm (FETCH FLAGS, EXPUNGE), the
CONDSTORE MODSEQ in those FETCHes, QRESYNC's VANISHED and HIGHESTMODSEQ, and
a burst of deliveries ending at the exact count with nothing left for a
later NOOP.  For maildir, sdbox and mdbox."""

import re

import pytest

from idle_helpers import (make_message, wait_exists, wait_for, wait_all,
                          exists_counts, exists_count, doveadm_save,
                          LmtpClient, collect)

FORMATS = ["maildir", "sdbox", "mdbox"]
pytestmark = pytest.mark.parametrize("mail_format", FORMATS)


@pytest.fixture
def setup(mail_format, shared_dovecot, fresh_user, imap):
    def make(messages=0, select="INBOX", enable=None):
        dc = shared_dovecot(plugin=True, mail_format=mail_format)
        user = fresh_user(dc)
        if messages:
            doveadm_save(dc, user, count=messages)
        c = imap(dc, user, select=None)
        if enable:
            c.command("ENABLE %s" % enable)
        sel = c.select(select)[0] if select else None
        return dc, user, c, sel
    return make


def highestmodseq(lines):
    for l in lines:
        m = re.search(r"\[HIGHESTMODSEQ (\d+)\]", l)
        if m:
            return int(m.group(1))
    return None


def test_lmtp_delivery_gives_exists_and_recent(setup):
    dc, user, c, _ = setup()
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message())
    # \Recent is claimed by a storage sync, under the maildir uidlist lock
    # or the dbox log lock, which an idling session leaves to DONE (README,
    # "What the plugin does")
    wait_exists(c, 1)
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, 2)
    untagged, tagged = c.done(tag)
    assert "* 2 RECENT" in untagged, untagged
    assert tagged.startswith(tag + " OK"), tagged


def test_lda_delivery_gives_exists(setup):
    dc, user, c, _ = setup(messages=1)
    tag, _ = c.idle()
    dc.deliver_lda(user, make_message(subject="by lda"))
    wait_exists(c, 2)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    untagged, _ = c.command("FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert any("by lda" in l for l in untagged), untagged


def test_changes_between_select_and_idle_are_reported(setup):
    dc, user, c, _ = setup(messages=2)
    # while the client is selected but not idling
    dc.deliver_lmtp(user, make_message())
    dc.deliver_lmtp(user, make_message())
    dc.doveadm("flags", "add", "-u", user, "\\Flagged", "mailbox", "INBOX",
               "uid", "1")
    tag, before = c.idle()
    lines = before + wait_all(c, ["* 4 EXISTS"])
    assert any(l.startswith("* 1 FETCH") and "\\Flagged" in l
               for l in lines + collect(c, 0.3)), lines
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_flag_change_by_other_session(setup, imap):
    dc, user, c, _ = setup(messages=2)
    tag, _ = c.idle()
    other = imap(dc, user)
    other.command("STORE 2 +FLAGS.SILENT (\\Seen \\Flagged)")
    lines = wait_for(c, lambda l: l.startswith("* 2 FETCH"),
                     what="* 2 FETCH")
    assert re.match(r"\* 2 FETCH \(FLAGS \(.*\)\)$", lines[-1]), lines
    assert "\\Seen" in lines[-1] and "\\Flagged" in lines[-1], lines
    assert "MODSEQ" not in lines[-1], "CONDSTORE is not enabled: %r" % lines
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_flag_change_with_condstore_has_modseq(setup, imap):
    dc, user, c, sel = setup(messages=2, enable="CONDSTORE")
    before = highestmodseq(sel)
    assert before is not None, sel
    tag, _ = c.idle()
    other = imap(dc, user)
    other.command("STORE 1 +FLAGS.SILENT (\\Answered)")
    lines = wait_for(c, lambda l: l.startswith("* 1 FETCH"),
                     what="* 1 FETCH")
    m = re.match(r"\* 1 FETCH \(.*MODSEQ \((\d+)\).*FLAGS \(([^)]*)\)",
                 lines[-1])
    assert m, lines
    assert int(m.group(1)) > before, (before, lines)
    assert "\\Answered" in m.group(2), lines
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_flag_change_by_doveadm(setup):
    dc, user, c, _ = setup(messages=3)
    tag, _ = c.idle()
    dc.doveadm("flags", "add", "-u", user, "\\Deleted", "mailbox", "INBOX",
               "uid", "3")
    lines = wait_for(c, lambda l: l.startswith("* 3 FETCH"),
                     what="* 3 FETCH")
    assert "\\Deleted" in lines[-1], lines
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_expunge_by_other_session(setup, imap):
    dc, user, c, _ = setup(messages=3)
    tag, _ = c.idle()
    other = imap(dc, user)
    other.command("STORE 2 +FLAGS.SILENT (\\Deleted)")
    other.command("EXPUNGE")
    wait_for(c, lambda l: l == "* 2 EXPUNGE", what="* 2 EXPUNGE")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    untagged, _ = c.command("SEARCH ALL")
    assert "* SEARCH 1 2" in untagged, untagged


def test_expunge_by_doveadm(setup):
    dc, user, c, _ = setup(messages=3)
    tag, _ = c.idle()
    dc.doveadm("expunge", "-u", user, "mailbox", "INBOX", "uid", "1")
    wait_for(c, lambda l: l == "* 1 EXPUNGE", what="* 1 EXPUNGE")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_qresync_vanished_and_highestmodseq(setup, imap):
    dc, user, c, sel = setup(messages=3, enable="QRESYNC")
    before = highestmodseq(sel)
    assert before is not None, sel
    tag, _ = c.idle()
    other = imap(dc, user)
    other.command("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    other.command("EXPUNGE")
    lines = wait_for(c, lambda l: l.startswith("* OK [HIGHESTMODSEQ"),
                     what="* OK [HIGHESTMODSEQ n]")
    assert "* VANISHED 2" in lines, lines
    assert not any(l.endswith(" EXPUNGE") for l in lines), lines
    assert lines.index("* VANISHED 2") < len(lines) - 1, lines
    assert highestmodseq(lines[-1:]) > before, (before, lines)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_burst_of_30_deliveries_ends_at_exact_count(setup):
    dc, user, c, _ = setup()
    tag, _ = c.idle()
    lmtp = LmtpClient(dc.host, dc.lmtp_port)
    try:
        for i in range(30):
            dc.deliver_lmtp(user, make_message(subject="burst %d" % i),
                            lmtp=lmtp)
    finally:
        lmtp.close()
    lines = wait_exists(c, 30, timeout=20)
    # a little longer, to see anything that should not come
    lines += collect(c, 0.5)
    counts = exists_counts(lines)
    assert counts[-1] == 30, counts
    assert counts == sorted(counts) and max(counts) == 30, counts
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert not exists_counts(untagged), untagged
    # nothing was missed: a NOOP has nothing more to report
    untagged, tagged = c.command("NOOP")
    assert [l for l in untagged if exists_count(l) is not None or
            l.endswith("EXPUNGE")] == [], untagged
    untagged, _ = c.command("STATUS INBOX (MESSAGES)")
    assert any("MESSAGES 30" in l for l in untagged), untagged

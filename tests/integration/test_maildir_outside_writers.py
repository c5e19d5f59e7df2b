# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Maildir written by something other than Dovecot reaches an idling
client: a file an external MDA renames into new/ (EXISTS), and a file
renamed in cur/ to change its flags (FETCH FLAGS).  The plugin leaves
Dovecot's own deliveries in new/ while idling (they are in the index
already) and looks for files no Dovecot writer recorded instead; these
tests are what keeps that check honest.  Also: deliveries left in new/
during IDLE are all there, exactly once, after DONE; and clients of one
imap process idling on the same maildir all hear of an outside writer,
also after one of them stopped idling (Dovecot's watches of a path share
one kernel watch, which the first stop removes: stock Dovecot then tells
the others 30 s late)."""

import os
import re
import time

import pytest

from idle_helpers import (make_message, wait_exists, wait_for, exists_counts,
                          doveadm_save, imap_pids, LmtpClient, collect,
                          register_profile, external_delivery,
                          hold_uidlist_lock)

register_profile("nodonesync",
                 extra_conf="log_debug = category=imap-idle\n",
                 settings={"imap_idle_done_sync": "no"})



@pytest.fixture
def maildir_idler(shared_dovecot, fresh_user, imap):
    def make(messages=0):
        dc = shared_dovecot(plugin=True, mail_format="maildir")
        user = fresh_user(dc)
        if messages:
            doveadm_save(dc, user, count=messages)
        c = imap(dc, user, select="INBOX")
        box = os.path.join(dc.mail_home(user), "Maildir")
        return dc, user, c, box
    return make


def test_external_mda_into_new_gives_exists(maildir_idler):
    dc, user, c, box = maildir_idler(messages=1)
    tag, _ = c.idle()
    # a Dovecot delivery first, so new/ already holds a file Dovecot knows
    dc.deliver_lmtp(user, make_message(subject="by lmtp"))
    wait_exists(c, 2)
    external_delivery(dc, box, "from outside")
    wait_exists(c, 3)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    lines = c.command("FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    subjects = [l for l in lines[0] if "Subject:" in l]
    assert any("from outside" in l for l in subjects), lines


def test_external_flag_rename_in_cur_gives_fetch(maildir_idler):
    dc, user, c, box = maildir_idler(messages=2)
    c.command("NOOP")   # SELECT moved the saved mail into cur/ already
    cur = os.path.join(box, "cur")
    names = sorted(os.listdir(cur))
    assert len(names) == 2, names
    tag, _ = c.idle()
    old = names[1]
    base = old.split(":", 1)[0]
    os.rename(os.path.join(cur, old), os.path.join(cur, base + ":2,F"))
    lines = wait_for(c, lambda l: re.match(r"\* \d FETCH \(FLAGS \(.*"
                                           r"\\Flagged", l) is not None,
                     what="FETCH with \\Flagged")
    assert lines[-1].startswith("* "), lines
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_deliveries_left_in_new_are_all_there_after_done(maildir_idler,
                                                         imap):
    dc, user, c, box = maildir_idler()
    tag, _ = c.idle()
    for i in range(5):
        dc.deliver_lmtp(user, make_message(subject="left %d" % i))
        wait_exists(c, i + 1)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    # DONE's sync is a full one: nothing is left in new/ for later
    assert os.listdir(os.path.join(box, "new")) == []
    other = imap(dc, user, select=None)
    status = other.command("STATUS INBOX (MESSAGES)")[0]
    assert any("MESSAGES 5" in l for l in status), status
    lines, tagged = c.command("NOOP")
    assert exists_counts(lines) == [], lines


@pytest.fixture
def one_process_idlers(dovecot, imap):
    """Three clients of one user in one imap process, all idling on a
    maildir INBOX that holds one message."""
    user = "one"
    dc = dovecot(plugin=True, mail_format="maildir", users=[user],
                 extra_conf="log_debug = category=imap-idle\n",
                 service_imap="  client_limit = 10\n  service_count = 0\n"
                              "  process_limit = 1\n")
    doveadm_save(dc, user, count=1)
    clients = [imap(dc, user, select="INBOX") for _ in range(3)]
    assert len(imap_pids(dc)) == 1, imap_pids(dc)
    tags = [c.idle()[0] for c in clients]
    return dc, os.path.join(dc.mail_home(user), "Maildir"), clients, tags


def all_see_exists_then_done(clients, tags, n):
    for c in clients:
        wait_exists(c, n)
    for c, tag in zip(clients, tags):
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), tagged


def outside_delivery_reaches(dc, box, clients, tags):
    external_delivery(dc, box, "from outside")
    all_see_exists_then_done(clients, tags, 2)


def test_outside_writer_reaches_every_client_of_one_process(
        one_process_idlers):
    dc, box, clients, tags = one_process_idlers
    outside_delivery_reaches(dc, box, clients, tags)


def test_outside_writer_after_a_neighbour_stopped_idling(one_process_idlers):
    dc, box, clients, tags = one_process_idlers
    # the newest idler leaves: Dovecot's watches of new/ in this process
    # share one kernel watch, which its stop removes
    clients[2].done(tags[2])
    time.sleep(1.5)     # past whatever the removal itself set off
    outside_delivery_reaches(dc, box, clients[:2], tags[:2])


def test_outside_writers_while_polling(dovecot, imap):
    """Polling (imap_idle_force_poll) remembers directories it found clean;
    a later drop into new/ and a later rename in cur/ are still seen."""
    user = "poller"
    dc = dovecot(plugin=True, mail_format="maildir", users=[user],
                 extra_conf="log_debug = category=imap-idle\n",
                 settings={"imap_idle_poll_interval": "200ms",
                           "imap_idle_force_poll": "yes"})
    doveadm_save(dc, user, count=1)
    c = imap(dc, user, select="INBOX")
    c.command("NOOP")
    tag, _ = c.idle()
    time.sleep(2.5)     # several polls over directories older than 1 s
    box = os.path.join(dc.mail_home(user), "Maildir")
    external_delivery(dc, box, "from outside")
    wait_exists(c, 2, timeout=5.0)
    time.sleep(2.5)
    cur = os.path.join(box, "cur")
    name = sorted(os.listdir(cur))[0]
    os.rename(os.path.join(cur, name),
              os.path.join(cur, name.split(":", 1)[0] + ":2,S"))
    wait_for(c, lambda l: re.match(r"\* 1 FETCH \(FLAGS \(.*\\Seen", l)
             is not None, timeout=5.0, what="* 1 FETCH with \\Seen")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def flag_stream(client, seconds, rate=40, during=None):
    """Another session flips \\Flagged on message 1 about rate times a
    second for seconds; during() runs halfway through."""
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < seconds:
        if during is not None and time.monotonic() - start >= seconds / 2:
            during()
            during = None
        lines, tagged = client.command("STORE 1 %sFLAGS.SILENT (\\Flagged)"
                                       % ("+-"[i % 2]))
        assert " OK" in tagged, tagged
        i += 1
        time.sleep(1.0 / rate)


def test_outside_writer_during_a_flag_stream(maildir_idler, imap):
    """Past its first 50 ms a stream of flag changes is synced a few times
    a second, and in between the idler listens to nothing, Dovecot's own
    watch of new/ included; a file dropped into new/ then must still be
    reported.  (The storer's own syncs index it, so this guards the muted
    idler's path, not its check of new/: see the delivery burst below.)"""
    dc, user, c, box = maildir_idler(messages=2)
    c.command("NOOP")
    tag, _ = c.idle()
    storer = imap(dc, user, select="INBOX")
    flag_stream(storer, 1.5,
                during=lambda: external_delivery(dc, box, "from outside"))
    wait_exists(c, 3)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_outside_writer_during_a_delivery_burst(maildir_idler):
    """A burst of deliveries is reported a few dozen at a time, and the
    idler listens to nothing between those syncs; LMTP's saves never look
    for unlisted files in new/, so a file dropped there mid-burst is found
    only by the idler's own check of new/."""
    dc, user, c, box = maildir_idler(messages=1)
    c.command("NOOP")
    tag, _ = c.idle()
    lmtp = LmtpClient(dc.host, dc.lmtp_port)
    try:
        for i in range(30):
            if i == 15:
                external_delivery(dc, box, "from outside")
            dc.deliver_lmtp(user, make_message(subject="burst %d" % i),
                            lmtp=lmtp)
    finally:
        lmtp.close()
    wait_exists(c, 32)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    lines, tagged = c.command("NOOP")
    assert exists_counts(lines) == [], lines


def test_outside_writer_during_a_flag_stream_in_one_process(
        one_process_idlers):
    """The same with three idlers in one process: they stop listening
    each on its own, and Dovecot's watch of new/, shared by them, stays."""
    dc, box, clients, tags = one_process_idlers
    storer = clients[2]
    untagged, tagged = storer.done(tags[2])
    assert tagged.startswith(tags[2] + " OK"), tagged
    flag_stream(storer, 1.5,
                during=lambda: external_delivery(dc, box, "from outside"))
    all_see_exists_then_done(clients[:2], tags[:2], 2)


# -- a writer inside its commit ------------------------------------------------
WRITER_WAIT_SECS = 10
# what is left of the writer wait when the fixture returns, with room
WITHIN_WRITER_WAIT = WRITER_WAIT_SECS - 4


@pytest.fixture
def idler_behind_a_writer(dovecot, imap):
    """An idling client whose maildir's uidlist lock a 'writer' (this test)
    holds, with a change waiting behind it: a file dropped into new/, which
    only a sync after the lock's release may look for.  The writer wait
    (10 s, the longest) is longer than the test waits, so the release has
    to be heard."""
    user = "locked"
    dc = dovecot(plugin=True, mail_format="maildir", users=[user],
                 settings={"imap_idle_writer_wait":
                           "%ds" % WRITER_WAIT_SECS})
    doveadm_save(dc, user, count=1)
    c = imap(dc, user, select="INBOX")
    box = os.path.join(dc.mail_home(user), "Maildir")
    tag, _ = c.idle()
    lock = hold_uidlist_lock(dc, box)
    time.sleep(0.3)
    external_delivery(dc, box, "behind the lock")
    # Dovecot's own watch reports new/ 500 ms late; the idler waits
    lines = collect(c, 1.0)
    assert exists_counts(lines) == [], lines
    yield c, tag, box, lock
    # waiting on a lock, and a lock renamed away, are no errors
    errors = [l for l in dc.log_text().splitlines() if "Error:" in l]
    assert errors == [], errors


def test_writer_lock_release_is_heard(idler_behind_a_writer):
    """The idler waits for the writer's release, not for its writer wait
    to run out."""
    c, tag, box, lock = idler_behind_a_writer
    os.unlink(lock)
    wait_exists(c, 2, timeout=WITHIN_WRITER_WAIT)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_writer_lock_renamed_over_the_uidlist_is_heard(idler_behind_a_writer):
    """A uidlist rewrite writes the new uidlist into the lock and renames
    the lock over the old one: no unlink ends that commit."""
    c, tag, box, lock = idler_behind_a_writer
    uidlist = os.path.join(box, "dovecot-uidlist")
    with open(uidlist, "rb") as f:
        content = f.read()
    with open(lock, "wb") as f:
        f.write(content)
    time.sleep(0.3)
    os.rename(lock, uidlist)
    wait_exists(c, 2, timeout=WITHIN_WRITER_WAIT)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


# -- an idle that ends without a final sync -------------------------------------
@pytest.mark.parametrize("profile", ["nodonesync", "slow-nodonesync"])
def test_outside_writer_at_done_reaches_the_next_fast_sync(
        profile, shared_dovecot, fresh_user, imap):
    """imap_idle_done_sync = no: a file dropped into new/ just before DONE
    is reported by the next command even when that command's sync is a
    FAST one (FETCH), which checks the storage only if the last check is
    5 s old: the idle's own index-only syncs must not count as checks,
    and a change only the storage shows makes the next sync check it.
    With the 10 s notify delay the delivery before it is not reported
    during the idle either."""
    dc = shared_dovecot(plugin=True, mail_format="maildir", profile=profile)
    user = fresh_user(dc)
    doveadm_save(dc, user, count=1)
    c = imap(dc, user, select="INBOX")
    c.command("NOOP")
    box = os.path.join(dc.mail_home(user), "Maildir")
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message(subject="by lmtp"))
    seen = []
    if profile == "nodonesync":
        # reported by an index-only sync, which claims a storage check
        seen += exists_counts(wait_exists(c, 2))
    external_delivery(dc, box, "from outside")
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    seen += exists_counts(untagged)
    lines, tagged = c.command("FETCH 1 (FLAGS)")
    assert " OK" in tagged, tagged
    seen += exists_counts(lines)
    assert seen and seen[-1] == 3, (seen, untagged, lines)

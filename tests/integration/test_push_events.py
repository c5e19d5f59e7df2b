# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The imap_idle_push event says what made each push due, which makes the
plugin's promise testable without a clock: a delivery's EXISTS is pushed
by the plugin's own watch of the index and control directories, not by
Dovecot's watch (which comes 0.5 s late) or a poll.  A regression to
Dovecot's watch still delivers every EXISTS, so only the source tells.

The events are read from the debug log (log_debug = category=imap-idle)
and, through a metric {} block like README's, from Dovecot's stats
process with doveadm stats dump."""

import os
import re
import time

import pytest

import idle_helpers as h
from idle_helpers import make_message, wait_exists
from dovecot_instance import DOVECOT_24

PUSH_RE = re.compile(
    r"imap\((?P<user>[^)]*)\)<(?P<pid>\d+)>.*imap-idle: Pushed changes from "
    r"(?P<source>\w+): (?P<before>\d+) -> (?P<after>\d+) messages "
    r"\((?P<new>\d+) new, (?P<expunged>\d+) expunged\)")


def pushes(dc, user, since=0):
    """The push lines of user logged after log offset since, parsed."""
    out = []
    for line in dc.log_text()[since:].splitlines():
        m = PUSH_RE.search(line)
        if m and m.group("user") == user:
            out.append(m.groupdict())
    return out


def wait_pushes(dc, user, since, count, timeout=h.T_EVENT):
    """The first count push lines of user (the log process writes them
    asynchronously); fails with the log when they don't come."""
    deadline = time.monotonic() + timeout
    while True:
        found = pushes(dc, user, since)
        if len(found) >= count:
            return found[:count]
        if time.monotonic() > deadline:
            raise AssertionError("%d push lines of %s expected, got %r:\n%s"
                                 % (count, user, found,
                                    dc.log_text()[since:]))
        time.sleep(0.02)


def deliver(dc, user, how, subject):
    if how == "lmtp":
        dc.deliver_lmtp(user, make_message(subject=subject))
    else:
        dc.deliver_lda(user, make_message(subject=subject))


@pytest.mark.parametrize("how", ["lmtp", "lda"])
@pytest.mark.parametrize("mail_format", ["maildir", "sdbox", "mdbox"])
def test_delivery_is_pushed_by_the_plugins_watch(mail_format, how,
                                                  shared_dovecot,
                                                  fresh_user, imap):
    dc = shared_dovecot(mail_format=mail_format)
    user = fresh_user(dc)
    since = len(dc.log_text())
    c = imap(dc, user)
    tag, _ = c.idle()
    deliver(dc, user, how, "the promise")
    wait_exists(c, 1)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    push = wait_pushes(dc, user, since, 1)[0]
    assert (push["before"], push["after"], push["new"]) == ("0", "1", "1"), \
        push
    assert push["source"] == "watch", (
        "the delivery's EXISTS was pushed from %s, not from the plugin's "
        "own watch: %r" % (push["source"], push))


def test_changes_before_idle_are_pushed_from_its_start(shared_dovecot,
                                                       fresh_user, imap):
    dc = shared_dovecot()
    user = fresh_user(dc)
    since = len(dc.log_text())
    c = imap(dc, user)
    dc.deliver_lmtp(user, make_message())
    tag, before = c.idle()
    lines = before + wait_exists(c, 1)
    assert "* 1 EXISTS" in lines, lines
    c.done(tag)
    push = wait_pushes(dc, user, since, 1)[0]
    assert push["source"] == "start", push


def session_lines(dc, pid, since=0):
    """The plugin's log lines written by imap process pid."""
    return [l for l in dc.log_text()[since:].splitlines()
            if "imap-idle:" in l and h.line_pid(l) == pid]


def test_push_lines_name_their_user_in_a_shared_process(dovecot, imap):
    """One imap process serves both users.  Dovecot's inotify io, shared
    by the process, was made under the first user's ioloop context; the
    second user's push must still be logged as theirs, with their
    session."""
    dc = dovecot(users=["first", "second"],
                 extra_conf="log_debug = category=imap-idle\n",
                 service_imap="  client_limit = 10\n"
                              "  service_count = 0\n"
                              "  process_limit = 1\n")
    first = imap(dc, "first")
    first_pid = h.session_pid(dc, "first")
    first_tag, _ = first.idle()
    second = imap(dc, "second")
    second_pid = h.session_pid(dc, "second")
    assert first_pid == second_pid
    second_tag, _ = second.idle()
    for n in (1, 2):
        dc.deliver_lmtp("second", make_message(subject="to second %d" % n))
        wait_exists(second, n)
    for c, tag in ((first, first_tag), (second, second_tag)):
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), tagged
    found = wait_pushes(dc, "second", 0, 2)
    assert [p["source"] for p in found] == ["watch", "watch"], found
    assert pushes(dc, "first") == [], dc.log_text()
    # every line of the plugin names its user and session
    h.wait_log(dc, "IDLE finished", count=2)
    lines = session_lines(dc, second_pid)
    unnamed = [l for l in lines
               if not re.search(r"imap\((first|second)\)<\d+><[^>]+>: ", l)]
    assert lines and not unnamed, unnamed


# README's example, in each version's syntax
METRICS_23 = """\
metric imap_idle_push {
  filter = event=imap_idle_push
  fields = latency_usecs new_messages expunged_messages
  group_by = source
}
metric imap_idle_push_latency {
  filter = event=imap_idle_push
  group_by = latency_usecs:exponential:1:7:10
}
metric imap_idle_poll_fallback {
  filter = event=imap_idle_poll_fallback
}
"""
METRICS_24 = """\
metric imap_idle_push {
  filter = event=imap_idle_push
  fields = latency_usecs new_messages expunged_messages
  group_by source {
  }
}
metric imap_idle_push_latency {
  filter = event=imap_idle_push
  group_by latency_usecs {
    method exponential {
      exponential_min_magnitude = 1
      exponential_max_magnitude = 7
      exponential_base = 10
    }
  }
}
metric imap_idle_poll_fallback {
  filter = event=imap_idle_poll_fallback
}
"""
# 2.4 sets the mail location with separate fields
IN_MEMORY = ("userdb_mail_driver=maildir userdb_mail_path=~/Maildir "
             "userdb_mail_index_path=MEMORY" if DOVECOT_24 else
             "userdb_mail=maildir:~/Maildir:INDEX=MEMORY")


def stats_dump(dc):
    """{metric name: {field: {column: number}}} from doveadm stats dump,
    read from the test Dovecot's own stats process (base_dir)."""
    out = dc.doveadm("stats", "dump", "-s",
                     os.path.join(dc.tmp, "base", "stats-reader"))
    rows = [l.split("\t") for l in out.splitlines() if l]
    header = rows[0]
    assert header[:3] == ["metric_name", "field", "count"], header
    metrics = {}
    for row in rows[1:]:
        values = {k: float(v) for k, v in zip(header[2:], row[2:])}
        metrics.setdefault(row[0], {})[row[1]] = values
    return metrics


def metric_count(metrics, name):
    m = metrics.get(name)
    return 0 if m is None else int(m["duration"]["count"])


def idle_rounds(dc, imap, user, rounds):
    """rounds IDLEs with one delivery each."""
    c = imap(dc, user)
    for n in range(1, rounds + 1):
        tag, _ = c.idle()
        dc.deliver_lmtp(user, make_message(subject="round %d" % n))
        wait_exists(c, n)
        untagged, tagged = c.done(tag)
        assert tagged.startswith(tag + " OK"), tagged


def test_metrics_count_pushes_by_source(dovecot, imap):
    dc = dovecot(users=["watcher", "poller", "memory"],
                 extra_conf="log_debug = category=imap-idle\n" +
                 (METRICS_24 if DOVECOT_24 else METRICS_23),
                 settings={"imap_idle_poll_interval": "200ms"},
                 userdb_extra={
                     "poller": "userdb_plugin/imap_idle_force_poll=yes",
                     "memory": IN_MEMORY})
    idle_rounds(dc, imap, "watcher", 3)
    idle_rounds(dc, imap, "poller", 2)
    idle_rounds(dc, imap, "memory", 1)
    # the final syncs that wrote something are pushes too: \Recent,
    # claimed by the storage sync that an index-only idle leaves to DONE
    # (the watcher's 3, the poller's 2; the in-memory index's syncs are
    # full ones).  The debug log sees the same events.
    h.wait_log(dc, "IDLE finished", count=6)
    done = sum(1 for user in dc.users for p in pushes(dc, user)
               if p["source"] == "done")
    expected = {"watch": 3, "poll": 2, "dovecot": 1, "done": done}
    assert done == 5, dc.log_text()
    total = sum(expected.values())

    # the imap processes send their events to the stats process as they
    # happen; it counts them in its own time
    deadline = time.monotonic() + h.T_EVENT
    while True:
        metrics = stats_dump(dc)
        if metric_count(metrics, "imap_idle_push") >= total or \
                time.monotonic() > deadline:
            break
        time.sleep(0.05)
    by_source = {name[len("imap_idle_push_"):]: metric_count(metrics, name)
                 for name in metrics
                 if name.startswith("imap_idle_push_") and
                 not name.startswith("imap_idle_push_latency")}
    assert by_source == expected, (by_source, metrics)
    assert metric_count(metrics, "imap_idle_push") == total, metrics
    # one new message per delivery, by the source that pushed it
    for source in ("watch", "poll", "dovecot"):
        new = metrics["imap_idle_push_" + source]["new_messages"]["sum"]
        assert new == expected[source], (source, metrics)
    # the latency histogram has every push in some bucket
    buckets = [n for n in metrics
               if n.startswith("imap_idle_push_latency_latency_usecs_")]
    assert buckets, metrics
    assert sum(metric_count(metrics, n) for n in buckets) == total, metrics
    assert metric_count(metrics, "imap_idle_push_latency") == total
    # the poller's two IDLEs polled by choice
    assert metric_count(metrics, "imap_idle_poll_fallback") == 2, metrics

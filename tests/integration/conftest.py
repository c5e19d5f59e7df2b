# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Fixtures for the integration tests.

dovecot        factory: dovecot(**DovecotInstance kwargs) starts a Dovecot of
               its own for this test; stopped by pid after the test.
shared_dovecot factory: shared_dovecot(plugin=True, mail_format="maildir",
               profile="default") returns a Dovecot shared by all tests of
               the session with that configuration (PROFILES, or one a test
               module registers with register_profile()); use fresh_user()
               on it, or the users the profile names.
fresh_user     fresh_user(inst) -> a user name no other test used.
imap           factory: imap(inst, user, select="INBOX", login=True, ...)
               -> a logged-in ImapClient, closed after the test.

After every test: the Dovecot log written during the test must have no
"Panic", "Fatal" or "assert" line, and every imap process the test started
on a shared instance must have exited once its clients are closed.  When a
test fails, the Dovecot logs and IMAP transcripts are added to its
report.  Under `make check` a module whose tests passed but skipped one
reports SKIP (pytest_sessionfinish)."""

import os
import time

import pytest

import idle_helpers as h
from idle_helpers import DovecotInstance, ImapClient, TEST_MAIL_UID

SHARED_USERS = 150
PROFILES = h.PROFILES


def _item_used(item):
    if not hasattr(item, "_dc_used"):
        item._dc_used = []
        item._dc_clients = []
    return item


def _label(inst):
    return "%s plugin=%s %s" % (os.path.basename(inst.tmp or "?"),
                                inst.plugin, inst.mail_format)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed or rep.when not in ("setup", "call"):
        return
    for inst, since, label in getattr(item, "_dc_used", []):
        text = inst.log_text()[since:]
        if len(text) > 30000:
            text = "[... %d chars cut ...]\n%s" % (len(text) - 30000,
                                                  text[-30000:])
        rep.sections.append(("Dovecot log (%s)" % label, text or "(empty)"))
    for name, transcript in getattr(item, "_dc_clients", []):
        rep.sections.append(("IMAP transcript %s" % name,
                             "\n".join(transcript[-300:])))


def _stop_all(instances):
    """SIGTERM to every master at once, then wait; returns each one's
    complete log (read before the temp dir goes)."""
    logs = {}
    children = {}
    for inst in instances:
        if inst.proc is not None and inst.proc.poll() is None:
            children[inst] = [p for p in inst.descendant_pids()
                              if p != inst.master_pid]
            inst.request_stop()
    for inst in instances:
        try:
            if inst.proc is not None:
                inst.proc.wait(timeout=15)
        except Exception:
            pass        # inst.stop() below kills what is left
        inst.wait_processes_gone(children.get(inst, []))
        logs[inst] = inst.log_text()
        inst.stop()
    return logs


def _check_runtime(found, label):
    """Sanitizer/valgrind reports with a plugin frame (make
    check-sanitizers, make check-valgrind; none otherwise)."""
    return h.runtime_checks.format_findings(found, label) if found else None


def _check_log(text, label, stopping_at=None):
    bad = h.bad_log_lines(text, stopping_at)
    if bad:
        return "Dovecot log of %s has %d Panic/Fatal/assert lines:\n%s" % (
            label, len(bad), "\n".join(bad[:20]))
    return None


@pytest.fixture
def dovecot(request):
    item = _item_used(request.node)
    started = []

    def make(**kw):
        kw.setdefault("mail_uid", TEST_MAIL_UID)
        inst = DovecotInstance(**kw)
        started.append(inst)
        item._dc_used.append((inst, 0, _label(inst)))
        return inst

    yield make
    labels = {inst: _label(inst) for inst in started}
    logs = _stop_all(started)
    problems = [p for p in (_check_log(logs[i], labels[i], i.stopping_at)
                            for i in started) if p]
    problems += [p for p in (_check_runtime(i.runtime_findings, labels[i])
                             for i in started) if p]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


class _SharedPool:
    def __init__(self):
        self.instances = {}
        self.next_user = {}

    def get(self, plugin, mail_format, profile):
        key = (plugin, mail_format, profile)
        inst = self.instances.get(key)
        if inst is None:
            kw = dict(PROFILES[profile])
            # a profile may name its users (with userdb fields); the
            # others get u1..uN for fresh_user()
            kw.setdefault("users", ["u%d" % i for i in
                                    range(1, SHARED_USERS + 1)])
            inst = DovecotInstance(plugin=plugin, mail_format=mail_format,
                                   mail_uid=TEST_MAIL_UID, **kw)
            self.instances[key] = inst
            self.next_user[inst] = 1
        return inst

    def user(self, inst):
        n = self.next_user[inst]
        if n > SHARED_USERS:
            raise RuntimeError("shared instance ran out of users; raise "
                               "SHARED_USERS")
        self.next_user[inst] = n + 1
        return "u%d" % n


@pytest.fixture(scope="session")
def _shared_pool():
    pool = _SharedPool()
    yield pool
    insts = list(pool.instances.values())
    labels = {inst: _label(inst) for inst in insts}
    logs = _stop_all(insts)
    problems = [p for p in (_check_log(logs[i], labels[i], i.stopping_at)
                            for i in insts) if p]
    problems += [p for p in (_check_runtime(i.runtime_findings, labels[i])
                             for i in insts) if p]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def shared_dovecot(request, _shared_pool):
    item = _item_used(request.node)
    used = {}

    def get(plugin=True, mail_format="maildir", profile="default"):
        inst = _shared_pool.get(plugin, mail_format, profile)
        if inst not in used:
            since = len(inst.log_text())
            used[inst] = (since, h.imap_pids(inst))
            item._dc_used.append((inst, since, _label(inst)))
        return inst

    yield get
    problems = []
    for inst, (since, pids_before) in used.items():
        # the test's clients are closed by now: its imap processes must
        # go away (and whatever they log on the way out is checked too)
        deadline = time.monotonic() + 10
        left = h.imap_pids(inst) - pids_before
        while left and time.monotonic() < deadline:
            time.sleep(0.02)
            left = {p for p in left if h.pid_alive(p)}
        time.sleep(0.05)
        if left:
            problems.append("imap processes %s of %s still run 10 s after "
                            "the test closed its connections"
                            % (sorted(left), _label(inst)))
        p = _check_log(inst.log_text()[since:], _label(inst))
        if p:
            problems.append(p)
        p = _check_runtime(inst.new_runtime_findings(), _label(inst))
        if p:
            problems.append(p)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def fresh_user(_shared_pool):
    return _shared_pool.user


@pytest.fixture
def imap(request, dovecot, shared_dovecot):
    """Set up after the Dovecot fixtures, so torn down before them: the
    connections are closed before the logs are checked."""
    item = _item_used(request.node)
    clients = []

    def connect(inst, user=None, select="INBOX", login=True, **kw):
        transcript = []
        start = time.monotonic()

        def record(text):
            transcript.append("%8.3f %s" % (time.monotonic() - start,
                                            text[:300]))
        kw.setdefault("timeout", h.T_REPLY)
        c = ImapClient(inst.host, inst.imap_port, transcript=record, **kw)
        clients.append(c)
        item._dc_clients.append(("%s#%d" % (user or "anon", len(clients)),
                                 transcript))
        if login:
            c.login(user or inst.users[0], inst.password)
            if select is not None:
                c.select(select)
        return c

    yield connect
    for c in clients:
        c.close()


def pytest_sessionfinish(session, exitstatus):
    """Under automake (tests/integration/run-module), a session that passed
    but skipped a test exits with IMAP_IDLE_SKIP_EXIT (77, automake's SKIP),
    so a skip is never counted as a pass; -rs has printed the reasons."""
    skip_exit = os.environ.get("IMAP_IDLE_SKIP_EXIT")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if skip_exit and exitstatus == 0 and reporter is not None and \
            reporter.stats.get("skipped"):
        session.exitstatus = int(skip_exit)

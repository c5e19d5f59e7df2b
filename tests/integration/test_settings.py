# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The plugin's settings (core/idle-settings.c): every imap_idle_* key is
read from plugin {} and can be overridden per user from userdb
(passwd-file extra field userdb_plugin/<key>=<value>); a bad value fails
only that user's login, with exactly one log line naming the setting, the
value and the accepted form; and the settings that can be observed from
outside do what they say (notify_delay, done_sync, force_poll; poll_interval
is in test_poll_fallback.py, yield_cpu in test_cpu_yield.py).

On Dovecot 2.4 the settings are declared to Dovecot: they stand at the top
level of dovecot.conf, userdb fields have no plugin/ prefix (the harness
drops it), doveconf lists them with their defaults, and a bad value in
dovecot.conf stops Dovecot from starting instead of failing logins.  Tests
whose outcome differs branch on DOVECOT_24 and say why."""

import os
import socket
import subprocess

import pytest

import idle_helpers as h
from dovecot_instance import DOVECOT_24, DovecotError
from idle_helpers import make_message, wait_exists, collect, exists_counts

DEBUG = "log_debug = category=imap-idle\n"
VALID = {
    "imap_idle_notify_delay": "0",
    "imap_idle_poll_interval": "2s",
    "imap_idle_done_sync": "yes",
    "imap_idle_writer_wait": "1s",
    "imap_idle_force_poll": "no",
    "imap_idle_yield_cpu": "yes",
}
BAD = {     # key -> (bad value, what the error must say is expected)
    "imap_idle_notify_delay": ("fast", "expected a time"),
    "imap_idle_poll_interval": ("often", "expected a time"),
    "imap_idle_done_sync": ("maybe", "expected yes or no"),
    "imap_idle_writer_wait": ("soon", "expected a time"),
    "imap_idle_force_poll": ("sometimes", "expected yes or no"),
    "imap_idle_yield_cpu": ("often", "expected yes or no"),
}
OUT_OF_RANGE = [
    ("imap_idle_notify_delay", "11s"),      # 0 .. 10s
    ("imap_idle_poll_interval", "50ms"),    # 100ms .. 1h
    ("imap_idle_writer_wait", "0"),         # 1ms .. 10s
    ("imap_idle_notify_delay", "5parsecs"),
]


def userdb(**fields):
    return " ".join("userdb_plugin/%s=%s" % kv for kv in fields.items())


def short(key):
    return key[len("imap_idle_"):]


# plugin {} has a bad value for every key; "fixed_all" overrides all of
# them from userdb, "miss_<key>" all but one.  Dovecot 2.4 refuses to start
# with a bad value in dovecot.conf (test_bad_value_in_config_stops_dovecot),
# so there the config has valid values other than VALID's.
OTHER = {
    "imap_idle_notify_delay": "10s",
    "imap_idle_poll_interval": "300ms",
    "imap_idle_done_sync": "no",
    "imap_idle_writer_wait": "5s",
    "imap_idle_force_poll": "yes",
    "imap_idle_yield_cpu": "no",
}
h.register_profile(
    "settings-bad-plugin", extra_conf=DEBUG,
    settings=OTHER if DOVECOT_24 else {k: v for k, (v, _) in BAD.items()},
    users=["fixed_all"] + ["miss_" + short(k) for k in BAD],
    userdb_extra=dict(
        [("fixed_all", userdb(**VALID))] +
        [("miss_" + short(k),
          userdb(**{o: v for o, v in VALID.items() if o != k}))
         for k in BAD]))

# plugin {} is fine; each "bad_<n>" user has one bad userdb override
USERDB_CASES = [(k, v) for k, (v, _) in BAD.items()] + OUT_OF_RANGE
h.register_profile(
    "settings-bad-userdb", extra_conf=DEBUG,
    users=["good"] + ["bad_%d" % i for i in range(len(USERDB_CASES))],
    userdb_extra={"bad_%d" % i: userdb(**{k: v})
                  for i, (k, v) in enumerate(USERDB_CASES)})

# observable settings in plugin {}, and users overriding one each
h.register_profile(
    "settings-behaviour", extra_conf=DEBUG,
    settings={"imap_idle_notify_delay": "10s",
              "imap_idle_writer_wait": "10s",
              "imap_idle_done_sync": "no",
              "imap_idle_force_poll": "yes",
              "imap_idle_poll_interval": "300ms"},
    users=["from_plugin", "override_delay", "override_done_sync",
           "override_force_poll"],
    userdb_extra={
        "override_delay": userdb(imap_idle_notify_delay="0",
                                 imap_idle_writer_wait="1s"),
        "override_done_sync": userdb(imap_idle_done_sync="yes"),
        "override_force_poll": userdb(imap_idle_force_poll="no"),
    })

# the delay alone, with writer_wait at its default
h.register_profile(
    "settings-delay-only", extra_conf=DEBUG,
    settings={"imap_idle_notify_delay": "10s"})


def login_refused(dc, user, imap):
    """True if user can't get a working session: LOGIN gets NO, or the
    server says BYE / hangs up at login or at the first command after a
    "Logged in, but initialization failed"."""
    c = imap(dc, user, login=False)
    try:
        untagged, tagged = c.command("LOGIN %s %s" % (user, dc.password),
                                     ok=False)
        if " NO " in tagged or any(l.startswith("* BYE") for l in untagged):
            return True
        untagged, tagged = c.command("SELECT INBOX", ok=False)
        if any(l.startswith("* BYE") for l in untagged) or \
                " OK " not in tagged:
            return True
        return False
    except (ConnectionError, OSError, socket.timeout) as e:
        if isinstance(e, socket.timeout):
            raise AssertionError("login of %s hung" % user)
        return True


def assert_works(dc, user, imap):
    c = imap(dc, user)
    untagged, _ = c.command("STATUS INBOX (MESSAGES)")
    n = int(untagged[0].split("MESSAGES ")[1].rstrip(")"))
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message())
    wait_exists(c, n + 1)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def value_named(line, key, value):
    """The log line names the value: quoted as the plugin does, or as
    Dovecot 2.4's own parser does for a userdb override (key=value)."""
    return "'%s'" % value in line or "%s=%s" % (key, value) in line


def error_lines(dc, key, value, since=0):
    return [l for l in h.log_lines(dc, key, since)
            if value_named(l, key, value)]


@pytest.mark.parametrize("key", list(BAD))
def test_each_setting_is_read_from_plugin_block(key, shared_dovecot, imap):
    if DOVECOT_24:
        # the settings are Dovecot's own there: doveconf rejects the value
        # before any login (test_bad_value_in_config_stops_dovecot); here,
        # that the config's value is what the user gets
        dc = shared_dovecot(profile="settings-bad-plugin")
        r = subprocess.run(["doveconf", "-c", dc.conf_path, "-h", key],
                           capture_output=True, text=True, timeout=60,
                           env=dc.tool_env())
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().replace(" ", "") == OTHER[key], r.stdout
        return
    dc = shared_dovecot(profile="settings-bad-plugin")
    user = "miss_" + short(key)
    value, expected = BAD[key]
    since = len(dc.log_text())
    assert login_refused(dc, user, imap), (
        "plugin { %s = %s } is invalid and %s doesn't override it, yet the "
        "login worked" % (key, value, user))
    h.wait_log(dc, "'%s'" % value, since)
    lines = error_lines(dc, key, value, since)
    assert len(lines) == 1, lines
    assert expected in lines[0] and "imap_idle" in lines[0], lines


def test_userdb_overrides_every_setting(shared_dovecot, imap):
    dc = shared_dovecot(profile="settings-bad-plugin")
    since = len(dc.log_text())
    assert_works(dc, "fixed_all", imap)
    assert not h.log_lines(dc, "invalid value", since), dc.log_text()[since:]
    assert not h.log_lines(dc, "Invalid", since), dc.log_text()[since:]


@pytest.mark.parametrize("case", range(len(BAD) + len(OUT_OF_RANGE)),
                         ids=["%s=%s" % (k, v) for k, (v, _) in BAD.items()]
                         + ["%s=%s" % c for c in OUT_OF_RANGE])
def test_bad_value_in_config_stops_dovecot(case, dovecot):
    """Dovecot 2.4 knows the settings (the settings module): a bad type or
    range in dovecot.conf stops it at startup, naming the setting and the
    value.  Dovecot 2.3 only passes plugin {} strings on, so the plugin
    rejects them at login (test_each_setting_is_read_from_plugin_block)."""
    cases = [(k, v) for k, (v, _) in BAD.items()] + OUT_OF_RANGE
    key, value = cases[case]
    if not DOVECOT_24:
        dc = dovecot(settings={key: value})
        r = subprocess.run(["doveconf", "-c", dc.conf_path, "-h",
                            "plugin/" + key], capture_output=True,
                           text=True, timeout=60, env=dc.tool_env())
        assert r.stdout.strip() == value, (
            "2.3 passes plugin {} on as text: %r" % r.stdout)
        return
    with pytest.raises(DovecotError) as e:
        dovecot(settings={key: value})
    text = str(e.value)
    assert key in text and "Error in configuration file" in text, text
    # range errors come from the core's message, type errors from Dovecot
    assert value in text or "invalid value" in text, text


def test_doveconf_lists_every_setting_with_its_default(dovecot):
    """2.4: doveconf -d shows each imap_idle_* setting and the core's
    default (2.3's doveconf knows nothing of plugin {} keys)."""
    defaults = dict(VALID)
    dc = dovecot()
    r = subprocess.run(["doveconf", "-c", dc.conf_path, "-d"],
                       capture_output=True, text=True, timeout=60,
                       env=dc.tool_env())
    assert r.returncode == 0, r.stderr
    listed = dict(l.split(" = ", 1) for l in r.stdout.splitlines()
                  if l.startswith("imap_idle_") and " = " in l
                  and not l.startswith("imap_idle_notify_interval"))
    if not DOVECOT_24:
        assert listed == {}, listed
        return
    assert sorted(listed) == sorted(defaults), listed
    for key, value in listed.items():
        # doveconf writes "2 secs" where the table says "2s"
        words = value.replace("secs", "s").replace(" ", "")
        assert words == defaults[key] or \
            (defaults[key] == "0" and words in ("0", "0ms")), (key, value)


@pytest.mark.parametrize("case", range(len(USERDB_CASES)),
                         ids=["%s=%s" % c for c in USERDB_CASES])
def test_bad_userdb_value_fails_only_that_user(case, shared_dovecot, imap):
    dc = shared_dovecot(profile="settings-bad-userdb")
    key, value = USERDB_CASES[case]
    since = len(dc.log_text())
    assert login_refused(dc, "bad_%d" % case, imap), (
        "userdb %s=%s should fail the login" % (key, value))
    h.wait_log(dc, key, since)
    lines = error_lines(dc, key, value, since)
    if DOVECOT_24 and not lines:
        # 2.4 parses first and checks the range after: the plugin's
        # message then shows the parsed value ("0" became "0ms")
        lines = [l for l in h.log_lines(dc, key, since)
                 if "invalid value" in l]
    assert len(lines) == 1, h.log_lines(dc, "imap", since)
    line = lines[0]
    if DOVECOT_24 and "Invalid" in line:
        # a type error: Dovecot 2.4's own parser words it, e.g. "Invalid
        # time interval: fast" or "Invalid boolean value: maybe (use yes
        # or no)"
        assert "Invalid" in line and "imap_idle" in line, line
    else:
        assert "expected" in line, line
        # the accepted form: a unit list or yes/no, and an example
        assert ("with a unit" in line and "e.g." in line) or \
            "yes or no" in line, line
    # one bad user doesn't hurt anyone else
    assert_works(dc, "good", imap)


def test_notify_delay_from_plugin_block(shared_dovecot, imap):
    dc = shared_dovecot(profile="settings-behaviour")
    c = imap(dc, "from_plugin")
    tag, _ = c.idle()
    dc.deliver_lmtp("from_plugin", make_message())
    early = collect(c, 1.5)
    assert not exists_counts(early), (
        "plugin { imap_idle_notify_delay = 10s } should hold the change "
        "back: %r" % early)
    # ... and done_sync = no from plugin {}: DONE doesn't sync either
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged
    assert not exists_counts(untagged), untagged
    untagged, _ = c.command("NOOP")
    assert "* 1 EXISTS" in untagged, untagged


def test_notify_delay_overridden_from_userdb(shared_dovecot, imap):
    dc = shared_dovecot(profile="settings-behaviour")
    c = imap(dc, "override_delay")
    tag, _ = c.idle()
    dc.deliver_lmtp("override_delay", make_message())
    wait_exists(c, 1, timeout=5)
    untagged, tagged = c.done(tag)
    assert tagged.startswith(tag + " OK"), tagged


def test_done_sync_overridden_from_userdb(shared_dovecot, imap):
    dc = shared_dovecot(profile="settings-behaviour")
    c = imap(dc, "override_done_sync")
    tag, _ = c.idle()
    dc.deliver_lmtp("override_done_sync", make_message())
    assert not exists_counts(collect(c, 1.0))
    untagged, tagged = c.done(tag)
    assert "* 1 EXISTS" in untagged, (untagged, tagged)


def test_force_poll_from_plugin_block_and_userdb(shared_dovecot, imap):
    dc = shared_dovecot(profile="settings-behaviour")
    since = len(dc.log_text())
    for user in ("from_plugin", "override_force_poll"):
        c = imap(dc, user)
        tag, _ = c.idle()
        c.done(tag)
    h.wait_log(dc, "IDLE finished", since, count=2)
    polling = h.log_lines(dc, "imap_idle_force_poll = yes", since)
    assert [l for l in polling if "imap(from_plugin)" in l], (
        "plugin { imap_idle_force_poll = yes } should make IDLE poll: %s"
        % dc.log_text()[since:])
    assert not [l for l in h.log_lines(dc, "Polling", since)
                if "imap(override_force_poll)" in l], (
        "userdb imap_idle_force_poll=no should turn polling off")


@pytest.mark.parametrize("mail_format", ["maildir", "mdbox"])
def test_notify_delay_alone_holds_changes_back(mail_format, shared_dovecot,
                                               fresh_user, imap):
    """imap_idle_notify_delay = 10s with every other setting at its
    default: a delivery is not reported within 2.5 s."""
    dc = shared_dovecot(mail_format=mail_format,
                        profile="settings-delay-only")
    user = fresh_user(dc)
    c = imap(dc, user)
    tag, _ = c.idle()
    dc.deliver_lmtp(user, make_message())
    early = collect(c, 2.5)
    assert not exists_counts(early), (
        "imap_idle_notify_delay = 10s, yet the delivery was reported "
        "within 2.5 s: %r" % early)
    untagged, tagged = c.done(tag)
    assert "* 1 EXISTS" in untagged, untagged


def add_passwd_user(dc, user, fields):
    """A user whose userdb fields are written exactly as given, past the
    harness's translation of plugin/ fields for 2.4.  passwd-file is read
    again when its size changes."""
    home = dc.mail_home(user)
    os.mkdir(home)
    os.chown(home, dc.mail_uid, dc.mail_uid)
    with open(os.path.join(dc.tmp, "passwd"), "a") as f:
        f.write("%s:{PLAIN}%s:%d:%d::%s::%s\n" % (
            user, dc.password, dc.mail_uid, dc.mail_uid, home, fields))


def test_plugin_prefixed_userdb_field(dovecot, imap):
    """A userdb field plugin/imap_idle_<key>: how 2.3 wants it, and what a
    userdb written for 2.3 still returns after an upgrade.  2.3 reads it
    (a bad value fails the login); 2.4 ignores it, so the plugin logs a
    warning naming the field and the name 2.4 wants."""
    dc = dovecot(extra_conf=DEBUG)
    add_passwd_user(dc, "legacy",
                    "userdb_plugin/imap_idle_notify_delay=fast")
    since = len(dc.log_text())
    if not DOVECOT_24:
        assert login_refused(dc, "legacy", imap)
        h.wait_log(dc, "'fast'", since)
        return
    assert_works(dc, "legacy", imap)
    lines = h.log_lines(dc, "plugin/imap_idle_notify_delay", since)
    assert len(lines) == 1, dc.log_text()[since:]
    assert "Warning" in lines[0] and "ignored by Dovecot 2.4" in lines[0] \
        and "as imap_idle_notify_delay" in lines[0], lines

# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""A throwaway Dovecot started from Debian's binaries for tests, the demo and
the benchmark: its own base_dir, config and mail store in a temp dir, IMAP and
LMTP on 127.0.0.1 at free ports, the freshly built imap_idle plugin loaded from
the build tree (or the installed one, with IMAP_IDLE_MODULE_DIR) when asked
for.  Everything it starts is stopped by pid and the temp dir is removed on
exit, also when the caller fails."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import runtime_checks

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"
SYSTEM_MODULEDIR = "/usr/lib/dovecot/modules"
MAIL_UID = 12345
PASSWORD = "pass"

TOP_BUILDDIR = os.environ.get(
    "IMAP_IDLE_BUILDDIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
PLUGIN_NAME = "lib20_imap_idle_plugin.so"
# The plugin under test: this build's, or with IMAP_IDLE_MODULE_DIR the one
# installed there (the package test loads the module the .deb installed).
INSTALLED_MODULE_DIR = os.environ.get("IMAP_IDLE_MODULE_DIR")
if INSTALLED_MODULE_DIR:
    PLUGIN_SO = os.path.join(INSTALLED_MODULE_DIR, PLUGIN_NAME)
else:
    PLUGIN_SO = os.path.join(TOP_BUILDDIR, "plugin", ".libs", PLUGIN_NAME)

MAIL_LOCATIONS = {
    "maildir": "maildir:~/Maildir",
    "sdbox": "sdbox:~/sdbox",
    "mdbox": "mdbox:~/mdbox",
}


class DovecotError(RuntimeError):
    pass


def dovecot_version():
    """The running Dovecot's version as a tuple, e.g. (2, 3, 19, 1)."""
    out = subprocess.run([DOVECOT, "--version"], capture_output=True,
                         text=True, timeout=30).stdout
    m = re.match(r"(\d+(?:\.\d+)+)", out.strip())
    if m is None:
        raise DovecotError("cannot read the version from %s --version: %r"
                           % (DOVECOT, out))
    return tuple(int(x) for x in m.group(1).split("."))


DOVECOT_VERSION = dovecot_version()
# Dovecot 2.4 has a new config syntax: the instance writes its config in
# 2.3's and translates it (config_24()).
DOVECOT_24 = DOVECOT_VERSION >= (2, 4)
SETTINGS_MODULE = os.path.join(SYSTEM_MODULEDIR, "settings",
                               "libimap_idle_settings.so")
BUILT_SETTINGS_MODULE = os.path.join(TOP_BUILDDIR, "plugin", ".libs",
                                     "libimap_idle_settings.so")


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def _exit_cleanly_on_signals():
    """A SIGTERM or SIGHUP to the test or demo unwinds through the `with`
    blocks, so Dovecot is stopped and the temp dir removed then too."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            try:
                signal.signal(sig, _raise_exit)
            except ValueError:      # not the main thread
                pass


def free_ports(count):
    """count distinct free ports: all sockets stay bound until every port is
    picked (one at a time, the kernel may hand out the same port twice)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def process_tree(root_pid):
    """root_pid and all its descendants, from /proc (also bench/run's)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _plugin_module_dir(tmp):
    """Dovecot's own modules plus ours, so a config may still name any of
    Debian's plugins next to imap_idle."""
    if not os.path.exists(PLUGIN_SO):
        raise DovecotError("plugin not found: %s is missing (%s)" % (
            PLUGIN_SO, "is the package installed?" if INSTALLED_MODULE_DIR
            else "run make"))
    moddir = os.path.join(tmp, "modules")
    os.mkdir(moddir)
    ours = os.path.basename(PLUGIN_SO)
    for name in os.listdir(SYSTEM_MODULEDIR):
        src = os.path.join(SYSTEM_MODULEDIR, name)
        # an installed imap_idle is replaced by the one under test
        if os.path.isfile(src) and name not in (PLUGIN_NAME, ours):
            os.symlink(src, os.path.join(moddir, name))
    os.symlink(PLUGIN_SO, os.path.join(moddir, ours))
    if DOVECOT_24:
        _check_settings_module()
    return moddir


def _check_settings_module():
    """Dovecot 2.4's config process loads settings modules only from its
    fixed module dir: without this build's libimap_idle_settings.so there,
    every imap_idle_* setting is unknown."""
    def content(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            return None
    built = content(BUILT_SETTINGS_MODULE)
    if built is None:
        raise DovecotError("settings module not built: %s is missing "
                           "(run make)" % BUILT_SETTINGS_MODULE)
    if content(SETTINGS_MODULE) != built:
        raise DovecotError(
            "%s is missing or not this build's: Dovecot 2.4 reads the "
            "imap_idle settings only from there; run make install (inside "
            "a throwaway root: ci/debian13-root does so)" % SETTINGS_MODULE)


class DovecotInstance:
    """with DovecotInstance(plugin=True, users=3) as dc: ...

    users: a count (user1..userN) or a list of names.
    settings: plugin {} key/values.  userdb_extra: {user: "field=value ..."}
    for per-user overrides in passwd-file userdb syntax (e.g.
    "userdb_imap_idle_notify_delay=5ms"; an empty value becomes "yes").
    extra_conf: text appended to dovecot.conf (may override earlier blocks).
    service_imap: extra lines inside `service imap {}`.
    mail_uid: uid/gid the mail is stored and served as (default MAIL_UID);
    a test suite may use its own so that other Dovecots of the machine
    don't share its per-uid limits (inotify instances).
    tmp_parent, keep_tmp: where the instance's directory is made, and
    whether stop() leaves it for the caller to remove (the benchmark does
    so after all its runs: see bench/run's run_side()).
    """

    def __init__(self, plugin=True, users=1, mail_format="maildir",
                 settings=None, userdb_extra=None, extra_conf="",
                 service_imap="", imap_mail_plugins=None, start=True,
                 mail_uid=MAIL_UID, tmp_parent=None, keep_tmp=False):
        self.plugin = plugin
        if isinstance(users, int):
            users = ["user%d" % i for i in range(1, users + 1)]
        self.users = list(users)
        self.mail_format = mail_format
        self.settings = dict(settings or {})
        self.userdb_extra = dict(userdb_extra or {})
        self.extra_conf = extra_conf
        self.service_imap = service_imap
        self.imap_mail_plugins = imap_mail_plugins
        self.mail_uid = mail_uid
        self.tmp_parent = tmp_parent
        self.keep_tmp = keep_tmp
        self.password = PASSWORD
        self.host = "127.0.0.1"
        self.tmp = None
        self.proc = None
        self.master_pid = None
        # log offset when the master was told to stop (conftest)
        self.stopping_at = None
        # sanitizer/valgrind reports read so far (runtime_checks.py)
        self.runtime_seen = set()
        self.runtime_findings = []
        if start:
            self.start()

    # -- lifecycle -----------------------------------------------------
    def start(self):
        _exit_cleanly_on_signals()
        self.tmp = tempfile.mkdtemp(prefix="imap-idle-dc-",
                                    dir=self.tmp_parent)
        # Dovecot's auth and mail processes drop privileges and must reach
        # the passwd file and the homes below this dir.
        os.chmod(self.tmp, 0o755)
        try:
            self._write_config()
            self._launch()
        except BaseException:
            self.stop()
            raise

    def _write_config(self):
        t = self.tmp
        for d in ("base", "state", "home"):
            os.mkdir(os.path.join(t, d))
        with open(os.path.join(t, "passwd"), "w") as f:
            for u in self.users:
                home = os.path.join(t, "home", u)
                os.mkdir(home)
                os.chown(home, self.mail_uid, self.mail_uid)
                f.write("%s:{PLAIN}%s:%d:%d::%s::%s\n" % (
                    u, PASSWORD, self.mail_uid, self.mail_uid, home,
                    userdb_fields(self.userdb_extra.get(u, ""))))
        os.chown(os.path.join(t, "home"), self.mail_uid, self.mail_uid)
        self.imap_port, self.lmtp_port = free_ports(2)
        self.log_path = os.path.join(t, "dovecot.log")
        plugins = self.imap_mail_plugins
        if plugins is None:
            plugins = "$mail_plugins imap_idle" if self.plugin else \
                "$mail_plugins"
        moddir = _plugin_module_dir(t) if self.plugin else SYSTEM_MODULEDIR
        plugin_block = "".join("  %s = %s\n" % kv
                               for kv in self.settings.items())
        self.conf_path = os.path.join(t, "dovecot.conf")
        checks_conf, checks_service = runtime_checks.prepare(t)
        with open(self.conf_path, "w") as f:
            f.write(config_24(CONFIG_TEMPLATE.format(
                tmp=t, imap_port=self.imap_port, lmtp_port=self.lmtp_port,
                mail_location=MAIL_LOCATIONS[self.mail_format],
                moddir=moddir, imap_mail_plugins=plugins,
                plugin_block=plugin_block,
                service_imap=checks_service + self.service_imap,
                extra_conf=checks_conf + self.extra_conf)))

    def _launch(self):
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", self.conf_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=self.tool_env())
        self.master_pid = self.proc.pid
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace")
                raise DovecotError("dovecot exited with %s:\n%s\n%s" % (
                    self.proc.returncode, out, self.log_text()))
            if self._listening(self.imap_port) and \
                    self._listening(self.lmtp_port):
                return
            time.sleep(0.02)
        raise DovecotError("dovecot did not listen within 20 s:\n%s"
                           % self.log_text())

    def _listening(self, port):
        try:
            with socket.create_connection((self.host, port), timeout=0.5):
                return True
        except OSError:
            return False

    def request_stop(self):
        """SIGTERM to the master, noting where the log was then: what a
        service logs after it may be the shutdown's (conftest)."""
        self.stopping_at = len(self.log_text())
        self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        children = []
        if self.proc is not None and self.proc.poll() is None:
            children = [p for p in self.descendant_pids()
                        if p != self.master_pid]
            self.request_stop()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._kill_descendants()
                self.proc.kill()
                self.proc.wait(timeout=5)
        # the master does not wait for its mail processes: one still
        # exiting could write below tmp after it is removed
        self.wait_processes_gone(children)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
        self.runtime_findings += self.new_runtime_findings()
        if self.tmp is not None and not self.keep_tmp:
            # a mail process that forked after the snapshot above may
            # still write below tmp for a moment: try again briefly
            for _ in range(25):
                shutil.rmtree(self.tmp, ignore_errors=True)
                if not os.path.exists(self.tmp):
                    break
                time.sleep(0.2)
            else:
                sys.stderr.write("dovecot_instance: could not remove %s\n"
                                 % self.tmp)
            self.tmp = None

    @staticmethod
    def wait_processes_gone(pids, timeout=5.0):
        """Waits for pids to exit (zombies count as gone); SIGKILLs the
        ones still running after timeout."""
        def alive(pid):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    return f.read().rsplit(")", 1)[1].split()[0] != "Z"
            except (OSError, IndexError):
                return False
        deadline = time.monotonic() + timeout
        left = [p for p in pids if alive(p)]
        while left and time.monotonic() < deadline:
            time.sleep(0.02)
            left = [p for p in left if alive(p)]
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _kill_descendants(self):
        for pid in self.descendant_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- inspection ----------------------------------------------------
    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except (OSError, TypeError, AttributeError):
            return ""

    def new_runtime_findings(self):
        """Sanitizer/valgrind reports with a plugin frame that appeared
        since the last call (none unless runtime_checks is enabled)."""
        return runtime_checks.findings(self.tmp, self.runtime_seen)

    def descendant_pids(self):
        """The master and all its descendants, from /proc."""
        if self.master_pid is None:
            return []
        return process_tree(self.master_pid)

    def tool_env(self):
        """The environment for a Dovecot program run on this instance
        (None: the harness's own; see runtime_checks.tool_env)."""
        return runtime_checks.tool_env(self.tmp) if DOVECOT_24 else None

    def mail_home(self, user):
        return os.path.join(self.tmp, "home", user)

    # -- mail ----------------------------------------------------------
    def doveadm(self, *args, input_bytes=None, check=True):
        r = subprocess.run([DOVEADM, "-c", self.conf_path] + list(args),
                           input=input_bytes, capture_output=True,
                           timeout=60, env=self.tool_env())
        if check and r.returncode != 0:
            raise DovecotError("doveadm %s failed (%d): %s" % (
                " ".join(args), r.returncode,
                r.stderr.decode(errors="replace")))
        return r.stdout.decode(errors="replace")

    def deliver_lda(self, user, message):
        r = subprocess.run([DOVECOT_LDA, "-c", self.conf_path, "-d", user],
                           input=message, capture_output=True, timeout=60,
                           env=self.tool_env())
        if r.returncode != 0:
            raise DovecotError("dovecot-lda failed (%d): %s" % (
                r.returncode, r.stderr.decode(errors="replace")))

    def deliver_lmtp(self, user, message, lmtp=None):
        """Deliver one message through Dovecot's LMTP; returns the
        monotonic time the 250 reply was read."""
        own = lmtp is None
        if own:
            lmtp = LmtpClient(self.host, self.lmtp_port)
        try:
            return lmtp.deliver(user, message)
        finally:
            if own:
                lmtp.close()


def userdb_fields(fields):
    """passwd-file extra fields as tests write them for 2.3; on 2.4 a
    plugin setting's userdb field has no plugin/ prefix."""
    if DOVECOT_24:
        return fields.replace("userdb_plugin/", "userdb_")
    return fields


def _mail_plugins_24(m):
    names = [p for p in m.group(2).split() if p != "$mail_plugins"]
    return "%smail_plugins {\n%s%s}" % (
        m.group(1), "".join("%s  %s = yes\n" % (m.group(1), p)
                           for p in names), m.group(1))


# (2.3 pattern, 2.4 replacement) for what the harness and the tests write
_CONFIG_24_RULES = [
    (r"^disable_plaintext_auth = no$",
     "auth_allow_cleartext = yes"),
    # 2.4 has no INDEX= in mail_path: the index path is its own setting
    (r"^mail_location = (\w+):([^:\n]*):INDEX=(\S+)$",
     r"mail_driver = \1\nmail_path = \2\nmail_index_path = \3"),
    (r"^mail_location = (\w+):(.*)$", r"mail_driver = \1\nmail_path = \2"),
    (r"^(passdb|userdb) \{\n  driver = passwd-file\n"
     r"  args = (?:scheme=\w+ )?(\S+)\n\}",
     r"\1 passwd-file {\n  passwd_file_path = \2\n}"),
    # the top-level listen applies to every listener
    (r"^ *address = .*\n", ""),
    (r"\$default_internal_user", "$SET:default_internal_user"),
    (r"^( *)mail_plugins = (.*)$", _mail_plugins_24),
    # plugin {} is gone: its settings stand at the top level
    (r"^plugin \{\n((?:  .*\n)*)\}",
     lambda m: re.sub(r"^  ", "", m.group(1), flags=re.M)),
    (r"^default_vsz_limit = 0$", "default_vsz_limit = unlimited"),
    # a string list: one KEY = VALUE line each, added to the defaults
    (r"^import_environment = \$import_environment (.*)$",
     lambda m: "import_environment {\n%s}" % "".join(
         '  %s = "%s"\n' % tuple(kv.split("=", 1))
         for kv in m.group(1).split())),
    (r"\bservice_count = (\d+)",
     lambda m: "restart_request_count = " +
     ("unlimited" if m.group(1) == "0" else m.group(1))),
]


def config_24(text):
    """A config the harness or a test wrote in 2.3's syntax, in 2.4's when
    the running Dovecot is 2.4 (else unchanged): the version lines 2.4
    requires, then the renames in _CONFIG_24_RULES."""
    if not DOVECOT_24:
        return text
    for pattern, repl in _CONFIG_24_RULES:
        text = re.sub(pattern, repl, text, flags=re.M)
    version = ".".join(str(x) for x in DOVECOT_VERSION[:3])
    return ("dovecot_config_version = %s\ndovecot_storage_version = %s\n"
            % (version, version)) + text


def make_message(subject="test", body="hello\r\n", sender="sender@example.com"):
    return ("From: %s\r\nTo: rcpt@example.com\r\nSubject: %s\r\n"
            "Message-ID: <%s.%f@example.com>\r\n\r\n%s" % (
                sender, subject, subject.replace(" ", "-"), time.time(),
                body)).encode()


class LmtpClient:
    def __init__(self, host, port, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self._expect("220")
        self._cmd(b"LHLO localhost\r\n", "250")

    def _readline(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise DovecotError("LMTP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def _expect(self, code):
        while True:
            line = self._readline()
            if not line.startswith(code):
                raise DovecotError("LMTP: expected %s, got %r" % (code, line))
            if line[3:4] != "-":
                return line

    def _cmd(self, data, code):
        self.sock.sendall(data)
        return self._expect(code)

    def deliver(self, user, message):
        self._cmd(b"MAIL FROM:<sender@example.com>\r\n", "250")
        self._cmd(b"RCPT TO:<%s>\r\n" % user.encode(), "250")
        self._cmd(b"DATA\r\n", "354")
        body = message.replace(b"\r\n.", b"\r\n..")
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.sock.sendall(body + b".\r\n")
        self._expect("250")
        return time.monotonic()

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
        except OSError:
            pass
        self.sock.close()


CONFIG_TEMPLATE = """\
base_dir = {tmp}/base
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
instance_name = imap-idle-test
listen = 127.0.0.1
protocols = imap lmtp
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = {mail_location}
mail_plugin_dir = {moddir}
first_valid_uid = 1
mail_max_userip_connections = 100000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {tmp}/passwd
}}
userdb {{
  driver = passwd-file
  args = {tmp}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
service imap {{
  unix_listener imap-master {{
    user = $default_internal_user
  }}
{service_imap}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_plugins = {imap_mail_plugins}
}}
plugin {{
{plugin_block}}}
{extra_conf}
"""


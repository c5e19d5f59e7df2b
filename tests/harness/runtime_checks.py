# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Sanitizer and valgrind runs of a test Dovecot, switched on by environment
variables (make check-sanitizers, make check-valgrind):

IMAP_IDLE_ASAN_RUNTIME=/path/libasan.so.N
    The plugin was built by ./configure --enable-sanitizers.  Dovecot's own
    binaries are not instrumented, so ASan's runtime must come first in
    every process that loads the plugin: the master hands LD_PRELOAD down
    to its children through import_environment (it clears the rest of its
    environment), with the ASAN/UBSAN/LSAN options that write each
    process's reports to a file below the instance's temp dir.  ASan maps
    terabytes of shadow memory, so vsz_limit must be 0 (unlimited).
IMAP_IDLE_VALGRIND=/usr/bin/valgrind
    Every imap process runs under memcheck (service imap's executable is a
    valgrind command line) and writes an XML log per process.

After a test, findings() reads the reports that appeared since the last
call.  A sanitizer report counts if a stack (or UBSan's source position)
has a plugin frame; valgrind: any memcheck error, and a definite or
possible leak only with a plugin frame.  Dovecot's and libc's own errors
are suppressed by valgrind.supp (each entry says why)."""

import glob
import os
import re

ASAN_RUNTIME = os.environ.get("IMAP_IDLE_ASAN_RUNTIME", "")
VALGRIND = os.environ.get("IMAP_IDLE_VALGRIND", "")
SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "valgrind.supp")
REPORT_DIR = "runtime-checks"

# a frame of ours: the module's file name (unsymbolized frames) or a
# source path of the plugin (symbolized frames, UBSan's position)
PLUGIN_FRAME_RE = re.compile(r"lib20_imap_idle_plugin|"
                             r"plugin/(core|imap-idle)/[\w.-]+\.c")


# A leak is reported at exit, after Dovecot has dlclose()d the plugin: its
# frames would show as unknown addresses.  With GDB set, Dovecot's
# module_free() leaves modules loaded (lib/module-dir.c); nothing else in
# the processes run here looks at it.
KEEP_MODULES = "GDB=1"


# imap processes a test ran under strace on purpose: LSan can't check a
# process that exits while traced, and says so with a "fatal error"
TRACED_PIDS = set()


def enabled():
    return bool(ASAN_RUNTIME or VALGRIND)


def _sanitizer_options(reports):
    """ASAN_OPTIONS and UBSAN_OPTIONS writing reports below `reports`."""
    # exitcode=0: the reports are what counts.  Otherwise LSan's "fatal
    # error" in the login processes (which drop privileges and the
    # dumpable flag, so LSan can't stop their threads) would show as Fatal
    # lines in Dovecot's log.
    common = ("log_path=%s/%%s:log_exe_name=1:print_stacktrace=1:"
              "exitcode=0" % reports)
    # slow (DWARF) unwinding: Debian's Dovecot has no frame pointers, and
    # the plugin's frame is below libdovecot's in a malloc stack; 8 frames
    # reach it and cost a third of the default 30
    asan = ("detect_leaks=1:fast_unwind_on_malloc=0:"
            "malloc_context_size=8:abort_on_error=0:" + common % "asan")
    ubsan = "halt_on_error=1:" + common % "ubsan"
    return asan, ubsan


def tool_env(tmp):
    """The environment for a Dovecot program the harness starts itself
    (the master, doveadm, dovecot-lda, doveconf) on Dovecot 2.4, or None
    for the harness's own.  Dovecot 2.4 loads the plugin's settings module in
    every process that parses the config (the master, doveconf, doveadm),
    and a sanitizer build instruments that module too: ASan's runtime must
    come first there as well, or the process refuses to start.  (2.3 loads
    no plugin code in them.)"""
    if not ASAN_RUNTIME or tmp is None:
        return None
    asan, ubsan = _sanitizer_options(os.path.join(tmp, REPORT_DIR))
    env = dict(os.environ)
    env.update(LD_PRELOAD=ASAN_RUNTIME, ASAN_OPTIONS=asan,
               UBSAN_OPTIONS=ubsan)
    return env


def prepare(tmp, imap_executable="/usr/lib/dovecot/imap"):
    """Makes the report directory (writable by the mail uid) and returns
    (global config lines, lines for service imap {})."""
    if not enabled():
        return "", ""
    reports = os.path.join(tmp, REPORT_DIR)
    os.mkdir(reports)
    os.chmod(reports, 0o1777)
    if ASAN_RUNTIME:
        asan, ubsan = _sanitizer_options(reports)
        # a chrooted login process could not write its report (and
        # exits with an error when it can't); one login process per
        # connection would double the processes that start and exit
        # under ASan (leak check at exit), for no plugin code
        conf = ("default_vsz_limit = 0\n"
                "service imap-login {\n  chroot =\n  service_count = 0\n"
                "  process_min_avail = 2\n}\n"
                "import_environment = $import_environment %s "
                "LD_PRELOAD=%s ASAN_OPTIONS=%s UBSAN_OPTIONS=%s "
                "ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer\n"
                % (KEEP_MODULES, ASAN_RUNTIME, asan, ubsan))
        return conf, ""
    service = ("  executable = %s --tool=memcheck --vgdb=no --leak-check=full "
               "--show-leak-kinds=definite,possible --num-callers=40 "
               "--suppressions=%s --child-silent-after-fork=yes "
               "--xml=yes --xml-file=%s/valgrind.%%p.xml %s\n"
               % (VALGRIND, SUPPRESSIONS, reports, imap_executable))
    return ("default_vsz_limit = 0\n"
            "import_environment = $import_environment %s\n" % KEEP_MODULES,
            service)


# -- reading reports ------------------------------------------------------------
def _sanitizer_blocks(text):
    """A report file's reports: an ASan or UBSan error is one; LSan's
    summary is cut into one block per leak."""
    if "LeakSanitizer" in text:
        parts = re.split(r"\n(?=(?:Direct|Indirect) leak of )", text)
        return [p for p in parts[1:]]
    return [text]


def _valgrind_blocks(text):
    """Each <error> of a memcheck XML log (a process killed mid-run leaves
    the file unfinished, so no XML parser)."""
    out = []
    for block in re.findall(r"<error>.*?</error>", text, re.S):
        kind = re.search(r"<kind>(\w+)</kind>", block)
        kind = kind.group(1) if kind else "?"
        if kind.startswith("Leak_") and not PLUGIN_FRAME_RE.search(block):
            continue
        out.append(_valgrind_summary(kind, block))
    return out


def _valgrind_summary(kind, block):
    what = re.search(r"<text>(.*?)</text>", block, re.S) or \
        re.search(r"<what>(.*?)</what>", block, re.S)
    frames = re.findall(r"<frame>(.*?)</frame>", block, re.S)
    lines = ["%s: %s" % (kind, what.group(1).strip() if what else "")]
    for f in frames[:25]:
        fn = re.search(r"<fn>(.*?)</fn>", f)
        obj = re.search(r"<obj>(.*?)</obj>", f)
        src = re.search(r"<file>(.*?)</file>.*?<line>(\d+)</line>", f, re.S)
        lines.append("    %s %s%s" % (
            fn.group(1) if fn else "?", obj.group(1) if obj else "",
            " %s:%s" % src.groups() if src else ""))
    return "\n".join(lines)


def findings(tmp, seen):
    """Reports below tmp that were not in `seen` (a set of paths, updated):
    a list of (file, report text) that fail the run."""
    out = []
    if tmp is None:
        return out
    for path in sorted(glob.glob(os.path.join(tmp, REPORT_DIR, "*"))):
        if path in seen:
            continue
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        if path.endswith(".xml"):
            # a process still running writes on; read it once it ended
            if "</valgrindoutput>" not in text and _pid_alive(path):
                continue
            blocks = _valgrind_blocks(text)
        else:
            blocks = [b for b in _sanitizer_blocks(text)
                      if PLUGIN_FRAME_RE.search(b)]
            m = re.search(r"\.imap\.(\d+)$", path)
            if "LeakSanitizer has encountered a fatal error" in text and \
                    m and int(m.group(1)) not in TRACED_PIDS:
                # the plugin's process could not be checked for leaks
                blocks.append(text)
        seen.add(path)
        out.extend((os.path.basename(path), b) for b in blocks)
    return out


def _pid_alive(path):
    m = re.search(r"\.(\d+)\.xml$", path)
    if not m:
        return False
    try:
        with open("/proc/%s/stat" % m.group(1)) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def format_findings(found, label):
    return "%s: %d sanitizer/valgrind report(s) with a plugin frame:\n%s" % (
        label, len(found), "\n\n".join("[%s]\n%s" % (name, text[:6000])
                                        for name, text in found[:10]))

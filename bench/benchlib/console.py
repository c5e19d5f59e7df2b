# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The runner's terminal: a progress line on stderr, say() for lines that
stay, and signals turned into Interrupted except while cleaning up."""

import contextlib
import ctypes
import shutil
import signal
import sys


class Interrupted(BaseException):
    pass


_cleaning = False


def _on_signal(signum, frame):
    if _cleaning:
        return          # finish the cleanup first
    raise Interrupted("signal %d" % signum)


def install_signal_handlers():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)


@contextlib.contextmanager
def cleaning():
    """A block that a signal does not interrupt (restoring the sysctl,
    unmounting, removing the temp dir)."""
    global _cleaning
    before = _cleaning
    _cleaning = True
    try:
        yield
    finally:
        _cleaning = before


def set_pdeathsig():
    """In loadgen's child: die with the runner, even on SIGKILL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)       # PR_SET_PDEATHSIG
    except Exception:
        pass


class Progress:
    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.shown = False

    def show(self, text, force=False):
        if self.tty:
            cols = shutil.get_terminal_size((120, 20)).columns
            sys.stderr.write("\r" + text[:cols - 1].ljust(cols - 1))
            sys.stderr.flush()
            self.shown = True
        elif force:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def clear(self):
        if self.tty and self.shown:
            cols = shutil.get_terminal_size((120, 20)).columns
            sys.stderr.write("\r" + " " * (cols - 1) + "\r")
            sys.stderr.flush()
            self.shown = False


PROGRESS = Progress()


def say(text):
    PROGRESS.clear()
    print(text, flush=True)

# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""A small line-based IMAP client for tests and the demo: every line it
reads is kept with its arrival time, so callers can assert on order
(untagged before tagged) and report timings."""

import socket
import time


class ImapError(AssertionError):
    pass


class ImapClient:
    def __init__(self, host, port, timeout=10.0, transcript=None,
                 rcvbuf=None):
        """rcvbuf: SO_RCVBUF set before connecting (a small one makes the
        server's output block when the client stops reading)."""
        if rcvbuf is None:
            self.sock = socket.create_connection((host, port),
                                                 timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                                     rcvbuf)
                self.sock.settimeout(timeout)
                self.sock.connect((host, port))
            except BaseException:
                self.sock.close()
                raise
        self.timeout = timeout
        self.buf = b""
        self.lines = []          # (monotonic time, line) of every line read
        self.transcript = transcript
        self.tag_no = 0
        self.greeting = self.read_line()

    # -- raw I/O ---------------------------------------------------------
    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.transcript is not None:
            for line in data.decode(errors="replace").splitlines():
                self.transcript("C: " + line[:200])
        self.sock.sendall(data)

    def read_line(self, timeout=None):
        """One line without CRLF; raises socket.timeout when nothing
        complete arrives within timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no line within %.1fs" %
                                     (timeout or self.timeout))
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        text = line.decode(errors="replace")
        self.lines.append((time.monotonic(), text))
        if self.transcript is not None:
            self.transcript("S: " + text[:200])
        return text

    def try_read_line(self, timeout):
        try:
            return self.read_line(timeout)
        except socket.timeout:
            return None

    def read_until(self, predicate, timeout=None):
        """Lines up to and including the first one predicate accepts."""
        out = []
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ImapError("timed out waiting; got %r" % out)
            line = self.read_line(left)
            out.append(line)
            if predicate(line):
                return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- commands --------------------------------------------------------
    def next_tag(self):
        self.tag_no += 1
        return "a%d" % self.tag_no

    def command(self, text, timeout=None, ok=True):
        """Sends `tag text`, returns (untagged lines, tagged line)."""
        tag = self.next_tag()
        self.send("%s %s\r\n" % (tag, text))
        lines = self.read_until(lambda l: l.startswith(tag + " "), timeout)
        tagged = lines[-1]
        if ok and not tagged.startswith(tag + " OK"):
            raise ImapError("%s failed: %s" % (text, tagged))
        return lines[:-1], tagged

    def login(self, user, password):
        return self.command("LOGIN %s %s" % (user, password))

    def select(self, mailbox="INBOX"):
        return self.command("SELECT %s" % mailbox)

    def idle(self, timeout=None):
        """Starts IDLE; returns (tag, lines before the continuation)."""
        tag = self.next_tag()
        self.send("%s IDLE\r\n" % tag)
        lines = self.read_until(lambda l: l.startswith("+") or
                                l.startswith(tag + " "), timeout)
        if not lines[-1].startswith("+"):
            raise ImapError("IDLE refused: %s" % lines[-1])
        return tag, lines[:-1]

    def done(self, tag, timeout=None):
        """Sends DONE; returns (untagged lines, tagged line)."""
        self.send("DONE\r\n")
        lines = self.read_until(lambda l: l.startswith(tag + " "), timeout)
        return lines[:-1], lines[-1]

    def wait_for(self, predicate, timeout=None):
        """Reads lines until one matches; returns (that line, its time)."""
        self.read_until(predicate, timeout)
        return self.lines[-1]


def exists_count(line):
    """n for '* n EXISTS', else None."""
    parts = line.split()
    if len(parts) == 3 and parts[0] == "*" and parts[2].upper() == "EXISTS":
        return int(parts[1])
    return None

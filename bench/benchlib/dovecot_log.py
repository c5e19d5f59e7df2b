# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""Dovecot's log after a run: lines of level Warning and worse, grouped
by their text without numbers, counted per level."""

import re

LOG_LEVELS = ("Panic", "Fatal", "Error", "Warning")


def log_group_key(line):
    """A log line without its numbers and timestamp: lines that differ
    only there are one group."""
    key = re.sub(r"\d+", "N", line.split(": ", 1)[-1])
    return re.sub(r"^\w+ +N N:N:N ", "", key)


def scan_log(text):
    counts = {lvl: 0 for lvl in LOG_LEVELS}
    groups = {}
    for line in text.splitlines():
        if "master: Warning: Killed with signal 15" in line:
            continue        # the harness stopping Dovecot
        for lvl in LOG_LEVELS:
            if (": %s: " % lvl) in line:
                counts[lvl] += 1
                key = log_group_key(line)
                if key not in groups:
                    groups[key] = {"level": lvl, "count": 0, "example": line}
                groups[key]["count"] += 1
                break
    excerpt = sorted(groups.values(),
                     key=lambda g: (LOG_LEVELS.index(g["level"]),
                                    -g["count"]))[:15]
    return {"counts": counts, "groups": excerpt}

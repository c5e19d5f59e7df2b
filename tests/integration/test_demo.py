# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The README's main job keeps working: the demo, run the way CI can (it
exits right after the transcript), shows a delivery reaching an idling
client through the plugin and through stock Dovecot."""

import os
import re
import subprocess
import sys

DEMO = os.path.join(os.path.dirname(__file__), "..", "harness", "demo.py")


def test_demo_transcript_shows_a_pushed_delivery():
    r = subprocess.run([sys.executable, DEMO, "--exit-after-transcript"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "S: + idling" in out, out
    assert re.search(r"S: \* 1 EXISTS", out), out
    # one line per server: plugin first, then stock for comparison
    reached = re.findall(r"EXISTS reached the client (-?[\d.]+) ms", out)
    assert len(reached) == 2, out
    assert re.search(r"S: a\d+ OK Idle completed", out), out
    assert "Delivery -> EXISTS:" in out, out

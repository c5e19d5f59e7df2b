# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The main job: a throwaway Dovecot on 127.0.0.1 with the imap_idle plugin,
a scripted client that IDLEs while a message is delivered over LMTP, the
transcript with timings, then the server left running for a real client
until Ctrl-C.  --exit-after-transcript stops right after the transcript
(the test suite runs it that way so the demo keeps working)."""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dovecot_instance import DovecotInstance, make_message  # noqa: E402
from imap_client import ImapClient, exists_count  # noqa: E402

USER = "demo"


def run_session(dc, label):
    t0 = time.monotonic()

    def show(line):
        print("  %8.3f ms  %s" % ((time.monotonic() - t0) * 1000, line))

    print("\n%s (127.0.0.1:%d)" % (label, dc.imap_port))
    client = ImapClient(dc.host, dc.imap_port, transcript=show)
    try:
        client.login(USER, dc.password)
        client.select("INBOX")
        tag, _ = client.idle()
        show("-- delivering a message over LMTP")
        acked = dc.deliver_lmtp(USER, make_message("hello from the demo"))
        show("-- LMTP answered 250")
        arrived, _ = client.wait_for(lambda l: exists_count(l) is not None)
        latency = (arrived - acked) * 1000
        show("-- EXISTS reached the client %.3f ms after LMTP's 250" %
             latency)
        client.done(tag)
        client.command("LOGOUT", ok=False)
    finally:
        client.close()
    return latency


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--exit-after-transcript", action="store_true",
                    help="stop Dovecot and exit after the transcript")
    ap.add_argument("--no-stock", action="store_true",
                    help="skip the comparison run with stock Dovecot")
    args = ap.parse_args()

    with DovecotInstance(plugin=True, users=[USER]) as dc:
        ours = run_session(dc, "Dovecot with imap_idle")
        if not args.no_stock:
            with DovecotInstance(plugin=False, users=[USER]) as stock:
                theirs = run_session(stock, "Stock Dovecot, for comparison")
            print("\nDelivery -> EXISTS: %.3f ms with imap_idle, %.3f ms "
                  "stock" % (ours, theirs))
        if args.exit_after_transcript:
            return 0
        print("\nDovecot with imap_idle keeps running for your own client:\n"
              "  server   127.0.0.1 port %d (IMAP, no TLS)\n"
              "  user     %s\n  password %s\n"
              "  deliver  more mail: LMTP on 127.0.0.1 port %d\n"
              "Press Ctrl-C to stop it." % (
                  dc.imap_port, USER, dc.password, dc.lmtp_port))
        sys.stdout.flush()
        try:
            signal.pause()
        except KeyboardInterrupt:
            print("\nstopping Dovecot")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/bin/sh
# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
# Stands in for the CUnit suites when configure found no CUnit.
echo "SKIP: the CUnit suites (tests/unit) were not built: configure found" \
     "no CUnit; install the Debian package libcunit1-dev and re-run configure"
exit 77

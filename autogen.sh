#!/bin/sh
# Regenerates configure and the Makefile.in files; nothing else.
set -e
cd "$(dirname "$0")"
if [ ! -f /usr/share/aclocal/dovecot.m4 ]; then
	echo "autogen.sh: /usr/share/aclocal/dovecot.m4 is missing; install the Debian package dovecot-dev" >&2
	exit 1
fi
mkdir -p m4 build-aux
# Dovecot 2.4's dovecot.m4 requires this aux file (its own test wrapper,
# unused here) but dovecot-dev does not install it.
[ -f build-aux/run-test.sh.in ] ||
	echo "# unused: required by Dovecot 2.4's dovecot.m4" \
		> build-aux/run-test.sh.in
autoreconf -fi -I /usr/share/aclocal

#!/bin/sh
# Regenerates configure and the Makefile.in files; nothing else.
set -e
cd "$(dirname "$0")"
if [ ! -f /usr/share/aclocal/dovecot.m4 ]; then
	echo "autogen.sh: /usr/share/aclocal/dovecot.m4 is missing; install the Debian package dovecot-dev" >&2
	exit 1
fi
mkdir -p m4
autoreconf -fi -I /usr/share/aclocal

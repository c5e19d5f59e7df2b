#!/bin/sh
# One entry point for a fresh Debian 12 machine, run as root:
#   ./run.sh demo      set everything up, then show a live IDLE session
#   ./run.sh test      set everything up, then run every test (make check):
#                      against this machine's Dovecot 2.3 and, at the same
#                      time, against Dovecot 2.4 in a Debian 13 root
#                      (ci/debian13-root);
#                      as root, a skipped test fails the run
#   ./run.sh test 2.3 | 2.4   only one of the two
#   ./run.sh package   set everything up, then check the release tarball
#                      (make distcheck) and the Debian package (make
#                      package-test: build, lintian, install, push test,
#                      purge); CI runs this after `test`
# "Set up" means: install the Debian packages the build and the tests need,
# then build from scratch (autogen, configure, make).  Each step prints one
# line; its full output goes to run.log, and is printed if the step fails.
set -eu
cd "$(dirname "$0")"

PACKAGES="gcc make autoconf automake libtool pkg-config
	dovecot-core dovecot-imapd dovecot-lmtpd dovecot-dev
	libsodium-dev libcunit1-dev libhiredis-dev redis-server
	python3 python3-pytest debootstrap strace
	clang-14 libclang-rt-14-dev valgrind"
# `./run.sh package` also needs these
PACKAGE_TOOLS="debhelper dpkg-dev lintian"

LOG=$PWD/run.log
: > "$LOG"

# step "what is happening" command...: one line on the terminal, the
# command's output in run.log; on failure, that output and the log's name.
step() {
	what=$1
	shift
	echo "run.sh: $what"
	out=$(mktemp)
	status=0
	"$@" > "$out" 2>&1 || status=$?
	cat "$out" >> "$LOG"
	if [ $status != 0 ]; then
		cat "$out"
		echo "run.sh: FAILED ($status): $what; the output is above" \
		     "and in $LOG" >&2
	fi
	rm -f "$out"
	return $status
}

# shown command...: the command's output on the terminal and in run.log.
shown() {
	statusf=$(mktemp)
	{ status=0; "$@" 2>&1 || status=$?; echo $status > "$statusf"; } |
		tee -a "$LOG"
	status=$(cat "$statusf")
	rm -f "$statusf"
	return "$status"
}

install_packages() {
	missing=""
	for p in $*; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "run.sh: missing Debian packages:$missing;" \
		     "run as root to install them" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	step "apt-get update" apt-get update -qq
	# The packaged Dovecot and Redis services are not used (every test
	# starts its own); keep the package scripts from starting them.
	created_policy=no
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		created_policy=yes
	fi
	status=0
	step "installing$missing" \
		apt-get install -y -qq --no-install-recommends $missing ||
		status=$?
	[ "$created_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
	return $status
}

build() {
	step "autogen.sh (autoreconf)" ./autogen.sh
	# --quiet: only configure's warnings (tests that cannot run) and errors
	echo "run.sh: configure --quiet"
	shown ./configure --quiet
	echo "run.sh: make (the module)"
	shown make -s -j"$(nproc)"
}

# As root nothing may be skipped: a SKIP means part of the suite did not run.
check_nothing_skipped() {
	[ "$(id -u)" = 0 ] || return 0
	grep -q '^# SKIP: *0$' test-suite.log && return 0
	echo "run.sh: FAILED: tests were skipped, as root; the reasons:" >&2
	grep -h '^SKIP' test-suite.log tests/*/*.log 2>/dev/null >&2 || true
	exit 1
}

run_check() {
	echo "run.sh: make check (unit, lib-test and integration suites)"
	if ! shown make -s check; then
		[ -f test-suite.log ] && cat test-suite.log
		echo "run.sh: FAILED: make check; test-suite.log is above" >&2
		exit 1
	fi
	check_nothing_skipped
}

# Dovecot 2.4's suite runs in the Debian 13 root beside 2.3's on the host:
# both mostly wait on Dovecot, so together they take little longer than
# one.  The root overlays the tree it runs from, so it gets a snapshot
# that 2.3's build cannot change underneath it, and its own mail uids so
# that the two suites' per-uid inotify limits stay apart.
SUITE24_UID=22346
start_suite_24() {
	snapshot=$(mktemp -d /tmp/imap-idle-2.4.XXXXXX)
	tar -cf - --exclude=./.git --exclude=./deb --exclude=./run.log \
		--exclude='./dovecot-imap-idle-*' . | (cd "$snapshot" && tar -xf -)
	echo "run.sh: Dovecot 2.4: a Debian 13 root, then build and make" \
	     "check inside it, beside 2.3's suite (its output follows 2.3's)"
	(cd "$snapshot" && IMAP_IDLE_TEST_MAIL_UID=$SUITE24_UID \
		ci/debian13-root run ci/in-root test) > "$snapshot.log" 2>&1 &
	suite24_pid=$!
}

finish_suite_24() {
	status=0
	wait "$suite24_pid" || status=$?
	echo "run.sh: ---- Dovecot 2.4's suite, in the Debian 13 root ----"
	cat "$snapshot.log" | tee -a "$LOG"
	rm -rf "$snapshot" "$snapshot.log"
	[ $status = 0 ] ||
		echo "run.sh: FAILED ($status): Dovecot 2.4's suite" >&2
	return $status
}

case "${1:-}" in
demo)
	shift
	install_packages $PACKAGES
	build
	exec /usr/bin/python3 tests/harness/demo.py "$@"
	;;
test)
	versions=${2:-2.3 2.4}
	case $versions in
	"2.3 2.4" | 2.3 | 2.4) ;;
	*) echo "usage: $0 test [2.3 | 2.4]" >&2; exit 2 ;;
	esac
	install_packages $PACKAGES
	case $versions in
	2.4)
		echo "run.sh: Dovecot 2.4: a Debian 13 root, then build" \
		     "and make check inside it"
		shown ci/debian13-root run ci/in-root test
		;;
	2.3)
		build
		run_check
		;;
	*)
		start_suite_24
		# 2.3's steps stop at their first failure; 2.4's suite is
		# waited for and reported either way
		set +e
		(set -e; build; run_check)
		status23=$?
		set -e
		status24=0
		finish_suite_24 || status24=$?
		if [ $status23 != 0 ] || [ $status24 != 0 ]; then
			exit 1
		fi
		;;
	esac
	;;
package)
	install_packages $PACKAGES $PACKAGE_TOOLS
	build
	# the integration suite ran in `test` already: here the tarball's
	# build, unit suites, install and uninstall
	step "make distcheck (the release tarball builds, unit-tests and installs)" \
		make distcheck INTEGRATION_TESTS=
	echo "run.sh: make package-test (build, lintian, install, push test, purge)"
	shown make -s package-test
	;;
*)
	echo "usage: $0 demo [--exit-after-transcript] | test [2.3 | 2.4] | package" >&2
	exit 2
	;;
esac

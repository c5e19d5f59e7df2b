#!/bin/sh
# One entry point for a fresh Debian 12 machine, run as root:
#   ./run.sh demo   set everything up, then show a live IDLE session
#   ./run.sh test   set everything up, then run every test
# "Set up" means: install the Debian packages the build and the tests need,
# then build from scratch (autogen, configure, make).
set -eu
cd "$(dirname "$0")"

PACKAGES="gcc make autoconf automake libtool pkg-config
	dovecot-core dovecot-imapd dovecot-lmtpd dovecot-dev
	libsodium-dev libcunit1-dev libhiredis-dev redis-server
	python3 python3-pytest
	clang-14 libclang-rt-14-dev valgrind"

install_packages() {
	missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "run.sh: installing$missing" >&2
	if [ "$(id -u)" != 0 ]; then
		echo "run.sh: packages are missing and this is not root; run as root" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# The packaged Dovecot and Redis services are not used (every test
	# starts its own); keep the package scripts from starting them.
	created_policy=no
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		created_policy=yes
	fi
	status=0
	apt-get install -y -qq --no-install-recommends $missing || status=$?
	[ "$created_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
	return $status
}

build() {
	./autogen.sh
	./configure --quiet
	make -j"$(nproc)"
}

case "${1:-}" in
demo)
	shift
	install_packages
	build
	exec /usr/bin/python3 tests/harness/demo.py "$@"
	;;
test)
	install_packages
	build
	make check
	;;
*)
	echo "usage: $0 demo [--exit-after-transcript] | test" >&2
	exit 2
	;;
esac

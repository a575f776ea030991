#!/bin/sh
# deps.sh PKG... — install the Debian packages that are missing.
# As root with apt-get; otherwise through sudo; otherwise say what to run.
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "termscope: installing missing packages:$missing"
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "termscope: these Debian packages are missing:$missing" >&2
	echo "termscope: install them as root: apt-get install$missing" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "termscope: no apt-get here; install the equivalents of:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing >/dev/null || {
	echo "termscope: apt-get install$missing failed" >&2
	exit 1
}

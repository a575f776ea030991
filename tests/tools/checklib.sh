# checklib.sh — helpers for tests/checks (sourced, not run).
# TERMSCOPE: the binary under test.  WORK: a scratch dir removed at exit.
set -u
TERMSCOPE=${TERMSCOPE:-./termscope}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/termscope-check-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
die() { echo "FAILED: $*"; exit 1; }
# expect_exit CODE CMD...: run CMD, fail unless it exits with CODE.
expect_exit() {
	want=$1; shift
	"$@" >"$WORK/out" 2>"$WORK/err"
	got=$?
	[ "$got" -eq "$want" ] || { cat "$WORK/out" "$WORK/err"; die "'$*' exited $got, expected $want"; }
}
# The events file without the fields that may differ between runs.
stable() { sed -e 's/"pid":[0-9]*/"pid":_/g' -e 's/"wall":{[^}]*}/"wall":_/g' "$1"; }
# Wait (bounded) until a condition command succeeds: polling a condition,
# never sleeping in its place.
wait_for() {
	tries=$1; shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		tries=$((tries - 1))
		sleep 0.05
	done
	return 1
}
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

#!/bin/sh
# run.sh — every test termscope has, ending with one line "N passed, N failed".
#
#   unit        the Criterion tests of core, wire and store (each test counts)
#   fuzz        the fuzz corpus replayed through the wire decoder
#   scenarios   tests/scenarios/*.lua, headless against real processes; each
#               is then held to the invariants with `termscope check`
#   lessons     lessons/*.lua on autopilot, headless
#   checks      tests/checks/*.sh: determinism, no orphans, bad input, ...
#   screen      tests/tui/*.sh: the dashboard in tmux, driven by keys
#
# TERMSCOPE names the binary under test (make test: the ASan+UBSan build).
# ONLY=pattern runs just the scenarios and checks whose name matches.
# JOBS=N runs N scenarios at a time (default 2).
set -u
cd "$(dirname "$0")/.."
TERMSCOPE=${TERMSCOPE:-./termscope}
export TERMSCOPE
JOBS=${JOBS:-2}
ONLY=${ONLY:-}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/termscope-test-XXXXXX")
trap 'rm -rf "$OUT"' EXIT INT TERM
# sanitizers: fail loudly, report to stderr
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=67}

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$1"; }
# A test that cannot run here (etcd not installed, say) prints a line
# "skip: why" and succeeds: it is shown as skipped, counted neither way.
skipped=0
skip_or_pass() {   # NAME LOG
	why=$(sed -n 's/^skip: *//p' "$2" | head -n 1)
	if [ -n "$why" ]; then
		skipped=$((skipped + 1))
		printf 'skip  %s: %s\n' "$1" "$why"
	else
		pass "$1"
	fi
}
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$1"; [ -n "${2:-}" ] && sed 's/^/      /' "$2" | tail -n 25; }

# ---- unit tests ----------------------------------------------------------
if [ -z "$ONLY" ] && [ -x build/san/unit ]; then
	echo "== unit tests (Criterion)"
	build/san/unit --jobs 2 >"$OUT/unit.log" 2>&1
	rc=$?
	line=$(grep 'Synthesis:' "$OUT/unit.log" | tail -n 1)
	t=$(printf '%s' "$line" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
	p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	if [ -n "$t" ] && [ -n "$p" ]; then
		passed=$((passed + p))
		failed=$((failed + t - p))
		grep -E '\[(FAIL|----)\]' "$OUT/unit.log" | grep -v '^\[----\] Criterion' | head -n 40
		echo "      $line"
	fi
	if [ $rc -ne 0 ] && { [ -z "$t" ] || [ "$t" = "$p" ]; }; then
		fail "unit tests (exit $rc)" "$OUT/unit.log"
	fi
fi

# ---- fuzz corpus ---------------------------------------------------------
if [ -z "$ONLY" ] && [ -x build/san/fuzz_replay ]; then
	echo "== fuzz corpus"
	if build/san/fuzz_replay tests/fuzz/corpus >"$OUT/fuzz.log" 2>&1; then
		pass "fuzz corpus: $(tail -n 1 "$OUT/fuzz.log")"
	else
		fail "fuzz corpus" "$OUT/fuzz.log"
	fi
fi

# ---- scenarios -----------------------------------------------------------
# One scenario: its seed is the number on a line "-- seed: N" (default 1).
run_scenario() {
	f=$1
	name=$(basename "$f" .lua)
	seed=$(sed -n 's/^-- seed: *\([0-9][0-9]*\).*/\1/p' "$f" | head -n 1)
	seed=${seed:-1}
	ev="$OUT/$name.jsonl"
	log="$OUT/$name.log"
	if "$TERMSCOPE" run "$f" --headless --seed "$seed" --events "$ev" >"$log" 2>&1 &&
	   ! grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$log" 2>/dev/null &&
	   "$TERMSCOPE" check "$ev" >>"$log" 2>&1; then
		echo "ok" >"$OUT/$name.result"
	else
		echo "FAIL" >"$OUT/$name.result"
	fi
}

echo "== scenarios"
list=""
for f in tests/scenarios/*.lua; do
	[ -e "$f" ] || continue
	case "$(basename "$f")" in *"$ONLY"*) list="$list $f" ;; esac
done
if [ -n "$list" ]; then
	# shellcheck disable=SC2086
	printf '%s\n' $list | {
		running=0
		while read -r f; do
			run_scenario "$f" &
			running=$((running + 1))
			if [ "$running" -ge "$JOBS" ]; then
				wait
				running=0
			fi
		done
		wait
	}
	for f in $list; do
		name=$(basename "$f" .lua)
		if [ "$(cat "$OUT/$name.result" 2>/dev/null)" = ok ]; then
			skip_or_pass "scenario $name" "$OUT/$name.log"
		else
			fail "scenario $name" "$OUT/$name.log"
		fi
	done
fi

# ---- lessons ---------------------------------------------------------------
# Every lesson on autopilot: each step's solution performed, each objective
# then required to hold.  Progress goes to a private state dir.
export XDG_STATE_HOME="$OUT/state"
echo "== lessons (autopilot)"
for f in lessons/*.lua; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .lua)
	case "$name" in *"$ONLY"*) ;; *) continue ;; esac
	num=${name%%-*}
	if "$TERMSCOPE" lesson "$num" --autopilot --headless --events "$OUT/lesson-$name.jsonl" \
		>"$OUT/lesson-$name.log" 2>&1 &&
	   ! grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$OUT/lesson-$name.log" &&
	   "$TERMSCOPE" check "$OUT/lesson-$name.jsonl" >>"$OUT/lesson-$name.log" 2>&1; then
		pass "lesson $name"
	else
		fail "lesson $name" "$OUT/lesson-$name.log"
	fi
done

# ---- checks --------------------------------------------------------------
echo "== checks"
for f in tests/checks/*.sh; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .sh)
	case "$name" in *"$ONLY"*) ;; *) continue ;; esac
	if sh "$f" >"$OUT/check-$name.log" 2>&1; then
		skip_or_pass "check $name" "$OUT/check-$name.log"
	else
		fail "check $name" "$OUT/check-$name.log"
	fi
done

# ---- screen tests ----------------------------------------------------------
echo "== screen tests (tmux)"
if command -v tmux >/dev/null 2>&1; then
	for f in tests/tui/*.sh; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .sh)
		case "$name" in *"$ONLY"*) ;; *) continue ;; esac
		if sh "$f" >"$OUT/tui-$name.log" 2>&1; then
			skip_or_pass "screen $name" "$OUT/tui-$name.log"
		else
			fail "screen $name" "$OUT/tui-$name.log"
		fi
	done
else
	fail "screen tests: tmux is not installed (make test installs it)"
fi

[ "$skipped" -gt 0 ] && echo "($skipped skipped: see the skip lines above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

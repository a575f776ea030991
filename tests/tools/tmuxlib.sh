# tmuxlib.sh — drive the dashboard in a private tmux server (sourced).
#
#   start_ui COLS ROWS ARGS...   run termscope ARGS in a fresh tmux window "ui"
#                                (START_ENV: variables set on its command line)
#   stop_ui                      close that window (to start another)
#   keys K...                    send keys (tmux send-keys names: Enter, Escape, Space, C-c)
#   screen                       print the screen as text
#   screen_esc                   the same with the colours and attributes (escapes)
#   wait_screen PATTERN [TRIES]  poll the screen until grep -E PATTERN matches (20 ms apart)
#   wait_gone PATTERN [TRIES]    poll until it no longer matches
#   wait_until WHAT CMD...       poll until CMD succeeds (bounded), else show the
#                                screen and fail naming WHAT
#   holds N WHAT CMD...          CMD must stay true over N polls (for "nothing moves")
#   ui_exited                    true once the program in the window has ended
#   ui_rc                        its exit code (once it has ended)
#   wait_exit CODE               wait for the end, fail unless it exited with CODE
#   live_ready                   the live dashboard: wait until a leader is shown and
#                                close the lesson menu if it is open (Esc)
#   restored                     after the end: the terminal is as it was (the normal
#                                screen with the shell's "[exited]" and no dashboard on it,
#                                cursor shown, no mouse reporting, tty modes back)
#
# The screen, parsed (each takes a fresh capture; with a last argument -, stdin):
#   node_row N      node N's row in the nodes panel, without the frame:
#                   "*3 up LEADER 1 3 ..." — id (* on the leader), state, role, term, ...
#   node_word N K   its K-th word (2 state, 3 role, 4 term)
#   leader          the id marked * as LEADER (the leader of the highest term
#                   that can reach a majority), or nothing
#   clock_ms        the virtual time in the status bar, in ms
#   bottom          the bottom line (a result, an error, the prompt or the key hints)
#
# Everything runs on its own tmux socket and is killed at exit.  Sanitizer
# reports of termscope and of its node processes go to $WORK/san.* (not to
# the screen, where they would be lost), and any there fail the test at exit.
. tests/tools/checklib.sh
TMUX_SOCK="termscope-test-$$"
TM() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
ui_cleanup() {
	rc=$?
	TM kill-server 2>/dev/null
	if ls "$WORK"/san.* >/dev/null 2>&1; then
		# the gist, short enough for the end of a log (tests/run.sh shows 25 lines)
		cat "$WORK"/san.* | grep -E 'ERROR|SUMMARY|runtime error|freed by|allocated by|^ *#[0-9]+ .* in ' |
			grep -v -E 'libuv|libc|liblua|_start|asan_|sanitizer_common' | head -n 18
		echo "FAILED: a sanitizer reported an error (above)"
		rc=1
	fi
	rm -rf "$WORK"
	exit $rc
}
trap ui_cleanup EXIT
trap 'exit 1' INT TERM HUP    # so that the cleanup runs then too
TERMSCOPE_ABS=$(cd "$(dirname "$TERMSCOPE")" && pwd)/$(basename "$TERMSCOPE")
# A UTF-8 locale unless a test asks otherwise, so what is drawn does not
# depend on the caller's locale (e.g. START_ENV="LC_ALL= LANG=C NO_COLOR=1").
START_ENV=${START_ENV-LC_ALL=C.UTF-8}
start_ui() {
	cols=$1 rows=$2; shift 2
	rm -f "$WORK/rc"
	# a session that outlives the window, so stop_ui + start_ui never races
	# with the server shutting down
	TM has-session -t keep 2>/dev/null || TM new-session -d -s keep -x 20 -y 5 "exec sleep 600"
	san="ASAN_OPTIONS='${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$WORK/san'"
	san="$san UBSAN_OPTIONS='${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$WORK/san'"
	# a shell keeps the window open after termscope exits, so we can read
	# what it leaves behind; its exit code goes to $WORK/rc
	TM new-session -d -s ui -x "$cols" -y "$rows" \
		"cd '$WORK' && TERM=xterm-256color $san $START_ENV '$TERMSCOPE_ABS' $*; echo \$? > '$WORK/rc'; echo '[exited]'; exec sleep 600"
}
stop_ui() {
	TM kill-session -t ui 2>/dev/null
	wait_for 100 eval '! TM has-session -t ui 2>/dev/null' || die "the tmux window would not close"
}
keys() { TM send-keys -t ui "$@"; }
screen() { TM capture-pane -p -t ui; }
screen_esc() { TM capture-pane -p -e -t ui; }
# The waits give up early once termscope has exited (the screen will not
# change any more), saying so.
_ended() {
	ui_exited || return 1
	_after=$((_after + 1))
	[ "$_after" -gt 10 ] || return 1
	echo "--- termscope has exited (code $(ui_rc))"
}
wait_screen() {
	tries=${2:-500} _after=0
	while [ "$tries" -gt 0 ] && ! _ended; do
		screen | grep -q -E -- "$1" && return 0
		tries=$((tries - 1))
		sleep 0.02
	done
	echo "--- the screen never showed: $1"; screen
	return 1
}
wait_gone() {
	tries=${2:-500} _after=0
	while [ "$tries" -gt 0 ] && ! _ended; do
		screen | grep -q -E -- "$1" || return 0
		tries=$((tries - 1))
		sleep 0.02
	done
	echo "--- the screen kept showing: $1"; screen
	return 1
}
wait_until() {
	what=$1; shift
	tries=500 _after=0
	while [ "$tries" -gt 0 ] && ! _ended; do
		"$@" && return 0
		tries=$((tries - 1))
		sleep 0.02
	done
	echo "--- the screen never showed: $what"; screen
	die "$what"
}
holds() {
	n=$1 what=$2; shift 2
	while [ "$n" -gt 0 ]; do
		"$@" || { echo "--- this stopped being true: $what"; screen; die "$what"; }
		n=$((n - 1))
		sleep 0.02
	done
}
ui_exited() { [ -s "$WORK/rc" ]; }
ui_rc() { cat "$WORK/rc"; }
wait_exit() {
	wait_for 200 ui_exited || { screen; die "termscope did not exit (expected exit code $1)"; }
	[ "$(ui_rc)" = "$1" ] || { screen; die "termscope exited with code $(ui_rc), expected $1"; }
}
restored() {
	s=$(screen)
	printf '%s\n' "$s" | grep -q '^\[exited\]$' || { echo "--- no [exited] line:"; printf '%s\n' "$s"; return 1; }
	if printf '%s\n' "$s" | grep -q -E ' (Nodes|Network|Events) |termscope  .* t=[0-9]|^(lq|┌─|\+-)'; then
		echo "--- the dashboard is still on the screen after exit:"; printf '%s\n' "$s"
		return 1
	fi
	# the modes the dashboard set, as tmux sees them: alternate screen off,
	# cursor visible, cursor keys and mouse reporting back to normal
	m=$(TM display -p -t ui '#{alternate_on} #{cursor_flag} #{keypad_cursor_flag} #{mouse_any_flag}')
	[ "$m" = "0 1 0 0" ] || {
		echo "--- terminal modes after exit (alternate screen, cursor shown, application cursor keys, mouse): $m, expected 0 1 0 0"
		return 1
	}
	# and the tty's line discipline (cbreak/noecho/nonl undone)
	tty=$(TM display -p -t ui '#{pane_tty}')
	for mode in echo icanon isig icrnl onlcr; do
		stty -a <"$tty" | tr ' ;' '\n\n' | grep -q -x -- "$mode" || {
			echo "--- the tty was left without $mode:"; stty -a <"$tty"
			return 1
		}
	done
}
live_ready() {
	row='^(x|│|\|) \*[1-9] up +LEADER '
	wait_screen "$row| Lessons " || die "neither a leader nor the lesson menu was shown"
	if screen | grep -q ' Lessons '; then
		keys Escape
		wait_gone ' Lessons ' || die "Esc did not close the lesson menu"
		wait_screen '^ 1-9 node ' || die "after Esc closed the lesson menu the key hints are not back"
	fi
	wait_screen "$row" || die "no leader was shown"
}

# ---- the screen, parsed ---------------------------------------------------
# Each takes a fresh capture, or reads one from stdin when its last argument
# is "-" (to look at several things in one and the same frame).
_cap() { if [ "${1:-}" = - ]; then cat; else screen; fi; }
node_row() { _cap "${2:-}" | sed -n -E "s/^(x|│|\\|) ([ *]$1 [a-zA-Z].*)/\\2/p" | head -n 1; }
node_word() { node_row "$1" "${3:-}" | awk -v k="$2" '{ print $k }'; }
leader() { _cap "${1:-}" | sed -n -E 's/^(x|│|\|) \*([1-9]) +[a-z-]+ +LEADER .*/\2/p' | head -n 1; }
clock_ms() { _cap "${1:-}" | sed -n -E '1s/.* t=([0-9]+\.[0-9]+)s .*/\1/p' | awk 'NF { printf "%d\n", $1 * 1000 + 0.5 }'; }
bottom() { _cap "${1:-}" | tail -n 1; }

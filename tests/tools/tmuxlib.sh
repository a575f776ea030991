# tmuxlib.sh — drive the dashboard in a private tmux server (sourced).
#
#   start_ui COLS ROWS ARGS...   run termscope ARGS in a fresh tmux window
#   keys K...                    send keys (tmux send-keys names: Enter, Escape, Space, C-c)
#   screen                       print the screen as text
#   wait_screen PATTERN [TRIES]  poll the screen until grep -E PATTERN matches (20 ms apart)
#   wait_gone PATTERN [TRIES]    poll until it no longer matches
#   ui_exited                    true once the program in the window has ended
# Everything runs on its own tmux socket and is killed at exit.
. tests/tools/checklib.sh
TMUX_SOCK="termscope-test-$$"
TM() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
trap 'TM kill-server 2>/dev/null; rm -rf "$WORK"' EXIT
TERMSCOPE_ABS=$(cd "$(dirname "$TERMSCOPE")" && pwd)/$(basename "$TERMSCOPE")
start_ui() {
	cols=$1 rows=$2; shift 2
	# a shell keeps the window open after termscope exits, so we can read
	# what it leaves behind; its exit code goes to $WORK/rc
	TM new-session -d -s ui -x "$cols" -y "$rows" \
		"cd '$WORK' && TERM=xterm-256color '$TERMSCOPE_ABS' $*; echo \$? > '$WORK/rc'; echo '[exited]'; exec sleep 600"
}
keys() { TM send-keys -t ui "$@"; }
screen() { TM capture-pane -p -t ui; }
wait_screen() {
	tries=${2:-500}
	while [ "$tries" -gt 0 ]; do
		screen | grep -q -E -- "$1" && return 0
		tries=$((tries - 1))
		sleep 0.02
	done
	echo "--- the screen never showed: $1"; screen
	return 1
}
wait_gone() {
	tries=${2:-500}
	while [ "$tries" -gt 0 ]; do
		screen | grep -q -E -- "$1" || return 0
		tries=$((tries - 1))
		sleep 0.02
	done
	echo "--- the screen kept showing: $1"; screen
	return 1
}
ui_exited() { [ -f "$WORK/rc" ]; }

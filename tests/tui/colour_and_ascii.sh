# The fallbacks: with NO_COLOR=1 the dashboard draws no colour at all (and
# without it, it does: the check can fail); with LANG=C it draws only ASCII
# (frames of + - |, no box-drawing or block characters).  Both work: a
# leader is shown, a key acts, q exits 0 and restores the terminal.
. tests/tools/tmuxlib.sh

# an SGR sequence that sets a foreground or background colour
ESC=$(printf '\033')
COLOUR="$ESC\\[([0-9]+;)*(3[0-7]|4[0-7]|9[0-7]|10[0-7]|38|48)(;[0-9]+)*m"

isolate_and_heal() {
	L=$(leader)
	keys "$L" p
	cut() { [ "$(node_word "$L" 2)" = cut-off ]; }
	wait_until "node $L cut-off after $L p" cut
	keys h
	up() { [ "$(node_word "$L" 2)" = up ]; }
	wait_until "node $L up after h" up
}

# colour, for contrast
start_ui 120 40 --seed 3
live_ready
screen_esc | grep -q -E "$COLOUR" || { screen_esc | head -n 8 | cat -v; die "the dashboard draws no colour even without NO_COLOR"; }
keys q
wait_exit 0
stop_ui

# NO_COLOR=1
START_ENV="LC_ALL=C.UTF-8 NO_COLOR=1"
start_ui 120 40 --seed 3
live_ready
isolate_and_heal
if screen_esc | grep -q -E "$COLOUR"; then
	screen_esc | grep -E "$COLOUR" | head -n 5 | cat -v
	die "with NO_COLOR=1 the dashboard still draws in colour"
fi
# roles still tell apart without colour: the leader is bold
screen_esc | grep -q "$ESC\\[1mLEADER" || { screen_esc | grep LEADER | cat -v; die "with NO_COLOR=1 the leader's role is not drawn bold"; }
keys q
wait_exit 0
restored || die "with NO_COLOR=1 the terminal was not restored after q"
stop_ui

# LANG=C: ASCII only
START_ENV="LC_ALL= LC_CTYPE= LANG=C"
start_ui 120 40 --seed 3
live_ready
isolate_and_heal
NONASCII=$(printf '[\200-\377]')
if screen | LC_ALL=C grep -q "$NONASCII"; then
	screen | LC_ALL=C grep -n "$NONASCII" | head -n 5
	die "with LANG=C the screen has non-ASCII characters"
fi
screen | grep -q -E '^\+- Nodes -+\+' || { screen; die "with LANG=C the frames are not drawn in ASCII (+- Nodes ---+)"; }
screen | grep -q -E '^\| id state ' || { screen; die "with LANG=C the frame sides are not |"; }
# (tmux shows the line-drawing character set as shift-out, ^N)
screen_esc | LC_ALL=C grep -q "$(printf '\016')" && { screen_esc | head -n 3 | cat -v; die "with LANG=C the line-drawing character set is still used"; }
keys q
wait_exit 0
restored || die "with LANG=C the terminal was not restored after q"
echo "ok"

# Resizing and leaving: from 120x40 to 80x24 every panel is still drawn in
# one piece (each framed line exactly as wide as the terminal, with its
# corners and the panel titles, every node's row), and back at 120x40 the
# wide layout returns; q exits 0 and Ctrl-C exits 130, each giving the
# terminal back as it found it.  The live cluster is a key/value one: at
# 120x40 the Nodes/Logs/Events/Network and Key/value panels are all shown;
# at 80x24 the Nodes and Key/value panels, and v switches to the Raft
# panels (Logs/Events/Network) and back.
. tests/tools/tmuxlib.sh

# frame_ok COLS ROWS: the capture is the dashboard laid out for COLS x ROWS;
# what is wrong goes to $WORK/why
frame_ok() {
	screen >"$WORK/cap"
	rows=$(wc -l <"$WORK/cap")
	[ "$rows" -eq "$2" ] || { echo "the capture has $rows rows" >"$WORK/why"; return 1; }
	for title in ${TITLES:-Nodes Logs Events Network Key/value}; do
		grep -q -E -- " $title[ :]" "$WORK/cap" || { echo "no '$title' panel title" >"$WORK/why"; return 1; }
	done
	for i in 1 2 3 4 5; do
		[ -n "$(node_row "$i" - <"$WORK/cap")" ] || { echo "no row for node $i" >"$WORK/why"; return 1; }
	done
	# the corners: top left and right under the status bar, bottom left and
	# right over the key hints
	sed -n 2p "$WORK/cap" | grep -q -E '^(l|┌).*(k|┐)$' || { echo "the top corners are missing" >"$WORK/why"; return 1; }
	sed -n "$(($2 - 1))p" "$WORK/cap" | grep -q -E '^(m|└).*(j|┘)$' || { echo "the bottom corners are missing" >"$WORK/why"; return 1; }
	# the status bar, then framed lines, then the key hints
	y=0
	while IFS= read -r line; do
		y=$((y + 1))
		w=$(printf '%s' "$line" | LC_ALL=C.UTF-8 wc -m)
		[ "$w" -le "$1" ] || { echo "line $y is $w columns wide: $line" >"$WORK/why"; return 1; }
		[ "$y" -eq 1 ] || [ "$y" -eq "$2" ] && continue
		[ "$w" -eq "$1" ] || { echo "line $y is $w columns wide, not $1: $line" >"$WORK/why"; return 1; }
		case "$line" in
		[lxm]*[kxj] | ┌*┐ | ┌*│ | │*┐ | │*│ | └*┘ | └*│ | │*┘ | ┌*┘ | └*┐) ;;
		*) echo "line $y is not framed on both sides: $line" >"$WORK/why"; return 1 ;;
		esac
	done <"$WORK/cap"
}
layout_is() {
	wait_for 200 frame_ok "$1" "$2" || { cat "$WORK/cap"; die "at $1x$2: $(cat "$WORK/why")"; }
}

start_ui 120 40 --seed 3
live_ready
layout_is 120 40
screen | sed -n 2p | grep -q ' Nodes .* Network ' || die "at 120x40 the network panel is not beside the nodes"

TM resize-window -t ui -x 80 -y 24
TITLES="Nodes Key/value"
layout_is 80 24
[ -n "$(leader)" ] || { screen; die "at 80x24 no leader is marked"; }
echo "80x24:"; screen
screen | grep -q ' Logs ' && die "at 80x24 the Logs panel is drawn beside the Key/value one"
keys v
TITLES="Nodes Logs Events Network"
layout_is 80 24
screen | grep -q ' Key/value' && die "v at 80x24 did not switch to the Raft panels"
echo "80x24, v:"; screen
keys v
TITLES="Nodes Key/value"
layout_is 80 24
unset TITLES

TM resize-window -t ui -x 120 -y 40
layout_is 120 40
screen | sed -n 2p | grep -q ' Nodes .* Network ' || { screen; die "back at 120x40 the wide layout did not return"; }

keys q
wait_exit 0
restored || die "the terminal was not restored after q"

# Ctrl-C: exit code 130, the terminal restored all the same
stop_ui
start_ui 120 40 --seed 3
live_ready
keys C-c
wait_exit 130
restored || die "the terminal was not restored after Ctrl-C"
echo "ok"

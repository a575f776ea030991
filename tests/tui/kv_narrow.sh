# The key/value view at 80x24: the nodes and the key/value panel share the
# screen (v switches to the Raft panels and back), every line stays within
# 80 columns and framed; a request sent with k shows in the replica table
# and the history; a client confined to the minority after s shows
# BLOCKED; K's verdict fits; the key hints name K and v; the help overlay
# shows the key/value keys first and scrolls.
. tests/tools/tmuxlib.sh

start_ui 80 24 --seed 3
live_ready
wait_screen ' Key/value: 0 keys, 1 client .*v: Raft view' || die "at 80x24 the key/value panel (with v: Raft view) is not shown"
bottom | grep -q -E 'k request +K check +v view' || { screen; die "the key hints do not name k, K and v"; }

framed() {
	screen >"$WORK/cap"
	y=0
	while IFS= read -r line; do
		y=$((y + 1))
		w=$(printf '%s' "$line" | LC_ALL=C.UTF-8 wc -m)
		[ "$w" -le 80 ] || { echo "line $y is $w columns wide: $line"; return 1; }
		[ "$y" -eq 1 ] || [ "$y" -eq 24 ] && continue
		[ "$w" -eq 80 ] || { echo "line $y is $w columns wide, not 80: $line"; return 1; }
	done <"$WORK/cap"
}

keys k
wait_screen '^client 1> ' || die "k did not open the request line"
keys 'put x 1' Enter
wait_screen '^ c1 put x=1: OK in ' || die "put x 1 was not answered"
wait_screen '^(x|│)  x +1 +v1 +1 +v1 +1 +v1 +1 +v1 +1 +v1 ' || die "at 80x24 the replica table does not show x = 1 v1 on five nodes"
wait_screen '^(x|│) c1  put x=1 .* OK' || die "at 80x24 the history does not show the put"
framed || { screen; die "at 80x24 the key/value view is not drawn in one piece"; }

L=$(leader)
M=$((L % 5 + 1))
keys s
wait_screen "^(x|│)  ?$M minority " || die "s did not put node $M in a minority"
keys : "c2 = c:client{reach={$L,$M}}" Enter
wait_screen '^(x|│) [ >]c2 ' || die "the new client c2 is not listed at 80x24"
keys k Tab
wait_screen '^client 2> ' || die "Tab did not move to client 2"
keys 'get x' Enter
wait_screen '^(x|│) [ >]c2 .* BLOCKED [0-9.]+s get x' || die "at 80x24 the minority's client is not shown BLOCKED"
wait_screen '^(x|│) c2  get x .* pending ' || die "at 80x24 the history does not show c2's get pending"
keys K
wait_screen '^(x|│) (✓|\[ok\]) linearizable: 2 operations' || die "at 80x24 K's verdict is not shown"
framed || { screen; die "at 80x24 with a verdict the screen is not drawn in one piece"; }
echo "80x24:"; screen

# v: the Raft panels, and back
keys v
wait_screen ' Logs ' || die "v did not show the Raft panels"
wait_gone ' Key/value' || die "v left the key/value panel on the screen"
framed || { screen; die "at 80x24 the Raft view is not drawn in one piece"; }
keys v
wait_screen ' Key/value' || die "v did not bring the key/value panel back"

# the help: the key/value keys right after the common ones, and it scrolls
keys '?'
wait_screen 'Keys \(Up/Down: scroll' || die "at 80x24 the help does not say it scrolls"
wait_screen 'K +check the clients. history for linearizability' || die "at 80x24 the help does not show the key/value keys on its first page"
keys NPage
wait_gone 'Nodes and network' || die "PgDn did not scroll the help"
wait_screen 'Messages in flight|etcd clusters|MapReduce clusters' || die "PgDn in the help did not show the later sections"
keys Escape
wait_gone 'Keys \(' || die "Esc did not close the help"

keys q
wait_exit 0
restored || die "the terminal was not restored after q"
echo "ok"

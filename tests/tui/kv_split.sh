# Availability on each side of a split (the CAP lesson's view): after s
# (the leader and the next node in a minority), a client confined to the
# minority (made at the : prompt) sends a put with k: it stays pending and
# its row shows BLOCKED with the time it has waited, while a client
# confined to the majority completes its own put at once; the replica
# table marks the key the minority does not have (≠) and the majority
# side's history line is done while the minority's says pending.  After h
# the blocked put completes and every replica agrees again.
. tests/tools/tmuxlib.sh

start_ui 120 40 --seed 3
live_ready
L=$(leader)
M=$((L % 5 + 1))                          # s puts the leader and the next node in a minority
MAJ=""
for i in 1 2 3 4 5; do
	[ "$i" = "$L" ] || [ "$i" = "$M" ] || MAJ="$MAJ${MAJ:+,}$i"
done
echo "leader $L; minority {$L,$M}; majority {$MAJ}"

request() {          # request CLIENT TEXT: k, Tab to the client, the request
	keys k
	wait_screen '^client [0-9]+( \(new\))?> ' || die "k did not open the request line"
	n=0
	until screen | tail -n 1 | grep -q -E "^client $1( \\(new\\))?> "; do
		n=$((n + 1))
		[ "$n" -le 6 ] || die "Tab never reached client $1"
		cur=$(screen | tail -n 1)
		keys Tab
		changed() { [ "$(screen | tail -n 1)" != "$cur" ]; }
		wait_until "Tab to change the request line's client" changed
	done
	keys "$2" Enter
}

request 1 'put x 1'
wait_screen '^ c1 put x=1: OK in ' || die "put x 1 was not answered OK"

keys s
wait_screen "groups \\{[0-9,]+\\} \\{[0-9,]+\\}" || die "s did not split the cluster"
state_is() { [ "$(node_word "$1" 2)" = "$2" ]; }
wait_until "node $M shown in a minority" state_is "$M" minority

keys : "c2 = c:client{reach={$L,$M}}" Enter
wait_screen '^(x|│) [ >]c2 ' || die "the prompt's new client c2 is not in the clients table"
keys : "c3 = c:client{reach={$MAJ}}" Enter
wait_screen '^(x|│) [ >]c3 ' || die "the prompt's new client c3 is not in the clients table"

# the minority's client: pending, then BLOCKED with its waiting time
request 2 'put y 2'
wait_screen '^ c2: put y sent' || die "the request line did not say c2's put was sent"
blocked() { screen | grep -q -E "^(x|│) [ >]c2 +\\{?$L[-,]$M\\}? +log +0 BLOCKED [0-9.]+s put y=2"; }
wait_until "c2's row to show BLOCKED on its put y=2" blocked
screen | grep -E '^(x|│) [ >]c2 '

# the majority's client completes
request 3 'put y 3'
wait_screen '^ c3 put y=3: OK in [0-9]+ ms' || die "the majority's client c3 did not complete put y=3"
screen | grep -q -E '^(x|│) c2  put y=2 .* pending ' || { screen; die "c2's put is not shown pending in the history"; }
screen | grep -q -E '^(x|│) c3  put y=3 .* OK' || { screen; die "c3's put is not shown done in the history"; }
blocked || { screen; die "c2 stopped being BLOCKED before the heal"; }
# y: the majority has 3 (v1), the minority nothing: the row is marked
marked() { screen | grep -q -E '^(x|│) (≠|!)y '; }
wait_until "the key y to be marked as differing between replicas" marked
screen | grep -E '^(x|│) (≠|!)y '
# the waiting time grows, in virtual time
w1=$(screen | sed -n -E 's/.* c2 .* BLOCKED ([0-9.]+)s .*/\1/p')
grows() { w=$(screen | sed -n -E 's/.* c2 .* BLOCKED ([0-9.]+)s .*/\1/p'); [ -n "$w" ] && awk -v a="$w" -v b="$w1" 'BEGIN { exit !(a > b) }'; }
wait_until "c2's waiting time to grow past ${w1}s" grows

# heal: the blocked put completes, and the replicas agree on y
keys h
wait_screen '^ c2 put y=2: OK in [0-9.]+ s' || die "after h the blocked put y=2 did not complete"
wait_gone 'BLOCKED' || die "a client is still BLOCKED after the heal"
agree() { screen | grep -q -E '^(x|│)  y +2 +v2 +2 +v2 +2 +v2 +2 +v2 +2 +v2 '; }
wait_until "every replica to hold y = 2 at version 2 after the heal" agree
screen | grep -q -E '^(x|│) (≠|!)y ' && die "y is still marked divergent after the heal"

keys q
wait_exit 0
echo "ok"

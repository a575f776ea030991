# The dashboard on three real etcd members (--kind etcd).  The nodes panel
# is etcd's own (term, vote, the leader each names, raft and applied
# index, the endpoint etcdctl takes); the logs panel says etcd keeps its
# log to itself; the network panel counts bytes, with a row for clients.
# Isolating the leader with keys (its number, then p) marks it cut-off and
# the others elect a new leader in a higher term; h heals.  A put sent
# from the request line (k) shows in the key/value view's history, and
# append is refused in the hub's words.  The keys that do not apply to
# etcd (t, ., +) say why.  At 80x24 the rows still fit, the key/value
# view and the Raft view switch with v.  q ends the session and leaves no
# etcd member of this run behind.
command -v etcd >/dev/null 2>&1 || { echo "skip: etcd is not installed"; exit 0; }
. tests/tools/tmuxlib.sh

start_ui 120 40 --kind etcd
live_ready
wait_screen ' Nodes: etcd members ' || die "the nodes panel is not the etcd members'"
wait_screen '^(x|│) id state +role +term +vote +leader +index +applied .*endpoint' ||
	die "the nodes panel's header is not etcd's columns"
wait_screen 'etcd +real time' || die "the status line does not say etcd and real time"
wait_screen ' Logs: etcd keeps its log to itself ' || die "the logs panel does not say etcd keeps its log"
wait_screen ' Network: bytes carried ' || die "the network panel does not count bytes"
wait_screen '(x|│) clients +[0-9.]+[KMG]? +[0-9.]+[KMG]? +[0-9.]+[KMG]? ' ||
	die "the network panel has no clients row"

# the members of this run, by the client port each advertises (the hub's
# proxy: the endpoint on its row, and in its etcd command line)
all_up() { for i in 1 2 3; do [ "$(node_word "$i" 2)" = up ] || return 1; done; }
settled() { for i in 1 2 3; do case "$(node_word "$i" 2)" in up|FAILED) ;; *) return 1 ;; esac; done; }
wait_until "every member up or failed" settled
# a member that lost the race for its port (the hub picks free ones, etcd
# binds them a moment later) fails to start: r starts it again, once
for i in 1 2 3; do
	if [ "$(node_word "$i" 2)" = FAILED ]; then
		echo "note: member $i failed to start ($(node_row "$i" | cut -c1-70)); restarting it with r"
		keys "$i" r
	fi
done
wait_until "all three members up" all_up
PORTS=""
for i in 1 2 3; do
	p=$(node_row "$i" | grep -o -E '127\.0\.0\.1:[0-9]+' | cut -d: -f2)
	[ -n "$p" ] || { screen; die "node $i's row shows no endpoint"; }
	PORTS="$PORTS $p"
done
members() {   # how many etcd processes of this run are alive
	k=0
	for p in $PORTS; do
		pgrep -f -- "--advertise-client-urls=http://127.0.0.1:$p( |\$)" >/dev/null && k=$((k + 1))
	done
	echo "$k"
}
[ "$(members)" -eq 3 ] || { screen; pgrep -a etcd; die "expected 3 etcd members of this run, found $(members) (ports$PORTS)"; }

L=$(leader)
T1=$(node_word "$L" 4)
[ -n "$L" ] && [ -n "$T1" ] || die "cannot read the leader's row"
echo "n$L leads in term $T1"

# keys that drive our own Raft nodes or virtual time say why not
keys t
wait_screen "^ t: etcd's election timers are its own" || die "t on etcd did not explain itself"
keys .
wait_screen '^ etcd runs on the wall clock: there is no next instant' || die ". on etcd did not explain itself"
keys +
wait_screen "^ etcd runs on the wall clock: its speed is the wall's" || die "+ on etcd did not explain itself"
keys w
wait_screen 'w: only one cluster runs' || die "w with one cluster did not say so"
[ "$(node_word "$L" 2)" = up ] || { screen; die "a refused key changed node $L"; }

keys "$L" p
cut_off() { [ "$(node_word "$L" 2)" = cut-off ]; }
wait_until "node $L's row says cut-off after $L p" cut_off
wait_screen "groups (\\{[0-9,]+\\} )?\\{$L\\}" || die "the network panel does not show {$L} alone"
new_leader() {
	L2=$(leader)
	[ -n "$L2" ] && [ "$L2" != "$L" ] && [ "$(node_word "$L2" 4)" -gt "$T1" ]
}
wait_until "another member leads in a term above $T1" new_leader
L2=$(leader)
echo "n$L2 leads in term $(node_word "$L2" 4)"

keys h
healed() { [ "$(node_word "$L" 2)" = up ]; }
wait_until "node $L back up after h" healed
wait_screen 'groups all links up' || die "after h the network panel does not say all links are up"
wait_until "a leader after the heal" eval '[ -n "$(leader)" ]'

# a put from the request line, answered, and in the history
request() {
	keys k
	wait_screen '^client [0-9]+( \(new\))?> ' || die "k did not open the request line"
	keys "$1" Enter
}
wait_screen ' Key/value on etcd: 1 client ' || die "no key/value panel for the etcd cluster"
wait_screen "etcd's tables are not mirrored here" || die "the key/value panel does not say etcd's tables are not mirrored"
request 'put greeting hello'
wait_screen '^ c1 put greeting=hello: OK in ' || die "put greeting hello was not answered OK"
wait_screen '^(x|│) c1  put greeting=hello .* OK ' || die "the history does not show the put"
request 'get greeting'
wait_screen '^ c1 get greeting: "hello" \(version 1\)' || die "get greeting did not read \"hello\" at version 1"
wait_screen '^(x|│) c1  get greeting +"hello" v1 .* OK ' || die "the history does not show the get"
request 'append greeting x'
wait_screen '^ etcd has no append' || die "append on etcd was not refused in the hub's words"
keys K
wait_screen '(✓|\[ok\]) .*linearizable' || die "K did not find the history linearizable"

# 80x24: the etcd rows still fit; v switches the key/value and Raft views
TM resize-window -t ui -x 80 -y 24
wait_screen '^(x|│) id state +role +term +vote +leader +index +applied endpoint' ||
	die "at 80x24 the nodes header does not fit"
for i in 1 2 3; do
	node_row "$i" | grep -q -E '127\.0\.0\.1:[0-9]+ ' || { screen; die "at 80x24 node $i's row lost its endpoint"; }
done
wait_screen ' Key/value on etcd: .*v: Raft view' || die "at 80x24 the key/value view is not shown with v to switch"
keys v
wait_screen ' Logs: etcd keeps its log to itself ' || die "at 80x24 v did not switch to the Raft view"
wait_screen ' Network: bytes carried ' || die "at 80x24 the Raft view has no network panel"
keys v
wait_screen ' Key/value on etcd: ' || die "at 80x24 v did not switch back"

keys q
wait_exit 0
restored || die "the terminal was not restored after q"
gone() { [ "$(members)" -eq 0 ]; }
wait_for 100 gone || die "$(members) etcd members of this run are still alive after q"
echo "ok: isolated n$L, n$L2 took over, healed; put and got a key; no member left"

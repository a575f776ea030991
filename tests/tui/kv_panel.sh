# The key/value panel on the live cluster (kind kv): k opens the request
# line ("client 1> "); put, append and get sent from it are answered on the
# bottom line; the panel's replica table shows the key on all five nodes
# with its value and version; the history lists the operations newest
# first with their results; the events name the client "c1" (its requests
# "c1→n3 KvRequest put x", never n1001); Tab at the request line picks a new
# client, made on demand; a bad request is refused with the usage; Enter
# on a node shows its table's size.
. tests/tools/tmuxlib.sh

start_ui 120 40 --seed 3
live_ready
wait_screen ' Key/value: 0 keys, 1 client ' || die "the live cluster has no key/value panel with its one client"
wait_screen '^(x|│)  c1 +1-5 +log +0 idle' || die "the clients table does not show c1 idle, reaching 1-5"

request() {
	keys k
	wait_screen '^client [0-9]+( \(new\))?> ' || die "k did not open the request line"
	keys "$1" Enter
}
request 'put x 1'
wait_screen '^ c1 put x=1: OK in [0-9]+ ms \(n[1-5]' || die "put x 1 was not answered OK on the bottom line"
request 'append x 2'
wait_screen '^ c1 append x\+=2: OK in ' || die "append x 2 was not answered OK"
request 'get x'
wait_screen '^ c1 get x: "12" \(version 2\) in ' || die "get x did not read \"12\" at version 2"

# the replica table: x is 12 at version 2 on every node, not marked as divergent
row_x() { screen | grep -E '^(x|│)  x +12 +v2 +12 +v2 +12 +v2 +12 +v2 +12 +v2 '; }
wait_until "the replica table to show x = 12 v2 on all five nodes" row_x
screen | grep -q -E '^(x|│) (≠|!)x ' && die "x is marked divergent though every replica holds 12 v2"
# the history, newest first
hist=$(screen | grep -E '^(x|│) c1  (get|append|put) ')
echo "$hist"
printf '%s\n' "$hist" | head -n 1 | grep -q -E 'c1  get x +"12" v2 .* OK' || die "the newest history line is not the get of \"12\" v2"
printf '%s\n' "$hist" | sed -n 2p | grep -q -E 'c1  append x\+=2 .* OK' || die "the second history line is not the append"
printf '%s\n' "$hist" | sed -n 3p | grep -q -E 'c1  put x=1 .* OK' || die "the third history line is not the put"
wait_screen '^(x|│) [ >]c1 +1-5 +log +3 idle' || die "the clients table does not count c1's 3 operations"

# the events: op records and the client's messages, named c1
wait_screen 'c1 get x → "12" v2 OK in' || die "the events panel does not show the get's return"
keys f
wait_screen 'Events: messages' || die "f did not switch the events to messages"
keys f
wait_screen 'Events: the selected node' || die "f did not switch the events to the selected node"
keys f
wait_screen 'Events: everything' || die "f did not switch the events to everything"
keys Space
wait_screen ' PAUSED ' || die "space did not pause time"
request 'get x'
# time stands still: the request is sent, its messages are on the screen
wait_screen '#[0-9]+ c1→n[1-5] KvRequest get x' || die "the events do not show c1's request as c1→nN KvRequest get x"
screen | grep -q 'n100[0-9]' && die "a client is shown as a node (n100x)"
wait_screen 'in flight: [1-9][0-9]* \([0-9]+ client\)' || die "the network panel does not count the client's message in flight"
# run on at the slowest speed, so that the reply stays on screen long
# enough to be read before the heartbeats push it out of the events
keys - - - - - - - -
wait_screen ' 0\.05x ' || die "- did not slow time down to 0.05x"
keys Space
wait_gone ' PAUSED ' || die "space did not resume time"
wait_screen '#[0-9]+ n[1-5]→c1 KvReply OK' || die "the events do not show the server's reply to c1"
wait_screen '^ c1 get x: "12"' || die "the get sent while time stood still was not answered"
# speeds 0.05 0.1 0.25 0.5 1: four steps up
for want in 0.1 0.25 0.5 1; do
	keys +
	wait_screen " ${want}x " || die "+ did not raise the speed to ${want}x"
done

# a new client, made on demand with Tab
keys k
wait_screen '^client 1> ' || die "k did not open the request line for client 1"
keys Tab
wait_screen '^client 2 \(new\)> ' || die "Tab did not offer a new client 2"
keys 'put y 5' Enter
wait_screen '^ c2 put y=5: OK in ' || die "the new client 2 did not put y=5"
wait_screen ' Key/value: 2 keys, 2 clients ' || die "the panel title does not count 2 keys and 2 clients"
wait_screen '^(x|│) >c2 +1-5 +log +1 idle' || die "the clients table does not show c2 (the request line's client) with 1 operation"

# a bad request: refused with the usage, nothing sent
keys k 'frobnicate x' Enter
wait_screen '^ not a request +\(put KEY VALUE \[@VERSION\] \| get KEY \| append KEY VALUE \| del KEY \| incr KEY\)' ||
	die "a bad request was not refused with the usage"
keys k 'get' Enter
wait_screen '^ which key\?' || die "get without a key was not refused"
# Esc closes the request line without sending
keys k 'put z 9' Escape
wait_gone '^client [0-9]' || die "Esc did not close the request line"
screen | grep -q 'put z=9' && die "Esc sent the request anyway"

# the detail view of a node shows its table
keys 1 Enter
wait_screen 'key/value: 2 keys, duplicate table [0-9]+ B' || die "the detail view does not show node 1's 2 keys"
keys Escape
wait_gone 'key/value: 2 keys,' || die "Esc did not close the detail view"

keys q
wait_exit 0
restored || die "the terminal was not restored after q"
echo "ok"

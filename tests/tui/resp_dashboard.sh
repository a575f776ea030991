# The dashboard with the RESP gateway (termscope --pace real --resp PORT):
# redis-cli's writes replicate on screen — the status bar shows the
# gateway, the replica table shows the key on all five nodes, the gateway's
# connection is a client of its own in the clients table, its operations
# are in the history — a DEL makes the key vanish from every replica's
# table, and q ends it all: the gateway no longer answers.
. tests/tools/tmuxlib.sh
command -v redis-cli >/dev/null || die "redis-cli is missing (Debian: redis-tools; make test installs it)"

free_port() {
	for try in 1 2 3 4 5 6 7 8; do
		p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		redis-cli -p "$p" ping >/dev/null 2>&1 || { echo "$p"; return 0; }
	done
	return 1
}
port=$(free_port) || die "no free port"
start_ui 120 40 --pace real --resp "$port" --seed 3
live_ready
wait_screen "resp :$port 0 conns" || die "the status bar does not show the gateway"
cli() { redis-cli -p "$port" "$@" 2>&1; }
[ "$(cli set a 1)" = OK ] || die "set a 1 was not answered OK"
[ "$(cli append a 2)" = 2 ] || die "append a 2 did not answer the new length 2"
[ "$(cli incr n)" = 1 ] || die "incr n did not answer 1"

row_a() { screen | grep -E '^(x|│)  a +12 +v2 +12 +v2 +12 +v2 +12 +v2 +12 +v2 '; }
wait_until "the replica table to show a = 12 v2 on all five nodes" row_a
# the gateway's clerk is a client like the dashboard's own c1
wait_screen '^(x|│) [ >]c2 +1-5 +log +3 idle' || die "the clients table does not show the gateway's clerk c2 with 3 operations"
wait_screen '^(x|│) c2  incr n +1 ' || die "the history does not show c2's incr n and its value"
wait_screen '^(x|│) c2  append a\+=2 ' || die "the history does not show c2's append"

[ "$(cli del a)" = 1 ] || die "del a did not answer 1"
gone_a() { ! screen | grep -q -E '^(x|│)  a +'; }
wait_until "a to vanish from every replica's table" gone_a
wait_screen '^(x|│)  n +1 +v1 +1 +v1 ' || die "n is not in the replica table"
wait_screen '^(x|│) c2  del a ' || die "the history does not show c2's del"

keys q
wait_exit 0
cli ping | grep -q PONG && die "the gateway still answers after the dashboard quit"
echo "the dashboard shows the gateway's writes replicate, and a del removes the key everywhere"

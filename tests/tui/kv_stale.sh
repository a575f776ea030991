# A stale read, found by the checker: after s, a client of the majority
# overwrites x, and a client made at the prompt to read locally from a
# replica of the minority reads the old value (its history line says so,
# "(local)").  K checks the history: the panel shows it is not
# linearizable and names the operations (the get that read "1", the put
# of "2" it cannot be ordered with), the bottom line and the events say so
# too; the verdict goes away once the history changes.  Before any of
# this, K on the linearizable history says so.
. tests/tools/tmuxlib.sh

start_ui 120 40 --seed 3
live_ready
L=$(leader)
M=$((L % 5 + 1))
MAJ=""
for i in 1 2 3 4 5; do
	[ "$i" = "$L" ] || [ "$i" = "$M" ] || MAJ="$MAJ${MAJ:+,}$i"
done
echo "leader $L; minority {$L,$M}; majority {$MAJ}"

keys k 'put x 1' Enter
wait_screen '^ c1 put x=1: OK in ' || die "put x 1 was not answered OK"
keys K
wait_screen '^(x|│) (✓|\[ok\]) linearizable: 1 operation' || die "K on one put did not show a linearizable verdict in the panel"

keys s
wait_screen "groups \\{[0-9,]+\\} \\{[0-9,]+\\}" || die "s did not split the cluster"
keys : "c2 = c:client{reach={$MAJ}}" Enter
wait_screen '^(x|│) [ >]c2 +\{' || die "the prompt's client c2 is not in the clients table"
keys : "c3 = c:client{reach={$M}, reads=\"local\"}" Enter
wait_screen "^(x|│) [ >]c3 +\\{$M\\} +local " || die "the prompt's local-read client c3 is not shown reading locally from {$M}"
# a new client changed the history?  No: the verdict stands until an operation does
screen | grep -q -E '^(x|│) (✓|\[ok\]) linearizable' || die "the verdict went away without a new operation"

keys k Tab
wait_screen '^client 2> ' || die "Tab did not move the request line to client 2"
keys 'put x 2' Enter
wait_screen '^ c2 put x=2: OK in ' || die "the majority's client c2 did not put x=2"
wait_gone '^(x|│) (✓|\[ok\]) linearizable' || die "the verdict stayed after the history changed"
keys k Tab
wait_screen '^client 3> ' || die "Tab did not move the request line to client 3"
keys 'get x' Enter
wait_screen '^ c3 get x: "1" \(version 1\) in .*a local read' || die "c3's local read did not return the stale \"1\""
wait_screen '^(x|│) c3  get x \(local\) +"1" v1 ' || die "the history does not show c3's local get of \"1\""

keys K
wait_screen '^ key x: not linearizable' || die "K did not say on the bottom line that x is not linearizable"
wait_screen '^(x|│) (✗|\[X\]) key x: not linearizable \(3 operations' || die "the panel does not show the verdict on x"
wait_screen 'get\(x\) -> "1" v1 by client 3' || die "the explanation does not name c3's get of \"1\""
wait_screen 'cannot be ordered with' || die "the explanation does not say what the get cannot be ordered with"
wait_screen 'put\(x, "2"\) by client 2' || die "the explanation does not name c2's put of \"2\""
wait_screen 'check: NOT linearizable: key x' || die "the events panel does not show the check's verdict"

# the history changes: the verdict goes
keys k Tab Tab Tab
wait_screen '^client 2> ' || die "Tab (3, 4 new, 1, 2) did not bring the request line back to client 2"
keys 'get x' Enter
wait_screen '^ c2 get x: "2"' || die "c2 did not read \"2\""
wait_gone 'not linearizable \(3 operations' || die "the verdict stayed after the history changed"

keys q
wait_exit 0
echo "ok"

# The Lua prompt (:): an expression shows its value on the bottom line;
# Up recalls the previous line; Tab completes c:wai to c:wait (and a unique
# name in full); a Lua error is shown and the dashboard runs on; a runaway
# loop is stopped with a message and the dashboard runs on (a later command
# works); c:partition draws its groups in the network panel.
. tests/tools/tmuxlib.sh

start_ui 120 40 --seed 3
live_ready

# the clock keeps moving: the dashboard is alive
alive_ui() {
	t0=$(clock_ms)
	later() { [ "$(clock_ms)" -gt "$t0" ]; }
	wait_until "the clock to move ($1)" later
}

keys :
wait_screen '^:$' || die ": did not open the prompt on the bottom line"
keys 'c:node(1).role'
wait_screen '^:c:node\(1\)\.role$' || die "what was typed is not on the prompt line"
keys Enter
wait_screen '^ "(follower|candidate|leader)"$' || die "c:node(1).role did not show a quoted role on the bottom line"
bottom

# history
keys : Up
wait_screen '^:c:node\(1\)\.role$' || die "Up at the prompt did not recall the previous line"
keys C-u
wait_screen '^:$' || die "Ctrl-U did not clear the prompt"

# completion: c:wai -> the common prefix c:wait; c:wait_le -> c:wait_leader
keys 'c:wai' Tab
wait_screen '^:c:wait$' || die "Tab did not complete c:wai to c:wait"
keys '_le' Tab
wait_screen '^:c:wait_leader$' || die "Tab did not complete c:wait_le to c:wait_leader"
keys Escape
wait_gone '^:' || die "Esc did not close the prompt"

# an error is shown, and the dashboard runs on
keys : 'error("boom")' Enter
wait_screen '^ .*boom' || die "the Lua error is not shown on the bottom line"
alive_ui "after a Lua error"
screen | grep -q -E '^(x|│) \*[1-5] up +LEADER ' || die "after a Lua error the leader is no longer shown"

# a runaway loop is stopped with a message, and the dashboard runs on
keys : 'while true do end' Enter
wait_screen '^ .*(endless loop|without waiting|instructions)' 1500 ||
	die "the endless loop was not stopped with a message on the bottom line"
bottom
alive_ui "after the endless loop was stopped"
keys : 'c:node(2).term' Enter
wait_screen '^ [0-9]+$' || die "a command after the endless loop did not show its value"

# a partition drawn in the network panel
keys : 'c:partition({1,2},{3,4,5})' Enter
wait_screen 'groups \{1,2\} \{3,4,5\}' || die "c:partition({1,2},{3,4,5}) is not drawn as groups {1,2} {3,4,5}"
wait_screen "partition into \\[\\[1,2\\],\\[3,4,5\\]\\]" || die "the events panel does not show the partition"

keys q
wait_exit 0
restored || die "the terminal was not restored after q"
echo "ok"

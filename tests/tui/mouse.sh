# A mouse click on a node's row selects that node: click node 3's row in
# Nodes, open its detail view with Enter; then click node 5's row in Logs.
. tests/tools/tmuxlib.sh

# an SGR (1006) mouse press and release at 1-based column x, row y
click() { keys -l "$(printf '\033[<0;%d;%dM\033[<0;%d;%dm' "$1" "$2" "$1" "$2")"; }

start_ui 120 40 --seed 9
live_ready
# screen rows: 1 status, 2 the Nodes frame, 3 its header, 4.. nodes 1..5
click 6 6
keys Enter
wait_screen 'Node 3  \(Enter or Esc' || die "a click on node 3's row did not select it"
keys Escape
wait_gone 'Node 3  \(Enter or Esc' || die "Esc did not close the detail view"
# Logs: frame at row 10, ruler row 11, nodes 1..5 on rows 12..16
click 3 16
keys Enter
wait_screen 'Node 5  \(Enter or Esc' || die "a click on node 5's log row did not select it"
keys Escape q
wait_exit 0 || die "q did not exit 0"
restored || die "the terminal was not restored"
echo "ok: clicks select nodes"

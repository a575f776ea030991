# The MapReduce board (kind mr): a scenario starts a coordinator and three
# workers on a small corpus at a slow rate (a map takes about half a
# virtual second, at 2x).  The Nodes panel shows n1 as the coordinator and the workers
# with what they do (no Raft roles, no Logs panel); the board shows the
# phase, the counts and the map and reduce grids, tasks in progress as
# "nN 1.2s".  With time stopped, a busy worker is crashed with its key (c):
# its row says CRASHED and its task stays "in progress" on the board, marked
# with a cross, until the timeout hands it to another worker (marked ↻);
# r restarts the worker, z pauses and resumes another; the job completes
# (every cell a check, "done at", the coordinator exited) and the events
# say it in words.  The help and the key hints are MapReduce's; k and t say
# why they do not apply.  Then at 80x24 the board renders beside the nodes
# and the events, tasks in progress included.
. tests/tools/tmuxlib.sh

# ---- the inputs: up to 8 files of assets/corpus, else a generated corpus ----
mkdir -p "$WORK/corpus"
n=0
for f in "$PWD"/assets/corpus/*.txt; do
	[ -f "$f" ] || continue
	[ "$(wc -c <"$f")" -le 262144 ] || continue       # a map runs for real: keep them small
	ln -s "$f" "$WORK/corpus/$(basename "$f")"
	n=$((n + 1))
	[ "$n" -ge 8 ] && break
done
if [ "$n" -lt 3 ]; then
	rm -f "$WORK"/corpus/*
	if "$TERMSCOPE" corpus --files 8 "$WORK/corpus" >/dev/null 2>&1; then
		:
	else                                   # no corpus subcommand: words of our own
		for i in 0 1 2 3 4 5 6 7; do
			awk -v s="$i" 'BEGIN { srand(s + 1); split("the of map reduce worker task key value file word", w, " ");
				for (l = 0; l < 400; l++) { line = ""; for (k = 0; k < 10; k++) line = line w[int(rand() * 10) + 1] " "; print line } }' \
				>"$WORK/corpus/text-0$i.txt"
		done
	fi
fi
M=$(ls "$WORK"/corpus/*.txt | wc -l)
[ "$M" -ge 3 ] || die "no inputs for the job"
# a map task takes about half a virtual second (the rate: twice the largest
# file a second), a reduce a second or two, well within the timeout (4 s)
RATE=$(wc -c "$WORK"/corpus/*.txt | awk '$2 != "total" && $1 > m { m = $1 } END { print 2 * m }')
R=8
echo "$M inputs, rate $RATE B/s, $R reduce tasks"

cat >"$WORK/mr.lua" <<LUA
local c = ts.cluster{ kind = "mr", workers = 3, app = "wc", inputs = "$WORK/corpus/*.txt",
                      reduces = $R, timeout = 4, rate = $RATE, seed = 7 }
c:wait_done(600)
print("the job is done: " .. #c:output() .. " words counted")
LUA

start_ui 120 40 run "$WORK/mr.lua" --seed 7 --speed 2
wait_screen ' MapReduce wc: ' || die "no MapReduce board"
wait_screen ' Nodes: n1 the coordinator, n2-n4 workers ' || die "the Nodes panel does not name the coordinator and the workers"
wait_screen "^(x|│) (map|reduce) phase +maps [0-9]+/$M +reduces [0-9]+/$R " ||
	die "the board's summary does not show the phase and the counts of $M maps and $R reduces"
workers_up() { for i in 2 3 4; do [ "$(node_word "$i" 2)" = up ] || return 1; done; }
wait_until "the three workers up" workers_up
s=$(screen)
node_row 1 - <<EOF | grep -q -E '^ 1 up +coordinator +(map|reduce) phase' || die "n1's row does not show the coordinator and its phase"
$s
EOF
for i in 2 3 4; do
	printf '%s\n' "$s" | node_row "$i" - | grep -q -E "^ $i up +worker " || { printf '%s\n' "$s"; die "n$i's row does not show a worker"; }
done
printf '%s\n' "$s" | grep -q -E ' Logs |LEADER|follower|election timer' && { printf '%s\n' "$s"; die "Raft's logs or roles are shown for a MapReduce cluster"; }
bottom | grep -q -E '^ 1-9 node +c crash +r restart +z pause +p isolate' || { screen; die "the key hints are not MapReduce's"; }

# tasks in progress: a cell "N nW 1.2s" on the board, a worker mapping
in_progress() { screen | grep -q -E '^(x|│) (map|reduce| ) +.*[0-9] n[2-4] [0-9]+(\.[0-9])?s '; }
wait_until "a task in progress on the board (nW 1.2s)" in_progress

# stop time, crash a busy worker with its key
keys Space
wait_screen ' PAUSED ' || die "space did not stop time"
busy=""
for i in 2 3 4; do
	case $(node_word "$i" 4) in mapping | reducing) busy=$i; break ;; esac
done
[ -n "$busy" ] || { screen; die "no worker is mapping or reducing"; }
N=$busy
TASK=$(node_row "$N" | awk '{ print $5, $6 }')
echo "crash n$N, in $TASK"
keys "$N" c
crashed() { [ "$(node_word "$N" 2)" = CRASHED ]; }
wait_until "n$N CRASHED after $N c" crashed
# its task stays in progress on the board, marked: the coordinator cannot know
wait_screen "[0-9] n$N✗ [0-9.]+s" || die "the board does not mark n$N's task as held by a crashed worker"
node_row "$N" | grep -q -E "$TASK stuck until the 4\.0s timeout" || { screen; die "n$N's row does not say $TASK is stuck until the timeout"; }
wait_screen "n$N crashed" || die "the events do not show n$N's crash"
keys Space
wait_gone ' PAUSED ' || die "space did not let time run"

# the timeout: the task goes to another worker, marked as re-executed
wait_screen 'timed out: idle again' 1500 || die "the events do not show the task timing out"
wait_screen '[0-9]↻(n[2-4] |✓ n[2-4]|idle)' 1500 || die "the board does not mark the re-executed task (↻)"
screen | grep -q "n$N✗" && die "the task is still held by the crashed n$N after the timeout"
# r restarts the worker: it asks for work again
keys r
up() { [ "$(node_word "$N" 2)" = up ]; }
wait_until "n$N up again after r" up

# z pauses another worker (shown paused), z again resumes it
P=2
[ "$N" = 2 ] && P=3
keys "$P" z
paused() { [ "$(node_word "$P" 2)" = paused ]; }
wait_until "n$P paused after $P z" paused
keys z
resumed() { [ "$(node_word "$P" 2)" = up ] || [ "$(node_word "$P" 2)" = exited ]; }
wait_until "n$P running again after z" resumed

# keys that do not apply say so; the help is MapReduce's
keys k
wait_screen '^ k sends a request to a Raft or key/value cluster; this one runs a MapReduce job' ||
	die "k on a MapReduce cluster does not say why it does nothing"
keys t
wait_screen '^ t times out a Raft node' || die "t on a MapReduce cluster does not say why it does nothing"
keys '?'
wait_screen 'MapReduce clusters \(kind mr\): n1 the coordinator' || die "the help has no MapReduce section"
wait_screen 'crash the selected worker' || die "the help does not say what c does to a worker"
keys Escape
wait_gone ' Keys ' || die "Esc did not close the help"

# the job completes
wait_screen "^(x|│) ✓ (job )?done at [0-9.]+s +maps $M/$M +reduces $R/$R +intermediate [0-9.]+ [KM]?B +output [0-9.]+ [KM]?B" 3000 ||
	die "the board never showed the job done with every task counted"
checks=$(screen | grep -E '^(x|│) (map|reduce| ) ' | grep -o -E '[0-9]( |↻)✓ n[2-4]' | wc -l)
[ "$checks" -eq $((M + R)) ] || { screen; die "$checks cells show a check, expected $((M + R))"; }
wait_screen 'job done: every reduce task finished' || die "the events do not say the job is done"
coord_gone() { [ "$(node_word 1 2)" = exited ]; }
wait_until "the coordinator exited" coord_gone
wait_screen 'n1 exits: job done' || die "the events do not say n1 exits"
wait_screen '^ the script finished' || die "the scenario did not finish"
keys f
wait_screen 'Events: messages' || die "f did not switch the events to messages"
wait_screen '#[0-9]+ n1→n[2-4] MrOrder: n[2-4] (maps task [0-9]+ \([^)]+\.txt\)|reduces task [0-9]+|exits: the job is done)' ||
	die "the messages are not in words (MrOrder: nW maps task N (file))"
keys q
wait_exit 0
restored || die "the terminal was not restored after q"
stop_ui

# ---- 80x24: the board between the nodes and the events -----------------------
start_ui 80 24 run "$WORK/mr.lua" --seed 7
wait_screen ' MapReduce wc: ' || die "no MapReduce board at 80x24"
wait_until "a task in progress on the board at 80x24" in_progress
s=$(screen)
for pat in ' Nodes: n1 the coordinator' "^(x|│) (map|reduce) phase +maps [0-9]+/$M +reduces [0-9]+/$R" \
	'^(x|│) map +0 ' '^(x|│) reduce +0 ' ' Events: ' ' Network ' '^ 1-9 node +c crash'; do
	printf '%s\n' "$s" | grep -q -E -- "$pat" || { printf '%s\n' "$s"; die "at 80x24 the screen lacks: $pat"; }
done
for i in 1 2 3 4; do
	[ -n "$(printf '%s\n' "$s" | node_row "$i" -)" ] || { printf '%s\n' "$s"; die "at 80x24 n$i's row is missing"; }
done
keys q
wait_exit 0
restored || die "the terminal was not restored after q at 80x24"
echo "ok"

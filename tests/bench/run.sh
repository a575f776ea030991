#!/bin/sh
# run.sh — `make bench`: figures, printed; nothing is asserted about wall time.
#   the Raft scenario suite's wall time (release build, one at a time)
#   virtual seconds per wall second: an idle 5-node cluster, 1,000 commands
#   messages per committed command; controller and node peak RSS
#   the dashboard: controller CPU share and RSS over 20 s of a live cluster
#   key/value (kv.lua): virtual ms and messages per op, ops per virtual second
#   with 5 clients, snapshots under maxraftstate, the kvsrv duplicate table,
#   the checker on a recorded history
#   the linearizability checker on generated histories of 1k-100k ops, one
#   key and 100 keys, legal and with a stale read (build/bench/lincheck)
#   MapReduce (mr.sh): word count over a generated 50 MB corpus with 1 and 2
#   workers, mr-seq and tr | sort | uniq -c on the same files
set -u
cd "$(dirname "$0")/../.."
TERMSCOPE=${TERMSCOPE:-./termscope}
echo "== termscope bench ($(nproc) cores, $(uname -m))"
"$TERMSCOPE" run tests/bench/raft.lua --headless --seed 1 || exit 1
TERMSCOPE="$TERMSCOPE" sh tests/bench/dashboard.sh
t0=$(date +%s.%N)
n=0
for f in tests/scenarios/3*.lua; do
	[ -e "$f" ] || continue
	seed=$(sed -n 's/^-- seed: *\([0-9][0-9]*\).*/\1/p' "$f" | head -n 1)
	"$TERMSCOPE" run "$f" --headless --seed "${seed:-1}" >/dev/null 2>&1 || echo "(scenario $f failed)"
	n=$((n + 1))
done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "raft_scenarios %d scenarios %.1f wall_s\n", n, b - a }'
"$TERMSCOPE" run tests/bench/kv.lua --headless --seed 1 || echo "(tests/bench/kv.lua failed)"
if MAKEFLAGS= make -s --no-print-directory build/bench/lincheck >/dev/null; then
	build/bench/lincheck
else
	echo "(build/bench/lincheck did not build)"
fi
TERMSCOPE="$TERMSCOPE" sh tests/bench/mr.sh
TERMSCOPE="$TERMSCOPE" sh tests/bench/compare.sh

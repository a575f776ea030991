# mr.sh — MapReduce word count over a generated 50 MB corpus, in real pace
# (the workers run side by side on the wall clock): the whole job with 1
# and 2 workers (wall time, MB/s, the speed-up), the sequential reference
# (termscope mr-seq) and `tr -cs A-Za-z '\n' | sort | uniq -c` on the same
# files.  Figures only; nothing is asserted.
set -u
TERMSCOPE=${TERMSCOPE:-./termscope}
MB=${MR_BENCH_MB:-50}
W=$(mktemp -d "${TMPDIR:-/tmp}/termscope-mrbench-XXXXXX")
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }
"$TERMSCOPE" corpus --files 8 --mb "$(awk -v m="$MB" 'BEGIN { print m / 8 }')" --seed 5 "$W/in" >/dev/null || {
	echo "(mr bench: corpus failed)"; exit 0; }
bytes=$(cat "$W"/in/*.txt | wc -c)
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
cat >"$W/job.lua" <<LUA
local workers = tonumber(os.getenv("MR_WORKERS"))
local c = ts.cluster({ kind = "mr", workers = workers, app = "wc", inputs = "$W/in/*.txt",
                       reduces = 10, timeout = 60 }, "real")
local t0 = ts.wall()
local j = c:wait_done(3600)
local out = io.open("$W/out-" .. workers, "w")
for _, line in ipairs(c:output()) do out:write(line, "\n") end
out:close()
local runs = 0
for _, t in ipairs(c:tasks()) do runs = runs + t.runs end
print(string.format("%.3f %.3f %d %d", (ts.wall() - t0) / 1000, c:time(), j.intermediate_bytes, runs))
LUA
for w in 1 2; do
	t0=$(now)
	r=$(MR_WORKERS=$w "$TERMSCOPE" run "$W/job.lua" --headless --seed 1) || { echo "(mr bench: job with $w workers failed)"; continue; }
	t1=$(now)
	set -- $r
	awk -v w="$w" -v wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v virt="$2" -v mb="$mb" \
	    -v inter="$3" -v runs="$4" 'BEGIN {
		printf "mr_wc_%d_workers %s MB %.2f job_wall_s %.1f MB_per_wall_s %.0f intermediate_MB %d task_runs (%.2f s with start-up)\n",
		       w, mb, virt, mb / virt, inter / 1048576, runs, wall }'
	eval "virt_$w=$2"
done
[ -n "${virt_1:-}" ] && [ -n "${virt_2:-}" ] &&
	awk -v a="$virt_1" -v b="$virt_2" 'BEGIN { printf "mr_wc_speedup_2_workers %.2fx (%d cores)\n", a / b, '"$(nproc)"' }'
t0=$(now)
"$TERMSCOPE" mr-seq wc "$W"/in/*.txt -o "$W/seq" || echo "(mr bench: mr-seq failed)"
t1=$(now)
awk -v a="$t0" -v b="$t1" -v mb="$mb" 'BEGIN { printf "mr_seq_wc %.2f wall_s %.1f MB_per_wall_s\n", b - a, mb / (b - a) }'
t0=$(now)
cat "$W"/in/*.txt | tr -cs 'A-Za-z' '\n' | LC_ALL=C sort | uniq -c >"$W/tr" 2>/dev/null
t1=$(now)
awk -v a="$t0" -v b="$t1" -v mb="$mb" 'BEGIN { printf "tr_sort_uniq %.2f wall_s %.1f MB_per_wall_s\n", b - a, mb / (b - a) }'
# the job's output is the sequential reference's
if [ -f "$W/out-1" ] && LC_ALL=C sort "$W/seq" | cmp -s - "$W/out-1"; then
	echo "mr_output_equals_mr_seq yes"
else
	echo "mr_output_equals_mr_seq NO"
fi

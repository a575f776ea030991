# MapReduce without the distribution: `termscope mr-seq` against counts made
# with the shell's own tools, the built-in apps, `termscope corpus` (the same
# seed, the same bytes; sizes and line widths), bad usage (exit 2) and
# broken apps (exit 1 with FILE:LINE or what is missing).
. tests/tools/checklib.sh
case "$TERMSCOPE" in /*) T=$TERMSCOPE ;; *) T=$(pwd)/$TERMSCOPE ;; esac
C=$(pwd)/assets/corpus
set -- "$C"/text-*.txt
[ $# -eq 8 ] || die "assets/corpus holds $# text files, not 8"

# ---- word count: the same as tr | sort | uniq -c --------------------------
expect_exit 0 "$T" mr-seq wc "$@" -o "$WORK/wc.out"
LC_ALL=C sort -c "$WORK/wc.out" || die "mr-seq output is not sorted by key"
cat "$@" | tr -cs 'A-Za-z' '\n' | grep -v '^$' | LC_ALL=C sort | uniq -c |
	awk '{ print $2, $1 }' >"$WORK/wc.ref"
cmp -s "$WORK/wc.out" "$WORK/wc.ref" || {
	diff "$WORK/wc.out" "$WORK/wc.ref" | head -n 10
	die "mr-seq wc differs from tr | sort | uniq -c"
}
[ "$(wc -l <"$WORK/wc.out")" -gt 1000 ] || die "the corpus has too few distinct words"
# the default output is mr-out-0 in the current directory, and no temp file stays
mkdir "$WORK/cwd"
(cd "$WORK/cwd" && "$T" mr-seq wc "$@") || die "mr-seq without -o"
cmp -s "$WORK/cwd/mr-out-0" "$WORK/wc.out" || die "mr-out-0 differs from -o's output"
[ "$(ls "$WORK/cwd")" = "mr-out-0" ] || die "mr-seq left files behind: $(ls "$WORK/cwd")"

# ---- the inverted index ----------------------------------------------------
expect_exit 0 "$T" mr-seq indexer "$@" -o "$WORK/ix.out"
cut -d' ' -f1 "$WORK/ix.out" >"$WORK/ix.words"
cut -d' ' -f1 "$WORK/wc.out" | cmp -s - "$WORK/ix.words" || die "indexer and wc see different words"
# every line: N distinct documents, sorted, each one of the inputs
printf '%s\n' "$@" >"$WORK/inputs"
awk -v inputs="$WORK/inputs" '
	BEGIN { while ((getline f < inputs) > 0) ok[f] = 1 }
	{
		n = split($3, d, ",")
		if (NF != 3 || n != $2 + 0) { print "count: " $0; bad = 1; exit }
		for (i = 1; i <= n; i++) {
			if (!(d[i] in ok)) { print "not an input: " $0; bad = 1; exit }
			if (i > 1 && d[i] <= d[i - 1]) { print "not sorted or repeated: " $0; bad = 1; exit }
		}
	}
	END { exit bad }' "$WORK/ix.out" || die "indexer output is malformed"
# a sample of words checked against the files themselves
for f in "$@"; do
	tr -cs 'A-Za-z' '\n' <"$f" | LC_ALL=C sort -u >"$WORK/$(basename "$f").words"
done
awk 'NR % 97 == 1' "$WORK/ix.out" | while read -r word n docs; do
	want=""
	for f in "$@"; do
		grep -qx "$word" "$WORK/$(basename "$f").words" && want="$want${want:+,}$f"
	done
	[ "$docs" = "$want" ] || { echo "$word: $docs, expected $want"; exit 1; }
done || die "indexer documents differ from the files'"
grep -q "^ta 8 " "$WORK/ix.out" || die "the commonest word is not in all 8 documents"

# ---- the other built-in apps, sequentially ----------------------------------
mkdir "$WORK/apps"
expect_exit 0 "$T" mr-seq jobcount "$@" -o "$WORK/apps/jc.out"
[ "$(cat "$WORK/apps/jc.out")" = "a 8" ] || die "jobcount: $(cat "$WORK/apps/jc.out"), expected a 8"
expect_exit 0 "$T" mr-seq nocrash "$@" -o "$WORK/apps/nc.out"
grep -q "^d xyzzy xyzzy xyzzy xyzzy xyzzy xyzzy xyzzy xyzzy$" "$WORK/apps/nc.out" || die "nocrash: d"
[ "$(cut -d' ' -f1 "$WORK/apps/nc.out" | tr '\n' ' ')" = "a b c d w " ] || die "nocrash keys"
expect_exit 0 "$T" mr-seq mtiming "$@" -o "$WORK/apps/mt.out"
grep -q "^parallel-0 1 1 1 1 1 1 1 1$" "$WORK/apps/mt.out" || die "mtiming: one worker is never parallel"
grep -q "^times-0 0.0 1.0 2.0 3.0 4.0 5.0 6.0 7.0$" "$WORK/apps/mt.out" || die "mtiming: virtual time"
[ "$(ls "$WORK/apps" | grep -c '^mr-timing-map-0-')" -eq 8 ] || die "mtiming leaves a note per map call"
expect_exit 0 "$T" mr-seq rtiming "$@" -o "$WORK/apps/rt.out"
[ "$(tr '\n' ' ' <"$WORK/apps/rt.out")" = "a 1 b 1 c 1 d 1 e 1 f 1 g 1 h 1 i 1 j 1 " ] || die "rtiming"
expect_exit 0 "$T" mr-seq early_exit "$@" -o "$WORK/apps/ee.out"
[ "$(grep -c ' 1$' "$WORK/apps/ee.out")" -eq 8 ] || die "early_exit: a line per file"
expect_exit 1 "$T" mr-seq crash "$@" -o "$WORK/apps/cr.out"
grep -q "crash.lua:[0-9]*: the app crashed the worker (mr.crash)" "$WORK/err" || die "crash.lua crashes"
[ ! -e "$WORK/apps/cr.out" ] || die "a failed job left an output"

# ---- the corpus generator ----------------------------------------------------
expect_exit 0 "$T" corpus "$WORK/c1"
diff -r "$C" "$WORK/c1" | grep -v README | grep -q . && die "the default corpus is not assets/corpus"
expect_exit 0 "$T" corpus --seed 1 --files 3 --mb 0.01 "$WORK/d1"
expect_exit 0 "$T" corpus --mb 0.01 --files 3 --seed 1 "$WORK/d2/deeper"
expect_exit 0 "$T" corpus --seed 2 --files 3 --mb 0.01 "$WORK/d3"
diff -r "$WORK/d1" "$WORK/d2/deeper" >/dev/null || die "the same seed gave different text"
cmp -s "$WORK/d1/text-00.txt" "$WORK/d3/text-00.txt" && die "another seed gave the same text"
cmp -s "$WORK/d1/text-00.txt" "$WORK/d1/text-01.txt" && die "two files are the same"
[ "$(ls "$WORK/d1" | tr '\n' ' ')" = "text-00.txt text-01.txt text-02.txt " ] || die "corpus file names"
target=10486   # 0.01 MiB
for f in "$WORK"/d1/* "$WORK"/d3/*; do
	size=$(wc -c <"$f")
	[ "$size" -le "$target" ] && [ "$size" -gt $((target - 72)) ] || die "$f: $size bytes for $target"
done
for f in "$C"/*.txt; do
	size=$(wc -c <"$f")
	[ "$size" -le 32768 ] && [ "$size" -gt $((32768 - 72)) ] || die "$f: $size bytes for 32768"
done
awk 'length($0) > 70 { print FILENAME ": " length($0); bad = 1 } END { exit bad }' "$C"/*.txt "$WORK"/d1/* ||
	die "lines wider than 70 columns"
grep -q '^[A-Z]' "$C/text-00.txt" && grep -q '[.?!]$' "$C/text-00.txt" && grep -q '^$' "$C/text-00.txt" ||
	die "no sentences or paragraphs"
# a file's text does not depend on how many files there are
expect_exit 0 "$T" corpus --files 2 "$WORK/c2"
cmp -s "$WORK/c2/text-01.txt" "$C/text-01.txt" || die "text-01 depends on --files"

# ---- bad usage: exit 2, one line --------------------------------------------
usage2() {
	expect_exit 2 "$T" "$@"
	[ "$(wc -l <"$WORK/err")" -eq 1 ] || die "'$*': the error is not one line"
	grep -q "usage: termscope" "$WORK/err" || die "'$*': no usage hint"
}
usage2 corpus
usage2 corpus --files 0 "$WORK/x"
usage2 corpus --files 1001 "$WORK/x"
usage2 corpus --files abc "$WORK/x"
usage2 corpus --mb 0 "$WORK/x"
usage2 corpus --mb 2000 "$WORK/x"
usage2 corpus --mb lots "$WORK/x"
usage2 corpus --seed -1 "$WORK/x"
usage2 corpus --frob "$WORK/x"
usage2 corpus "$WORK/x" "$WORK/y"
usage2 corpus "$WORK/x" --files
usage2 mr-seq
usage2 mr-seq wc
usage2 mr-seq wc "$C/text-00.txt" -o
usage2 mr-seq --frob wc "$C/text-00.txt"
[ ! -e "$WORK/x" ] || die "bad usage wrote something"
expect_exit 0 "$T" --help
grep -q "termscope mr-seq APP FILES" "$WORK/out" && grep -q "termscope corpus" "$WORK/out" ||
	die "--help does not show mr-seq and corpus"
expect_exit 0 "$T" corpus --help
expect_exit 0 "$T" mr-seq --help

# ---- broken apps: exit 1, and the message says where or what ----------------
one="$C/text-00.txt"
echo keep >"$WORK/kept"
printf 'function map(f, c)\n  local x = = 1\nend\n' >"$WORK/syntax.lua"
expect_exit 1 "$T" mr-seq "$WORK/syntax.lua" "$one" -o "$WORK/kept"
grep -q "syntax.lua:2:" "$WORK/err" || die "a syntax error names FILE:LINE"
[ "$(cat "$WORK/kept")" = keep ] || die "a failed job touched the output"
printf 'function map(f, c) return {} end\n' >"$WORK/noreduce.lua"
expect_exit 1 "$T" mr-seq "$WORK/noreduce.lua" "$one" -o "$WORK/o"
grep -q "noreduce.lua: the app defines no reduce function" "$WORK/err" || die "a missing reduce is named"
printf 'return { reduce = function(k, v) return "" end }\n' >"$WORK/nomap.lua"
expect_exit 1 "$T" mr-seq "$WORK/nomap.lua" "$one" -o "$WORK/o"
grep -q "nomap.lua: the app defines no map function" "$WORK/err" || die "a missing map is named"
printf 'function map(f, c)\n  return {{"k", c:len()}}\nend\nfunction reduce(k, v)\n  return v.x.y\nend\n' >"$WORK/rt.lua"
expect_exit 1 "$T" mr-seq "$WORK/rt.lua" "$one" -o "$WORK/o"
grep -q "rt.lua:5: attempt to index" "$WORK/err" || die "a runtime error names FILE:LINE"
grep -q "reduce of key 'k'" "$WORK/err" || die "a reduce error names its key"
printf 'return {\n  map = function(f, c) return {{key = "n", value = #c}} end,\n  reduce = function(k, v) return table.concat(v, ",") end,\n}\n' >"$WORK/table.lua"
expect_exit 0 "$T" mr-seq "$WORK/table.lua" "$one" "$one" -o "$WORK/o"
[ "$(cat "$WORK/o")" = "n $(wc -c <"$one" | tr -d ' '),$(wc -c <"$one" | tr -d ' ')" ] || die "a returned-table app"
printf 'function map(f, c) return {{"a", "b"}} end\nfunction reduce(k, v) return string.rep("x", 1 << 30) end\n' >"$WORK/mem.lua"
expect_exit 1 "$T" mr-seq "$WORK/mem.lua" "$one" -o "$WORK/o"
grep -q "mem.lua: out of memory" "$WORK/err" || die "memory exhaustion is reported"
printf 'function map(f, c)\n  while true do pcall(function() while true do end end) end\nend\nfunction reduce() end\n' >"$WORK/loop.lua"
expect_exit 1 "$T" mr-seq "$WORK/loop.lua" "$one" -o "$WORK/o"
grep -q "loop.lua:2: app ran too long" "$WORK/err" || die "a runaway app is stopped"
printf 'function map(f, c) pcall(mr.crash) return {} end\nfunction reduce() end\n' >"$WORK/pc.lua"
expect_exit 1 "$T" mr-seq "$WORK/pc.lua" "$one" -o "$WORK/o"
grep -q "pc.lua:1: the app crashed the worker" "$WORK/err" || die "pcall holds mr.crash"
expect_exit 1 "$T" mr-seq nosuch "$one"
grep -q "no built-in app 'nosuch' (the built-in apps: .*wc" "$WORK/err" || die "an unknown app"
expect_exit 1 "$T" mr-seq "$WORK/absent.lua" "$one"
grep -q "cannot read the app .*absent.lua" "$WORK/err" || die "a missing app file"
expect_exit 1 "$T" mr-seq wc "$WORK/absent.txt"
grep -q "cannot read .*absent.txt" "$WORK/err" || die "a missing input file"
! ls "$WORK" | grep -q '\.tmp-' || die "temp files left behind"
echo "mrseq ok"

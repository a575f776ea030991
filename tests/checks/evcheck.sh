# `termscope check` finds the violations it promises to find.
. tests/tools/checklib.sh
printf '%s\n' '{"t":0,"ev":"hub","seed":1}' \
	'{"t":5,"ev":"role","node":1,"role":"leader","term":2}' \
	'{"t":6,"ev":"role","node":2,"role":"leader","term":2}' >"$WORK/two.jsonl"
expect_exit 1 "$TERMSCOPE" check "$WORK/two.jsonl"
grep -q "two leaders in term 2: node 1 and node 2" "$WORK/out" || die "two leaders"
printf '%s\n' '{"t":0,"ev":"hub","seed":1}' \
	'{"t":5,"ev":"apply","node":1,"index":1,"term":1,"data":"x"}' \
	'{"t":6,"ev":"apply","node":2,"index":1,"term":1,"data":"y"}' \
	'{"t":7,"ev":"apply","node":2,"index":3,"term":1,"data":"z"}' >"$WORK/apply.jsonl"
expect_exit 1 "$TERMSCOPE" check "$WORK/apply.jsonl"
grep -q 'index 1: node 2 applied "y" but node 1 applied "x"' "$WORK/out" || die "apply mismatch"
grep -q 'node 2 applied index 3 but its next index to apply was 2' "$WORK/out" || die "apply order"
printf 'not json\n' >"$WORK/junk.jsonl"
expect_exit 2 "$TERMSCOPE" check "$WORK/junk.jsonl"
expect_exit 2 "$TERMSCOPE" check "$WORK/missing.jsonl"
# a restarted node applies from 1 again; a second cluster starts afresh
printf '%s\n' '{"t":0,"ev":"hub","seed":1}' \
	'{"t":5,"ev":"apply","node":1,"index":1,"term":1,"data":"x"}' \
	'{"t":6,"ev":"spawn","node":1,"incarnation":2,"pid":1}' \
	'{"t":7,"ev":"apply","node":1,"index":1,"term":1,"data":"x"}' \
	'{"t":0,"ev":"hub","seed":2}' \
	'{"t":5,"ev":"apply","node":1,"index":1,"term":1,"data":"other"}' >"$WORK/ok.jsonl"
expect_exit 0 "$TERMSCOPE" check "$WORK/ok.jsonl"
echo "check ok"

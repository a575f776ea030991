#!/bin/sh
# dashboard.sh — the controller's CPU share and peak RSS while the dashboard
# shows a live 5-node cluster for 20 s at 1x (in a private tmux, 120x40).
# Prints figures; asserts nothing about time.
set -u
cd "$(dirname "$0")/../.."
TERMSCOPE=${TERMSCOPE:-./termscope}
BIN=$(cd "$(dirname "$TERMSCOPE")" && pwd)/$(basename "$TERMSCOPE")
SECONDS_TO_WATCH=${SECONDS_TO_WATCH:-20}
SOCK="termscope-bench-$$"
TM() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 'TM kill-server 2>/dev/null' EXIT
TM new-session -d -s b -x 120 -y 40 "TERM=xterm-256color exec '$BIN' --seed 1"
pid=$(TM display -p -t b '#{pane_pid}')
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
t0=$(ticks "$pid")
sleep "$SECONDS_TO_WATCH"
t1=$(ticks "$pid")
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
TM send-keys -t b q
awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$SECONDS_TO_WATCH" -v rss="$rss" 'BEGIN {
	printf "dashboard_controller_cpu %.1f %% of one core (%d s at 1x, 120x40)\n", (b - a) / hz / s * 100, s
	printf "dashboard_controller_peak_rss %d KiB\n", rss
}'

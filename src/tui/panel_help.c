/*
 * panel_help.c — the help overlay (?): every key, and what it does.
 * Sections go in two columns when the screen is wide; when they do not
 * fit, Up/Down/PgUp/PgDn scroll (tui.c passes those keys here) and any
 * other key closes the overlay.  The section of the kind on screen
 * (key/value, etcd, MapReduce) comes right after the keys every cluster
 * has.
 */
#include <string.h>

#include "panel.h"

static const char *lines[] = {
	"Nodes and network",
	"  1-9      select a node (or click its row)",
	"  Enter    the selected node in detail: its state, log, messages, table",
	"  c / r    crash the selected node (SIGKILL) / restart it from its disk",
	"  z        pause / resume the selected node",
	"  p        isolate the selected node / connect it again",
	"  s        split: the selected node (or leader) and the next, a minority",
	"  h        heal every link",
	"  t        the selected node times out now and starts an election",
	"  a        align every follower's election timer (a split vote)",
	"  k        kind raft: submit a command at the leader",
	"Key/value clusters (kinds kv and kvsrv)",
	"  k        a request, as a client:  put KEY VALUE,  get KEY,",
	"           append KEY VALUE,  put KEY VALUE @VERSION (conditional)",
	"           Tab: the next client (after the last: a new one)",
	"  K        check the clients' history for linearizability",
	"           (the verdict stays until the history changes)",
	"  v        on a small screen: the key/value panel or the Raft panels",
	"etcd clusters (kind etcd): real etcd members behind the hub's proxies",
	"  c / r    SIGKILL the member / restart it from its data dir",
	"  z        SIGSTOP the member / SIGCONT it",
	"  p s h    the hub's proxies stall the member's traffic (peers and",
	"           clients alike) / split / let everything flow again",
	"  k        put / get / del as a client, through etcd's HTTP gateway",
	"           (no append or incr: etcd has none); K checks the history",
	"  no t, a  etcd's election timers are its own (cut or kill the leader)",
	"  no time  real time: space . + - do not apply, b cannot rewind",
	"           (etcd runs on the wall clock; a run cannot be replayed)",
	"  Enter    the member: its ids, endpoints, and the bytes it moved",
	"MapReduce clusters (kind mr): n1 the coordinator, n2.. the workers",
	"  c / r    crash the selected worker (its task waits out the timeout,",
	"           then goes to another worker) / restart it (it asks again)",
	"  z        pause a worker: a straggler whose task runs again elsewhere",
	"  p        cut a worker off: its reports never reach the coordinator",
	"  Enter    the node's tasks on the board and its messages",
	"           board: idle dim, \"n3 1.2s\" in progress on n3 for 1.2 s,",
	"           a check: done; a loop mark: re-executed; a cross: its worker",
	"           is down and the task waits for the timeout",
	"Messages in flight",
	"  m / M    select the next / previous message in flight (Esc: none)",
	"  d x D    deliver it now / drop it / duplicate it",
	"Time",
	"  space    pause / resume virtual time   .  the next instant (paused)",
	"  + / -    faster / slower (0.05x to 20x)",
	"  b        rewind 5 virtual seconds (replays the seed and your actions)",
	"Lessons",
	"  L        the lesson menu     n  next step (once the objective holds)",
	"  H        a hint; again, the solution, performed   R  restart the step",
	"Views and the prompt",
	"  f        events: state changes / messages / the selected node / all",
	"           PgUp PgDn End: scroll the events",
	"  w        the next cluster, when a script runs several side by side",
	"  :        Lua prompt: c is the cluster, client(k) a key/value client",
	"           (up/down: history, Tab: complete)",
	"  S        save what you did as a scenario (termscope run FILE --seed N)",
	"  ?        this help          q  quit",
	NULL,
};

static int count(void)
{
	int n = 0;
	while (lines[n])
		n++;
	return n;
}

#define MAX_LINES 128
static const char *shown[MAX_LINES];     /* the lines in the order they are drawn */

/* The section of the kind on screen goes second, after the keys every
 * cluster has: a MapReduce cluster's first, say.  Fills `shown`. */
static void order(const struct tui_view *v)
{
	const char *mine = v->mr ? "MapReduce" : v->etcd ? "etcd" : v->kv ? "Key/value" : NULL;
	int n = count(), k = 0, from = -1, to = -1;
	for (int i = 0; mine && i < n; i++)
		if (lines[i][0] != ' ' && from < 0 && !strncmp(lines[i], mine, strlen(mine)))
			from = i;
		else if (from >= 0 && to < 0 && lines[i][0] != ' ')
			to = i;
	if (from >= 0 && to < 0)
		to = n;
	int second = 1;                      /* where the second section starts */
	while (second < n && lines[second][0] == ' ')
		second++;
	for (int i = 0; i < second && k < MAX_LINES; i++)
		shown[k++] = lines[i];
	for (int i = from; from >= 0 && i < to && k < MAX_LINES; i++)
		shown[k++] = lines[i];
	for (int i = second; i < n && k < MAX_LINES; i++)
		if (i < from || i >= to)
			shown[k++] = lines[i];
}

/* Where the second column starts: the section head nearest the middle. */
static int split_at(int n)
{
	int best = n, bestd = n;
	for (int i = 1; i < n; i++)
		if (shown[i][0] != ' ') {
			int d = i > n - i ? i - (n - i) : (n - i) - i;
			if (d < bestd)
				best = i, bestd = d;
		}
	return best;
}

static void line(struct panel *p, const struct tui_view *v, int y, int x, int width, const char *text)
{
	bool head = text[0] != ' ';
	int a = head ? (int)A_BOLD | ui_attr(v, CP_TITLE, 0) : (int)A_NORMAL;
	wattron(p->win, a);
	ui_print(p->win, y, x, width, "%s", text);
	wattroff(p->win, a);
}

static bool two_columns(const struct panel *p)
{
	return p->w - 4 >= 2 * 74 + 2;
}

static void draw(struct panel *p, const struct tui_view *v)
{
	order(v);
	int n = count(), rows = p->h - 2, inner = p->w - 4;
	bool two = two_columns(p);
	int cut = two ? split_at(n) : n;
	int need = two ? (cut > n - cut ? cut : n - cut) : n;
	bool scrolls = need > rows;
	ui_frame(p, v, scrolls ? "Keys (Up/Down: scroll; any other key closes)" : "Keys (any key closes)");
	if (two) {
		int half = inner / 2;
		for (int i = 0; i < cut && i < rows; i++)
			line(p, v, i + 1, 2, half - 1, shown[i]);
		for (int i = cut; i < n && i - cut < rows; i++)
			line(p, v, i - cut + 1, 2 + half + 1, inner - half - 1, shown[i]);
		return;
	}
	int top = v->help_scroll;
	if (top > n - rows)
		top = n - rows > 0 ? n - rows : 0;
	for (int i = top; i < n && i - top < rows; i++)
		line(p, v, i - top + 1, 2, inner, shown[i]);
	if (scrolls) {
		wattron(p->win, ui_attr(v, CP_DIM, (int)A_DIM));
		if (top > 0)
			ui_print(p->win, 0, p->w - 12, 10, " %s more ", ui_glyph(v, "↑", "^"));
		if (top + rows < n)
			ui_print(p->win, p->h - 1, p->w - 12, 10, " %s more ", ui_glyph(v, "↓", "v"));
		wattroff(p->win, ui_attr(v, CP_DIM, (int)A_DIM));
	}
}

static bool key(struct panel *p, int ch, struct tui_view *v)
{
	int n = count(), rows = p->h - 2, max = n - rows > 0 ? n - rows : 0;
	if (two_columns(p) || max == 0)
		return false;                /* nothing to scroll: the key closes */
	switch (ch) {
	case KEY_DOWN:
		v->help_scroll++;
		break;
	case KEY_UP:
		v->help_scroll--;
		break;
	case KEY_NPAGE:
	case ' ':
		v->help_scroll += rows > 1 ? rows - 1 : 1;
		break;
	case KEY_PPAGE:
		v->help_scroll -= rows > 1 ? rows - 1 : 1;
		break;
	default:
		return false;
	}
	if (v->help_scroll > max)
		v->help_scroll = max;
	if (v->help_scroll < 0)
		v->help_scroll = 0;
	return true;
}

const struct panel_ops panel_help_ops = { "help", draw, key };

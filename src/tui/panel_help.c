/*
 * panel_help.c — the help overlay (?): every key, and what it does.
 */
#include "panel.h"

static const char *lines[] = {
	"Nodes and network",
	"  1-9      select a node (or click its row)",
	"  Enter    the selected node in detail: state, nextIndex/matchIndex, log, messages",
	"  c / r    crash the selected node (SIGKILL) / restart it from its disk",
	"  z        pause / resume the selected node",
	"  p        isolate the selected node / connect it again",
	"  s        split: the selected node (or the leader) and one more in a minority",
	"  h        heal every link",
	"  t        the selected node times out now and starts an election",
	"  a        align every follower's election timer (provokes a split vote)",
	"  k        a client request: submit a command at the leader",
	"Messages in flight",
	"  m / M    select the next / previous message in flight (Esc: none)",
	"  d x D    deliver it now / drop it / duplicate it",
	"Time",
	"  space    pause / resume virtual time      .  the next instant (while paused)",
	"  + / -    faster / slower (0.05x to 20x)",
	"  b        rewind 5 virtual seconds (replays the seed and your actions)",
	"Lessons",
	"  L        the lesson menu     n  next step (once the objective holds)",
	"  H        a hint; again, the solution, performed    R  restart the step",
	"Views",
	"  f        events: state changes / messages / the selected node / all   PgUp PgDn End: scroll",
	"  :        Lua prompt (c is the cluster; up/down: history, Tab: complete)",
	"  S        save what you did as a scenario (termscope run FILE --seed N)",
	"  ?        this help          q  quit",
	NULL,
};

static void draw(struct panel *p, const struct tui_view *v)
{
	ui_frame(p, v, "Keys (any key closes)");
	for (int i = 0; lines[i] && i + 1 < p->h - 1; i++) {
		bool head = lines[i][0] != ' ';
		if (head)
			wattron(p->win, (int)A_BOLD);
		ui_print(p->win, i + 1, 2, p->w - 4, "%s", lines[i]);
		if (head)
			wattroff(p->win, (int)A_BOLD);
	}
}

const struct panel_ops panel_help_ops = { "help", draw, NULL };

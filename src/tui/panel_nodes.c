/*
 * panel_nodes.c — one row per node: state, role, term, vote, commit and
 * applied, log length, and a bar that fills as its election timer runs
 * toward its deadline.  The selected node is drawn reversed.  A kvsrv
 * server has no Raft: its row says so.  A MapReduce cluster's nodes are
 * a coordinator and workers: panel_mr.c draws their rows.
 */
#include <inttypes.h>
#include <string.h>

#include "panel.h"

#define ELECTION_SPAN 600.0      /* the longest election timeout (ms) */

static void draw(struct panel *p, const struct tui_view *v)
{
	if (v->mr && v->hub) {
		/* MapReduce: the coordinator and the workers, no Raft */
		char title[96];
		uint32_t n = hub_size(v->hub);
		snprintf(title, sizeof title, "Nodes: n1 the coordinator, %s%u workers", n > 2 ? "n2-n" : "n", n);
		if (n == 2)
			snprintf(title, sizeof title, "Nodes: n1 the coordinator, n2 the worker");
		ui_frame(p, v, title);
		ui_mr_nodes(p, v);
		return;
	}
	ui_frame(p, v, "Nodes");
	if (!v->hub)
		return;
	WINDOW *w = p->win;
	int inner = p->w - 2;
	/* id state role term vote commit applied log, then the timer bar */
	wattron(w, (int)A_BOLD);
	ui_print(w, 1, 1, inner, " id state    role      term vote commit applied   log  election timer");
	wattroff(w, (int)A_BOLD);
	uint32_t n = hub_size(v->hub);
	uint32_t leader = hub_leader(v->hub);
	bool kvsrv = strcmp(hub_kind(v->hub), "kvsrv") == 0;
	for (uint32_t i = 1; i <= n && (int)i + 1 < p->h - 1; i++) {
		const struct hub_node *nd = hub_node(v->hub, i);
		const struct wire_state *s = &nd->st;
		int y = (int)i + 1;
		bool up = nd->status == HUB_NODE_UP;
		bool isolated = hub_net(v->hub)->isolated[i];
		if (i == v->selected)
			wattron(w, (int)A_REVERSE);
		mvwhline(w, y, 1, ' ', inner);
		int sattr = !up ? (ui_attr(v, CP_DOWN, (int)A_BOLD) | (int)A_BOLD)
			  : nd->paused ? ui_attr(v, CP_PAUSED, (int)A_UNDERLINE) : (int)A_NORMAL;
		/* up but unable to reach a majority: cut off alone, or in a minority */
		bool minority = up && !nd->paused && !isolated && !hub_quorum(v->hub, i);
		const char *state = isolated && up && !nd->paused ? "cut-off" : minority ? "minority" : ui_status_name(nd);
		if ((isolated && up) || minority)
			sattr = ui_attr(v, CP_CUT, (int)A_BOLD);
		ui_print(w, y, 1, inner, " %s%u", i == leader ? "*" : " ", i);
		wattron(w, sattr);
		ui_print(w, y, 5, 8, "%-8s", state);
		wattroff(w, sattr);
		if (up && kvsrv) {
			/* kind kvsrv: one server, no Raft underneath */
			ui_print(w, y, 14, inner - 13, "%-9s %5s %4s %6s %7s %5s  %s", "server", "-", "-", "-", "-", "-",
				 "one server, no Raft");
		} else if (up) {
			const char *role = raft_role_name((enum raft_role)s->role);
			int rattr = ui_role_attr(v, s->role);
			wattron(w, rattr);
			ui_print(w, y, 14, 9, "%-9s", s->role == RAFT_LEADER ? "LEADER" : role);
			wattroff(w, rattr);
			char vote[16] = "-";
			if (s->voted_for)
				snprintf(vote, sizeof vote, "%u", s->voted_for);
			ui_print(w, y, 23, inner - 22, "%5" PRIu64 " %4s %6" PRIu64 " %7" PRIu64 " %5" PRIu64 "  ",
				 s->term, vote, s->commit, s->applied, hub_last_index(nd));
			int bx = 56;
			int bw = inner - bx - 1;
			if (bw > 40)
				bw = 40;
			if (bw >= 4) {
				wmove(w, y, bx);
				if (s->role == RAFT_LEADER) {
					wattron(w, ui_role_attr(v, RAFT_LEADER));
					waddnstr(w, "heartbeats", bw);
					wattroff(w, ui_role_attr(v, RAFT_LEADER));
				} else if (!nd->paused && s->election_deadline != RAFT_NO_DEADLINE) {
					double left = (double)s->election_deadline - (double)v->clock;
					double f = 1.0 - left / ELECTION_SPAN;
					ui_bar(w, v, bw, f, f > 0.8 ? ui_attr(v, CP_CANDIDATE, (int)A_BOLD) : (int)A_NORMAL);
				}
			}
		} else if (nd->status == HUB_NODE_FAILED) {
			ui_print(w, y, 14, inner - 13, "%s", nd->why);
		}
		if (i == v->selected)
			wattroff(w, (int)A_REVERSE);
	}
}

const struct panel_ops panel_nodes_ops = { "nodes", draw, NULL };

/*
 * panel_nodes.c — one row per node: state, role, term, vote, commit and
 * applied, log length, and a bar that fills as its election timer runs
 * toward its deadline.  The selected node is drawn reversed.  A kvsrv
 * server has no Raft: its row says so.  A MapReduce cluster's nodes are
 * a coordinator and workers: panel_mr.c draws their rows.
 *
 * etcd members are rows of what their status last said, nothing more: no
 * log length (the hub mirrors no entries) and no election timer (etcd
 * keeps its timers to itself).  A follower that names no leader says so
 * ("no leader"): it has lost its leader, or not heard from one yet.
 */
#include <inttypes.h>
#include <string.h>

#include "panel.h"

#define ELECTION_SPAN 600.0      /* the longest election timeout (ms) */

/* The state column: crashed, paused, cut off alone, or up but unable to
 * reach a majority (in a minority).  *attr gets its colour. */
static const char *state_of(const struct tui_view *v, uint32_t i, int *attr)
{
	const struct hub_node *nd = hub_node(v->hub, i);
	bool up = nd->status == HUB_NODE_UP;
	bool isolated = hub_net(v->hub)->isolated[i];
	*attr = !up ? (ui_attr(v, CP_DOWN, (int)A_BOLD) | (int)A_BOLD)
	      : nd->paused ? ui_attr(v, CP_PAUSED, (int)A_UNDERLINE) : (int)A_NORMAL;
	bool minority = up && !nd->paused && !isolated && !hub_quorum(v->hub, i);
	if ((isolated && up) || minority)
		*attr = ui_attr(v, CP_CUT, (int)A_BOLD);
	return isolated && up && !nd->paused ? "cut-off" : minority ? "minority" : ui_status_name(nd);
}

/* A node's row up to its state: reversed when selected, * on the leader. */
static void row_start(WINDOW *w, const struct tui_view *v, uint32_t i, uint32_t leader, int inner)
{
	int y = (int)i + 1, sattr;
	if (i == v->selected)
		wattron(w, (int)A_REVERSE);
	mvwhline(w, y, 1, ' ', inner);
	const char *state = state_of(v, i, &sattr);
	ui_print(w, y, 1, inner, " %s%u", i == leader ? "*" : " ", i);
	wattron(w, sattr);
	ui_print(w, y, 5, 8, "%-8s", state);
	wattroff(w, sattr);
}

/*
 * kind etcd.  The columns: " *1 " id, state 8, role 9, then term, vote and
 * the leader it names, its raft index (committed) and applied index; the
 * db size when the hub has it; the high half of etcd's 64-bit member id in
 * hex; and the endpoint etcdctl takes (through the hub's proxy).  Narrow,
 * the member id goes first, then the db size: the endpoint is what a
 * person copies to reach the member.
 */
#define ETCD_FIXED 55            /* inner columns 1..55: up to the applied index */
#define ETCD_DB 8
#define ETCD_MEMBER 9
#define ETCD_ENDPOINT 16         /* " 127.0.0.1:PORT" */

static const char *etcd_role(const struct wire_state *s)
{
	/* a follower that names no leader has lost it (or not met it yet) */
	return s->role == RAFT_LEADER ? "LEADER" : s->role == RAFT_CANDIDATE ? "candidate"
	       : s->leader ? "follower" : "no leader";
}

static void draw_etcd(struct panel *p, const struct tui_view *v)
{
	ui_frame(p, v, "Nodes: etcd members (polled from each one's status)");
	WINDOW *w = p->win;
	const struct hub *h = v->hub;
	uint32_t n = hub_size(h), leader = hub_leader(h);
	int inner = p->w - 2;
	bool sized = false;                  /* does the hub know their db sizes? */
	for (uint32_t i = 1; i <= n; i++)
		sized = sized || hub_node(h, i)->st.raft_bytes > 0;
	bool db = sized && inner >= ETCD_FIXED + ETCD_DB + ETCD_ENDPOINT;
	bool member = inner >= ETCD_FIXED + (db ? ETCD_DB : 0) + ETCD_MEMBER + ETCD_ENDPOINT;
	wattron(w, (int)A_BOLD);
	ui_print(w, 1, 1, inner, " id state    role      term vote leader   index applied%s%s endpoint",
		 db ? " db size" : "", member ? " member  " : "");
	wattroff(w, (int)A_BOLD);
	for (uint32_t i = 1; i <= n && (int)i + 1 < p->h - 1; i++) {
		const struct hub_node *nd = hub_node(h, i);
		const struct wire_state *s = &nd->st;
		int y = (int)i + 1;
		bool up = nd->status == HUB_NODE_UP;
		/* polled at least once: its numbers are its own */
		bool known = up && s->term > 0;
		row_start(w, v, i, leader, inner);
		int x = ETCD_FIXED + 1;              /* the optional columns, then the endpoint */
		int ex = x + (db ? ETCD_DB : 0) + (member ? ETCD_MEMBER : 0);
		if (nd->status == HUB_NODE_FAILED) {
			ui_print(w, y, 14, ex - 14, "%s", nd->why);
		} else if (known) {
			/* a paused member is not polled: what it said before */
			int dim = nd->paused ? ui_attr(v, CP_DIM, (int)A_DIM) : 0;
			int rattr = ui_role_attr(v, s->leader || s->role != RAFT_FOLLOWER ? s->role : RAFT_CANDIDATE);
			wattron(w, rattr | dim);
			ui_print(w, y, 14, 9, "%-9s", etcd_role(s));
			wattroff(w, rattr | dim);
			char vote[16] = "-", lead[16] = "-";
			if (s->voted_for)
				snprintf(vote, sizeof vote, "n%u", s->voted_for);
			if (s->leader)
				snprintf(lead, sizeof lead, "n%u", s->leader);
			wattron(w, dim);
			ui_print(w, y, 24, inner - 23, "%4" PRIu64 " %4s %6s %7" PRIu64 " %7" PRIu64, s->term, vote, lead,
				 s->commit, s->applied);
			if (db) {
				char size[24];
				ui_print(w, y, x, ETCD_DB, " %7s", ui_size(s->raft_bytes, size, sizeof size));
			}
			wattroff(w, dim);
		} else if (up) {
			wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
			ui_print(w, y, 14, ex - 14, "%s", "(not polled yet)");
			wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
		}
		/* who it is and where to reach it, whatever its state */
		if (member) {
			uint64_t mid = hub_etcd_member_id(h, i);
			char ms[24] = "-";
			if (mid)
				snprintf(ms, sizeof ms, "%08" PRIx64, mid >> 32);
			ui_print(w, y, ex - ETCD_MEMBER, ETCD_MEMBER, " %-8s", ms);
		}
		int dim = up && !nd->paused ? 0 : ui_attr(v, CP_DIM, (int)A_DIM);
		wattron(w, dim);
		ui_print(w, y, ex, inner - ex + 1, " 127.0.0.1:%d", hub_etcd_client_port(h, i));
		wattroff(w, dim);
		if (i == v->selected)
			wattroff(w, (int)A_REVERSE);
	}
}

static void draw(struct panel *p, const struct tui_view *v)
{
	if (v->etcd && v->hub) {
		draw_etcd(p, v);
		return;
	}
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
		row_start(w, v, i, leader, inner);
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

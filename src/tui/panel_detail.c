/*
 * panel_detail.c — everything about the selected node (Enter opens it,
 * Enter or Esc closes it): its state, nextIndex/matchIndex when it leads,
 * a key/value node's table size and snapshot, its log with the commands
 * (entries compacted into the snapshot as one line), and its recent
 * messages (clients' requests and replies among them).  A MapReduce node
 * has no Raft: its role and what it is doing, and the tasks the board
 * gives it (every task, for the coordinator).  An etcd member has no log
 * we can see: what its status endpoint says, where to reach it, the bytes
 * the hub's proxies carried for it, and the events about it.
 */
#include <inttypes.h>
#include <string.h>

#include "panel.h"

/* Its recent messages, newest at the bottom, in rows [y, y + rows). */
static void messages(struct panel *p, const struct tui_view *v, int y, int rows, int x, int width)
{
	WINDOW *w = p->win;
	int row = y + rows - 1;
	int64_t id = v->selected;
	int mine = hub_number(v->hub);           /* the cluster on screen's only */
	for (size_t k = evlog_count(v->log); k > 0 && row >= y; k--) {
		if (evlog_source(v->log, k - 1) != mine)
			continue;
		json_t *ev = evlog_get(v->log, k - 1);
		const char *name = json_string_value(json_object_get(ev, "ev"));
		if (!name || strcmp(name, "send") != 0)
			continue;
		int64_t from = json_integer_value(json_object_get(ev, "from"));
		int64_t to = json_integer_value(json_object_get(ev, "to"));
		if (from != id && to != id)
			continue;
		char line[256];
		ui_event_text(v, ev, line, sizeof line);
		ui_print(w, row--, x, width, "%s", line);
	}
}

static const char *task_name(const struct hub_mr_task *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s %u", t->type == MR_MAP ? "map" : "reduce", t->id);
	return buf;
}

/* kind mr: the node's part in the job, then its tasks beside its messages. */
static void draw_mr(struct panel *p, const struct tui_view *v, const struct hub_node *nd)
{
	WINDOW *w = p->win;
	const struct hub *h = v->hub;
	const struct hub_mr *mr = hub_mr(h);
	int inner = p->w - 2, y = 1;
	uint32_t id = v->selected;
	char a[24], b[24], c[24], tn[32];
	ui_print(w, y++, 2, inner - 1, "status %-8s incarnation %u  pid %d  messages in %" PRIu64 " out %" PRIu64 "%s%s",
		 ui_status_name(nd), nd->incarnation, nd->pid, nd->msgs_in, nd->msgs_out,
		 nd->status == HUB_NODE_FAILED ? "  why: " : "", nd->status == HUB_NODE_FAILED ? nd->why : "");
	if (id == 1) {
		uint32_t md = 0, rd = 0;
		for (uint32_t i = 0; mr->tasks && i < mr->n_map + mr->n_reduce; i++)
			if (mr->tasks[i].state == MR_FINISHED)
				*(i < mr->n_map ? &md : &rd) += 1;
		wattron(w, ui_attr(v, CP_LEADER, (int)A_BOLD) | (int)A_BOLD);
		ui_print(w, y, 2, 12, "coordinator");
		wattroff(w, ui_attr(v, CP_LEADER, (int)A_BOLD) | (int)A_BOLD);
		ui_print(w, y++, 14, inner - 13, " %s phase: maps %u/%u done, reduces %u/%u done",
			 mr->have ? mr_phase_name((enum mr_phase)mr->phase) : "no", md, mr->n_map, rd, mr->n_reduce);
		ui_print(w, y++, 2, inner - 1, "a task not reported done within %s goes to the next worker that asks",
			 ui_mr_timeout(h) ? ui_secs(ui_mr_timeout(h), a, sizeof a) : "the timeout");
		ui_print(w, y++, 2, inner - 1, "intermediate %s (the maps wrote), output %s (the reduces wrote)",
			 ui_size(mr->intermediate_bytes, a, sizeof a), ui_size(mr->output_bytes, b, sizeof b));
	} else {
		static const char *const doing[] = { "asking for a task", "mapping", "reducing", "waiting (nothing to hand out)" };
		const struct hub_mr_worker *wk = &mr->workers[id];
		ui_print(w, y, 2, 12, "worker");
		if (nd->status != HUB_NODE_UP) {
			ui_print(w, y++, 14, inner - 13, " %s; %" PRIu64 " tasks done", ui_status_name(nd), wk->tasks_done);
		} else if (wk->state == WIRE_MRW_MAPPING || wk->state == WIRE_MRW_REDUCING) {
			const char *in = wk->type == MR_MAP ? ui_mr_input(h, wk->task) : NULL;
			ui_print(w, y++, 14, inner - 13, " %s task %u%s%s%s for %s", doing[wk->state], wk->task, in ? " (" : "",
				 in ? in : "", in ? ")" : "", ui_secs(v->clock > wk->since ? v->clock - wk->since : 0, a, sizeof a));
			ui_print(w, y++, 2, inner - 1, "the task reads %s and writes %s;  tasks done before it: %" PRIu64,
				 ui_size(wk->bytes_in, b, sizeof b), ui_size(wk->bytes_out, c, sizeof c), wk->tasks_done);
		} else {
			ui_print(w, y++, 14, inner - 13, " %s;  %" PRIu64 " tasks done", doing[wk->state <= 3 ? wk->state : 0],
				 wk->tasks_done);
		}
	}
	y++;
	int half = inner * 3 / 5;
	int rows = p->h - 1 - y - 1;
	wattron(w, (int)A_BOLD);
	ui_print(w, y, 2, half - 2, id == 1 ? "task     state       by  handed  done runs" : "task     state     handed  done runs");
	ui_print(w, y, half + 1, inner - half, "recent messages");
	wattroff(w, (int)A_BOLD);
	y++;
	if (rows <= 0)
		return;
	/* the tasks, scrolled by PgUp/PgDn from the top */
	int k = 0, shown = 0;
	for (uint32_t i = 0; mr->tasks && i < mr->n_map + mr->n_reduce && shown < rows; i++) {
		const struct hub_mr_task *t = &mr->tasks[i];
		if (id != 1 && t->worker != id)
			continue;
		if (k++ < v->detail_scroll)
			continue;
		int attr = t->state == MR_FINISHED ? ui_attr(v, CP_OK, (int)A_NORMAL)
			 : t->state == MR_RUNNING ? (ui_mr_stuck(h, t) ? ui_attr(v, CP_DOWN, (int)A_BOLD)
							: ui_attr(v, CP_CANDIDATE, (int)A_BOLD))
			 : ui_attr(v, CP_DIM, (int)A_DIM);
		char wkr[16] = "", started[24] = "-", done[24] = "-";
		if (id == 1)
			snprintf(wkr, sizeof wkr, t->worker ? " n%-2u" : " -  ", t->worker);
		if (t->runs)
			snprintf(started, sizeof started, "%.1fs", (double)t->started / 1000.0);
		if (t->state == MR_FINISHED)
			snprintf(done, sizeof done, "%.1fs", (double)t->finished / 1000.0);
		wattron(w, attr);
		ui_print(w, y + shown, 2, half - 2, "%-8s %-*s%s %6s %6s %3u%s", task_name(t, tn, sizeof tn),
			 id == 1 ? 11 : 9, t->state == MR_RUNNING && id != 1 ? "running" : mr_task_state_name((enum mr_task_state)t->state),
			 wkr, started, done, t->runs, t->runs > 1 ? ui_glyph(v, " ↻", " *") : "");
		wattroff(w, attr);
		shown++;
	}
	if (!shown && rows > 0) {
		wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
		ui_print(w, y, 2, half - 2, "%s", v->detail_scroll ? "(PgUp: back)" : "none yet");
		wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
	}
	messages(p, v, y, rows, half + 1, inner - half);
}

/* kind etcd: the member as etcd describes it, its links, its events. */
static void draw_etcd(struct panel *p, const struct tui_view *v, const struct hub_node *nd)
{
	WINDOW *w = p->win;
	const struct hub *h = v->hub;
	const struct wire_state *s = &nd->st;
	uint32_t id = v->selected, n = hub_size(h);
	int inner = p->w - 2, y = 1;
	char a[24], b[24];
	ui_print(w, y++, 2, inner - 1, "status %-8s incarnation %u  pid %d%s%s", ui_status_name(nd), nd->incarnation,
		 nd->pid, nd->status == HUB_NODE_FAILED ? "  why: " : "", nd->status == HUB_NODE_FAILED ? nd->why : "");
	if (s->term) {
		const char *role = s->role == RAFT_LEADER ? "LEADER" : s->role == RAFT_CANDIDATE ? "candidate"
				   : s->leader ? "follower" : "no leader";
		wattron(w, ui_role_attr(v, s->role));
		ui_print(w, y, 2, 11, "%-10s", role);
		wattroff(w, ui_role_attr(v, s->role));
		char vote[32] = "", lead[96] = "names no leader (it lost its leader, or has not heard from one)";
		if (s->voted_for)
			snprintf(vote, sizeof vote, ", voted for n%u", s->voted_for);
		if (s->leader)
			snprintf(lead, sizeof lead, "names n%u as the leader", s->leader);
		ui_print(w, y++, 13, inner - 12, "raft term %" PRIu64 "%s, %s", s->term, vote, lead);
		char size[48] = "";
		if (s->raft_bytes)
			snprintf(size, sizeof size, ", db size %s", ui_size(s->raft_bytes, a, sizeof a));
		ui_print(w, y++, 2, inner - 1, "raft index %" PRIu64 " (committed), applied %" PRIu64 "%s%s",
			 s->commit, s->applied, size, nd->status == HUB_NODE_UP && !nd->paused ? "" : "  (as it last said)");
		if (s->role == RAFT_LEADER && s->n_peers) {
			/* the leader's progress: where it sends each member from */
			char buf[256];
			size_t o = (size_t)snprintf(buf, sizeof buf, "nextIndex");
			for (uint32_t j = 1; j <= s->n_peers && j <= n && o < sizeof buf; j++)
				if (j != id)
					o += (size_t)snprintf(buf + o, sizeof buf - o, " n%u:%" PRIu64, j, s->next_index[j]);
			ui_print(w, y++, 2, inner - 1, "%s", buf);
		}
	} else {
		ui_print(w, y++, 2, inner - 1, "it has not answered a poll yet");
	}
	uint64_t mid = hub_etcd_member_id(h, id);
	char ms[24] = "not known yet";
	if (mid)
		snprintf(ms, sizeof ms, "%016" PRIx64, mid);
	ui_print(w, y++, 2, inner - 1, "member id %s   client 127.0.0.1:%d   peer 127.0.0.1:%d", ms,
		 hub_etcd_client_port(h, id), hub_etcd_peer_port(h, id));
	wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
	ui_print(w, y++, 2, inner - 1, "try: etcdctl --endpoints 127.0.0.1:%d endpoint status -w table",
		 hub_etcd_client_port(h, id));
	wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
	y++;
	int half = inner >= 80 ? 36 : inner / 2;     /* the byte table needs 33 */
	int rows = p->h - 1 - y - 1;
	wattron(w, (int)A_BOLD);
	ui_print(w, y, 2, half - 2, "  bytes to/from   sent  received");
	ui_print(w, y, half + 1, inner - half, "recent events about n%u", id);
	wattroff(w, (int)A_BOLD);
	y++;
	if (rows <= 0)
		return;
	int r = 0;
	for (uint32_t j = 0; j <= n && r < rows; j++) {
		if (j == id)
			continue;
		char who[16];
		snprintf(who, sizeof who, j ? "n%u" : "clients", j);
		bool up = j ? hub_can_reach(h, id, j) && hub_can_reach(h, j, id) : !hub_net(h)->isolated[id];
		ui_print(w, y + r++, 2, half - 2, "  %-10s %9s %9s%s", who, ui_size(hub_etcd_bytes(h, id, j), a, sizeof a),
			 ui_size(hub_etcd_bytes(h, j, id), b, sizeof b), up ? "" : ui_glyph(v, "  ✗", "  x"));
	}
	/* the events about it, newest at the bottom */
	int row = y + rows - 1;
	for (size_t k = evlog_count(v->log); k > 0 && row >= y; k--) {
		json_t *ev = evlog_get(v->log, k - 1);
		if (evlog_source(v->log, k - 1) != hub_number(h) ||
		    json_integer_value(json_object_get(ev, "node")) != (json_int_t)id)
			continue;
		char line[256];
		ui_event_text(v, ev, line, sizeof line);
		ui_print(w, row--, half + 1, inner - half, "%s", line);
	}
}

static void draw(struct panel *p, const struct tui_view *v)
{
	char title[64];
	if (v->etcd)
		snprintf(title, sizeof title, "Member n%u  (Enter or Esc: back)", v->selected);
	else
		snprintf(title, sizeof title, "Node %u  (Enter or Esc: back, PgUp/PgDn: scroll the %s)", v->selected,
			 v->mr ? "tasks" : "log");
	ui_frame(p, v, title);
	if (!v->hub || !v->selected)
		return;
	WINDOW *w = p->win;
	const struct hub_node *nd = hub_node(v->hub, v->selected);
	if (v->mr) {
		draw_mr(p, v, nd);
		return;
	}
	if (v->etcd) {
		draw_etcd(p, v, nd);
		return;
	}
	const struct wire_state *s = &nd->st;
	int inner = p->w - 2;
	int y = 1;
	ui_print(w, y++, 2, inner - 1, "status %-8s incarnation %u  pid %d%s%s", ui_status_name(nd), nd->incarnation,
		 nd->pid, nd->status == HUB_NODE_FAILED ? "  why: " : "", nd->status == HUB_NODE_FAILED ? nd->why : "");
	char vote[16] = "nobody", lead[16] = "unknown";
	if (s->voted_for)
		snprintf(vote, sizeof vote, "n%u", s->voted_for);
	if (s->leader)
		snprintf(lead, sizeof lead, "n%u", s->leader);
	wattron(w, ui_role_attr(v, s->role));
	ui_print(w, y, 2, 12, "%-10s", raft_role_name((enum raft_role)s->role));
	wattroff(w, ui_role_attr(v, s->role));
	ui_print(w, y++, 13, inner - 12, "currentTerm %" PRIu64 "  votedFor %s  believes the leader is %s", s->term, vote, lead);
	ui_print(w, y++, 2, inner - 1, "commitIndex %" PRIu64 "  lastApplied %" PRIu64 "  log length %" PRIu64
		 "  messages in %" PRIu64 " out %" PRIu64, s->commit, s->applied, hub_last_index(nd), nd->msgs_in, nd->msgs_out);
	if (v->kv) {
		/* the service on top: its table, what Raft keeps, the snapshot */
		ui_print(w, y++, 2, inner - 1, "key/value: %" PRIu64 " keys, duplicate table %" PRIu64 " B;  Raft state %" PRIu64
			 " B", s->kv_keys, s->kv_dup_bytes, s->raft_bytes);
		if (s->snapshot_index)
			ui_print(w, y++, 2, inner - 1, "snapshot: up to index %" PRIu64 " (term %" PRIu64 "), %" PRIu64
				 " B; %" PRIu64 " this run", s->snapshot_index, s->snapshot_term,
				 s->snapshot_bytes, nd->snapshots);
	}
	if (s->role == RAFT_LEADER && s->n_peers) {
		char buf[256];
		size_t o = (size_t)snprintf(buf, sizeof buf, "nextIndex ");
		for (uint32_t i = 1; i <= s->n_peers && o < sizeof buf; i++)
			if (i != v->selected)
				o += (size_t)snprintf(buf + o, sizeof buf - o, " n%u:%" PRIu64, i, s->next_index[i]);
		ui_print(w, y++, 2, inner - 1, "%s", buf);
		o = (size_t)snprintf(buf, sizeof buf, "matchIndex");
		for (uint32_t i = 1; i <= s->n_peers && o < sizeof buf; i++)
			if (i != v->selected)
				o += (size_t)snprintf(buf + o, sizeof buf - o, " n%u:%" PRIu64, i, s->match_index[i]);
		ui_print(w, y++, 2, inner - 1, "%s", buf);
	} else if (s->election_deadline != RAFT_NO_DEADLINE && nd->status == HUB_NODE_UP) {
		ui_print(w, y++, 2, inner - 1, "election timer fires at %.3f s (in %.0f ms)",
			 (double)s->election_deadline / 1000.0, (double)s->election_deadline - (double)v->clock);
	}
	y++;
	/* left: the log with commands; right: recent messages */
	int half = inner * 11 / 20;              /* the log gets a little more */
	int rows = p->h - 1 - y - 1;
	wattron(w, (int)A_BOLD);
	ui_print(w, y, 2, half - 2, "log (index term command)");
	ui_print(w, y, half + 1, inner - half, "recent messages");
	wattroff(w, (int)A_BOLD);
	y++;
	if (rows <= 0)
		return;
	uint64_t end = hub_last_index(nd);
	uint64_t last = end > (uint64_t)v->detail_scroll ? end - (uint64_t)v->detail_scroll : 0;
	/* scrolled back past the beginning: the top page, which begins with
	 * the snapshot line (or index 1) */
	uint64_t top = nd->log_base ? nd->log_base : 1;
	if (last < top + (uint64_t)rows - 1)
		last = end < top + (uint64_t)rows - 1 ? end : top + (uint64_t)rows - 1;
	uint64_t first = last > (uint64_t)rows ? last - (uint64_t)rows + 1 : 1;
	if (first <= nd->log_base)
		first = nd->log_base;
	for (uint64_t ix = first; ix <= last; ix++) {
		const struct hub_entry *e = hub_entry_at(nd, ix);
		int row = y + (int)(ix - first);
		if (!e) {
			if (ix > 0)
				ui_print(w, row, 2, half - 2, "%5" PRIu64 " %s snapshot (term %" PRIu64 ", %" PRIu64 " B)",
					 ix, ui_glyph(v, "▓", "S"), s->snapshot_term, s->snapshot_bytes);
			continue;
		}
		char text[160];
		hub_describe_entry(v->hub, e, text, sizeof text);
		wattron(w, ui_term_attr(v, e->term) | (ix <= s->commit ? (int)A_BOLD : 0));
		ui_print(w, row, 2, half - 2, "%5" PRIu64 " t%-3" PRIu64 " %s%s", ix, e->term, text,
			 ix <= s->commit ? "" : "  (not committed)");
		wattroff(w, ui_term_attr(v, e->term) | (ix <= s->commit ? (int)A_BOLD : 0));
	}
	/* messages: walk the events back for sends to or from this node */
	messages(p, v, y, rows, half + 1, inner - half);
}

static bool key(struct panel *p, int ch, struct tui_view *v)
{
	/* the log scrolls back from its end; MapReduce's tasks down from the top */
	int step = v->mr ? -(p->h / 2) : p->h / 2;
	switch (ch) {
	case KEY_PPAGE:
		v->detail_scroll += step;
		break;
	case KEY_NPAGE:
		v->detail_scroll -= step;
		break;
	default:
		return false;
	}
	if (v->detail_scroll < 0)
		v->detail_scroll = 0;
	return true;
}

const struct panel_ops panel_detail_ops = { "detail", draw, key };

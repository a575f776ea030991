/*
 * panel_detail.c — everything about the selected node (Enter opens it,
 * Enter or Esc closes it): its state, nextIndex/matchIndex when it leads,
 * a key/value node's table size and snapshot, its log with the commands
 * (entries compacted into the snapshot as one line), and its recent
 * messages (clients' requests and replies among them).
 */
#include <inttypes.h>
#include <string.h>

#include "panel.h"

static void draw(struct panel *p, const struct tui_view *v)
{
	char title[64];
	snprintf(title, sizeof title, "Node %u  (Enter or Esc: back, PgUp/PgDn: scroll the log)", v->selected);
	ui_frame(p, v, title);
	if (!v->hub || !v->selected)
		return;
	WINDOW *w = p->win;
	const struct hub_node *nd = hub_node(v->hub, v->selected);
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
	int row = y + rows - 1;
	int64_t id = v->selected;
	for (size_t k = evlog_count(v->log); k > 0 && row >= y; k--) {
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
		ui_print(w, row--, half + 1, inner - half, "%s", line);
	}
}

static bool key(struct panel *p, int ch, struct tui_view *v)
{
	switch (ch) {
	case KEY_PPAGE:
		v->detail_scroll += p->h / 2;
		return true;
	case KEY_NPAGE:
		v->detail_scroll -= p->h / 2;
		if (v->detail_scroll < 0)
			v->detail_scroll = 0;
		return true;
	}
	return false;
}

const struct panel_ops panel_detail_ops = { "detail", draw, key };

/*
 * panel_logs.c — every node's log as a row of cells, one per index, each
 * showing the entry's term in the term's colour.  The commit point is a
 * bar after the last committed cell; entries at or below it are bold.
 * Rows line up by index and scroll to keep the newest entries in view.
 * Entries compacted into a snapshot are a shaded block ending in the
 * snapshot's last index (labelled when there is room).
 *
 * etcd members keep their logs to themselves: the hub knows only the raft
 * index (committed) and the applied index each one reports when polled.  Each
 * gets a line with those and a bar against the highest raft index any
 * member reports, so one left behind (cut off, paused) shows as it lags.
 */
#include <inttypes.h>
#include <string.h>

#include "panel.h"

static void draw_etcd(struct panel *p, const struct tui_view *v)
{
	ui_frame(p, v, "Logs: etcd keeps its log to itself");
	WINDOW *w = p->win;
	int inner = p->w - 2;
	uint32_t n = hub_size(v->hub);
	uint64_t top = 0;
	for (uint32_t i = 1; i <= n; i++)
		if (hub_node(v->hub, i)->st.commit > top)
			top = hub_node(v->hub, i)->st.commit;
	wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
	ui_print(w, 1, 2, inner - 1, "no entries to draw: the hub sees only the indexes each member reports");
	wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
	for (uint32_t i = 1; i <= n && (int)i + 1 < p->h - 1; i++) {
		const struct hub_node *nd = hub_node(v->hub, i);
		const struct wire_state *s = &nd->st;
		int y = (int)i + 1;
		bool up = nd->status == HUB_NODE_UP && !nd->paused;
		int lattr = i == v->selected ? (int)A_REVERSE : (int)A_NORMAL;
		wattron(w, lattr);
		ui_print(w, y, 1, 4, "n%-2u", i);
		wattroff(w, lattr);
		int dim = up ? 0 : ui_attr(v, CP_DIM, (int)A_DIM);
		wattron(w, dim);
		if (s->term == 0) {          /* never polled */
			ui_print(w, y, 5, inner - 4, "%s", ui_status_name(nd));
			wattroff(w, dim);
			continue;
		}
		ui_print(w, y, 5, inner - 4, "raft index %7" PRIu64 "  applied %7" PRIu64 "  ", s->commit, s->applied);
		int bx = getcurx(w), bw = inner - bx - 16;      /* what follows: "-12 (CRASHED)" */
		if (bw > 40)
			bw = 40;
		if (bw >= 4) {
			wmove(w, y, bx);
			ui_bar(w, v, bw, top ? (double)s->commit / (double)top : 0, up ? ui_term_attr(v, s->term) : dim);
		}
		int tx = bw >= 4 ? bx + bw + 1 : bx;
		uint64_t behind = top - s->commit;
		/* a member not polled now: its numbers are the last it gave */
		char what[24] = "";
		if (!up)
			snprintf(what, sizeof what, " (%s)", ui_status_name(nd));
		if (behind)
			ui_print(w, y, tx, inner - tx + 1, "-%" PRIu64 "%s", behind, what);
		else
			ui_print(w, y, tx, inner - tx + 1, "%s", up ? "highest" : what + 1);
		wattroff(w, dim);
	}
}

static void draw(struct panel *p, const struct tui_view *v)
{
	if (v->etcd && v->hub) {
		draw_etcd(p, v);
		return;
	}
	ui_frame(p, v, "Logs (each cell is an entry's term; | marks the commit point)");
	if (!v->hub)
		return;
	WINDOW *w = p->win;
	uint32_t n = hub_size(v->hub);
	uint64_t maxlen = 0, maxterm = 1;
	for (uint32_t i = 1; i <= n; i++) {
		const struct hub_node *nd = hub_node(v->hub, i);
		if (hub_last_index(nd) > maxlen)
			maxlen = hub_last_index(nd);
		if (nd->st.term > maxterm)
			maxterm = nd->st.term;
	}
	int cell = maxterm < 10 ? 2 : maxterm < 100 ? 3 : 4;
	int room = p->w - 2 - 5;                 /* "n3 " plus margins */
	uint64_t cells = room > 0 ? (uint64_t)(room / cell) : 0;
	if (cells == 0)
		return;
	uint64_t first = maxlen > cells - 1 ? maxlen - (cells - 1) + 1 : 1;
	/* index ruler */
	wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
	for (uint64_t ix = first; ix <= first + cells - 1; ix++) {
		/* the first index too, unless the next label would run into it */
		uint64_t next5 = ix + (5 - ix % 5) % 5;
		bool fits = ix != first || next5 == first ||
			    (int)(next5 - first) * cell > snprintf(NULL, 0, "%" PRIu64, first);
		if (ix % 5 == 0 || (ix == first && fits))
			ui_print(w, 1, 5 + (int)(ix - first) * cell, p->w - 6 - (int)(ix - first) * cell, "%" PRIu64, ix);
	}
	wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
	for (uint32_t i = 1; i <= n && (int)i + 1 < p->h - 1; i++) {
		const struct hub_node *nd = hub_node(v->hub, i);
		int y = (int)i + 1;
		bool up = nd->status == HUB_NODE_UP;
		int lattr = i == v->selected ? (int)A_REVERSE : (int)A_NORMAL;
		wattron(w, lattr);
		ui_print(w, y, 1, 4, "n%-2u", i);
		wattroff(w, lattr);
		if (!up)
			wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
		for (uint64_t ix = first; ix <= hub_last_index(nd) && ix < first + cells; ix++) {
			const struct hub_entry *e = hub_entry_at(nd, ix);
			int x = 5 + (int)(ix - first) * cell;
			if (!e) {                /* compacted into the snapshot */
				wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
				ui_print(w, y, x, cell, "%s", ui_glyph(v, ix == nd->log_base ? "▓┃" : "░░",
								       ix == nd->log_base ? "S|" : "::"));
				wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
				continue;
			}
			bool committed = ix <= nd->st.commit;
			int attr = ui_term_attr(v, e->term) | (committed ? (int)A_BOLD : 0);
			if (!v->color && !committed)
				attr |= (int)A_DIM;
			wattron(w, attr);
			ui_print(w, y, x, cell, "%-*" PRIu64, cell - 1, e->term);
			wattroff(w, attr);
			if (ix == nd->st.commit && ix + 1 < first + cells) {
				wattron(w, (int)A_BOLD);
				mvwaddstr(w, y, x + cell - 1, ui_glyph(v, "┃", "|"));
				wattroff(w, (int)A_BOLD);
			}
		}
		/* a wide enough snapshot block says what it is */
		if (nd->log_base >= first && (int)(nd->log_base - first) * cell >= 16) {
			int bw = (int)(nd->log_base - first) * cell;
			char lab[48];
			int ll = snprintf(lab, sizeof lab, " snapshot %s %" PRIu64 " ", ui_glyph(v, "≤", "<="), nd->log_base);
			wattron(w, ui_attr(v, CP_DIM, (int)A_DIM) | (int)A_BOLD);
			if (ll < bw)
				ui_print(w, y, 5 + (bw - ll) / 2, ll, "%s", lab);
			wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM) | (int)A_BOLD);
		}
		if (!up)
			wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
		if (hub_last_index(nd) < first && hub_last_index(nd) > 0)
			ui_print(w, y, 5, room, "%s", ui_glyph(v, "… (older entries only)", "... (older entries only)"));
	}
}

const struct panel_ops panel_logs_ops = { "logs", draw, NULL };

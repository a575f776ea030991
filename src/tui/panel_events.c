/*
 * panel_events.c — the events as they happen, newest at the bottom,
 * filtered (f cycles: state changes, messages, the selected node, all)
 * and scrollable (PgUp/PgDn, End back to the newest).  Only the cluster
 * on screen's: a script that runs several (w switches) would otherwise
 * interleave their clocks and their n1s.
 */
#include <string.h>

#include "panel.h"

static const char *filter_name[EVF_COUNT] = {
	[EVF_STATE] = "state changes", [EVF_MESSAGES] = "messages",
	[EVF_NODE] = "the selected node", [EVF_ALL] = "everything",
};

static void draw(struct panel *p, const struct tui_view *v)
{
	char title[96];
	snprintf(title, sizeof title, "Events: %s (f: filter%s%s)", filter_name[v->filter],
		 v->ev_scroll ? ", End: newest" : "", v->kv_switch && !v->kv_view ? ", v: kv" : "");
	ui_frame(p, v, title);
	if (!v->log)
		return;
	WINDOW *w = p->win;
	int rows = p->h - 2;
	if (rows <= 0)
		return;
	/* walk back from the newest, skipping ev_scroll matching lines */
	size_t count = evlog_count(v->log);
	int skip = v->ev_scroll;
	int y = rows;
	int mine = v->hub ? hub_number(v->hub) : 0;
	for (size_t k = count; k > 0 && y > 0; k--) {
		json_t *ev = evlog_get(v->log, k - 1);
		if (mine && evlog_source(v->log, k - 1) != mine)
			continue;
		if (!ui_event_passes(ev, v))
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		char line[512];
		ui_event_text(v, ev, line, sizeof line);
		const char *name = json_string_value(json_object_get(ev, "ev"));
		int attr = (int)A_NORMAL;
		if (name && (!strcmp(name, "role") || !strcmp(name, "crash") || !strcmp(name, "restart") ||
			     !strcmp(name, "check")))
			attr = (int)A_BOLD;
		if (name && (!strcmp(name, "op") || !strcmp(name, "client")))
			attr = ui_attr(v, CP_FOLLOWER, (int)A_NORMAL);
		if (name && (!strcmp(name, "error") || !strcmp(name, "drop")))
			attr = ui_attr(v, CP_DOWN, (int)A_DIM);
		if (name && (!strcmp(name, "send") || !strcmp(name, "deliver")))
			attr = ui_attr(v, CP_DIM, (int)A_DIM);
		/* MapReduce: the job's phases and nodes leaving stand out, a task
		 * done is in the colour of done, one timed out in the fault's */
		if (name && (!strcmp(name, "job") || !strcmp(name, "exit")))
			attr = (int)A_BOLD;
		if (name && !strcmp(name, "task")) {
			const char *st = json_string_value(json_object_get(ev, "state"));
			attr = st && !strcmp(st, "done") ? ui_attr(v, CP_OK, (int)A_NORMAL)
			     : st && !strcmp(st, "idle") ? (ui_attr(v, CP_CANDIDATE, (int)A_BOLD) | (int)A_BOLD)
			     : (int)A_NORMAL;
		}
		wattron(w, attr);
		ui_print(w, y, 1, p->w - 2, "%s", line);
		wattroff(w, attr);
		y--;
	}
}

static bool key(struct panel *p, int ch, struct tui_view *v)
{
	switch (ch) {
	case KEY_PPAGE:
		v->ev_scroll += p->h > 4 ? p->h - 3 : 1;
		return true;
	case KEY_NPAGE:
		v->ev_scroll -= p->h > 4 ? p->h - 3 : 1;
		if (v->ev_scroll < 0)
			v->ev_scroll = 0;
		return true;
	case KEY_END:
		v->ev_scroll = 0;
		return true;
	case 'f':
		v->filter = (enum ev_filter)((v->filter + 1) % EVF_COUNT);
		v->ev_scroll = 0;
		return true;
	}
	return false;
}

const struct panel_ops panel_events_ops = { "events", draw, key };

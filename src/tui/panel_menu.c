/*
 * panel_menu.c — the lesson menu (L, and what `make run` opens on): the
 * lessons, numbered, with the learner's progress.
 */
#include "panel.h"

static void draw(struct panel *p, const struct tui_view *v)
{
	ui_frame(p, v, "Lessons");
	WINDOW *w = p->win;
	int y = 1;
	ui_print(w, y++, 2, p->w - 4, "Learn Raft on a live cluster of real processes. Pick a lesson:");
	y++;
	for (int i = 0; i < v->n_entries && y < p->h - 3; i++) {
		const struct menu_entry *e = &v->entries[i];
		ui_print(w, y, 4, p->w - 6, "%d  %-40s", e->number, e->title);
		if (e->progress[0]) {
			int attr = e->progress[0] == 'd' ? ui_attr(v, CP_OK, (int)A_BOLD) : ui_attr(v, CP_CANDIDATE, (int)A_NORMAL);
			wattron(w, attr);
			ui_print(w, y, 50, p->w - 52, "%s", e->progress);
			wattroff(w, attr);
		}
		y++;
	}
	if (v->n_entries == 0)
		ui_print(w, y++, 4, p->w - 6, "(no lessons are built in)");
	ui_print(w, p->h - 2, 2, p->w - 4, "1-9: start a lesson    Esc: play with the cluster (L: this menu again)");
}

const struct panel_ops panel_menu_ops = { "menu", draw, NULL };

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
	ui_print(w, y++, 2, p->w - 4, "Learn Raft, key/value services and MapReduce on live clusters of real processes.");
	y++;
	/* scroll so that the highlighted lesson is on screen */
	int rows = p->h - 3 - y;
	int first = rows > 0 && v->menu_sel >= rows ? v->menu_sel - rows + 1 : 0;
	if (first > 0)
		ui_print(w, y - 1, 4, p->w - 6, "%s", ui_glyph(v, "↑ more", "^ more"));
	for (int i = first; i < v->n_entries && y < p->h - 3; i++) {
		const struct menu_entry *e = &v->entries[i];
		int sel = i == v->menu_sel ? (int)A_REVERSE : (int)A_NORMAL;
		wattron(w, sel);
		ui_print(w, y, 2, p->w - 4, "%s%2d  %-40s", i == v->menu_sel ? "> " : "  ", e->number, e->title);
		wattroff(w, sel);
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
	if (y == p->h - 3 && v->n_entries > 0 && first + (y - 3) < v->n_entries)
		ui_print(w, y, 4, p->w - 6, "%s", ui_glyph(v, "↓ more", "v more"));
	ui_print(w, p->h - 2, 2, p->w - 4, "Up/Down + Enter, or 1-9: start a lesson    Esc: the cluster    L: this menu");
}

const struct panel_ops panel_menu_ops = { "menu", draw, NULL };

/*
 * panel_lesson.c — the lesson beside the live cluster: the step's
 * narrative, its objective as a line that turns from ✗ to ✓, the hint or
 * the verdict on an answer, a question's choices, and the lesson keys.
 */
#include <string.h>

#include "panel.h"

/* The block under the narrative: question and choices, the objective (and
 * par), the hint.  Drawn at row y; returns the next free row.  With win
 * NULL it only measures. */
static int draw_block(WINDOW *w, const struct tui_view *v, int y, int x, int width, int last)
{
	const struct lesson_view *l = &v->lesson;
	if (l->n_choices && y <= last) {
		if (w)
			wattron(w, (int)A_BOLD);
		y = ui_wrap(w, y, x, width, last, l->question);
		if (w)
			wattroff(w, (int)A_BOLD);
		for (int i = 0; i < l->n_choices && y <= last; i++, y++) {
			if (!w)
				continue;
			int attr = l->answered == i + 1 ? (ui_attr(v, CP_OK, (int)A_BOLD) | (int)A_BOLD)
				 : l->wrong == i + 1 ? ui_attr(v, CP_DOWN, (int)A_DIM) : (int)A_NORMAL;
			wattron(w, attr);
			ui_print(w, y, x + 2, width - 2, "%d) %s%s", i + 1, l->choices[i],
				 l->answered == i + 1 ? ui_glyph(v, "  ✓", "  (right)")
				 : l->wrong == i + 1 ? ui_glyph(v, "  ✗", "  (no)") : "");
			wattroff(w, attr);
		}
	}
	if (l->objective[0] && y <= last) {
		if (w) {
			int attr = l->met ? (ui_attr(v, CP_OK, (int)A_BOLD) | (int)A_BOLD)
					  : ui_attr(v, CP_CANDIDATE, (int)A_BOLD);
			wattron(w, attr);
			ui_print(w, y, x, width, "%s %s", l->met ? ui_glyph(v, "✓", "[x]") : ui_glyph(v, "✗", "[ ]"),
				 l->objective);
			wattroff(w, attr);
		}
		y++;
		if (l->par && y <= last) {
			if (w)
				ui_print(w, y, x + 2, width - 2, "par: %d action%s; you have used %d", l->par,
					 l->par == 1 ? "" : "s", l->actions);
			y++;
		}
	}
	if (l->hint[0] && y <= last) {
		if (w)
			wattron(w, ui_attr(v, CP_TITLE, (int)A_BOLD));
		y = ui_wrap(w, y, x, width, last, l->hint);
		if (w)
			wattroff(w, ui_attr(v, CP_TITLE, (int)A_BOLD));
	}
	return y;
}

static void draw(struct panel *p, const struct tui_view *v)
{
	const struct lesson_view *l = &v->lesson;
	char title[200];
	snprintf(title, sizeof title, "Lesson: %s  (step %d of %d)", l->title, l->index, l->count);
	ui_frame(p, v, title);
	WINDOW *w = p->win;
	int x = 2, width = p->w - 4, last = p->h - 2;
	/* the keys on the last row; the block just above them; the narrative
	 * in whatever is left above that (cut short, never the objective) */
	int block = draw_block(NULL, v, 0, x, width, 1000);
	int block_y = last - block;
	if (block_y < 2)
		block_y = 2;
	int text_last = block_y - 2;
	if (text_last >= 1) {
		int end = ui_wrap(w, 1, x, width, text_last, l->text);
		if (end > text_last && ui_wrap(NULL, 1, x, width, 1000, l->text) > text_last + 1)
			ui_print(w, text_last, x + width - 14, 14, "%s", ui_glyph(v, " (more: wider)", " (more: wider)"));
	}
	draw_block(w, v, block_y, x, width, last - 1);
	const char *keys;
	if (l->done)
		keys = "L: lesson menu   q: quit";
	else if (l->met || l->narrative)
		keys = "n: next step   R: restart this step   L: lessons";
	else if (l->n_choices)
		keys = "1-9: answer   H: hint   R: restart this step   L: lessons";
	else
		keys = "H: hint (again: the solution)   R: restart this step   L: lessons";
	wattron(w, (int)A_REVERSE);
	ui_print(w, last, x, width, " %s%s ", keys, v->kv_switch ? "   v: key/value" : "");
	wattroff(w, (int)A_REVERSE);
}

const struct panel_ops panel_lesson_ops = { "lesson", draw, NULL };

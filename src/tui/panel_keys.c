/*
 * panel_keys.c — the bottom line: the result of the last action (or the
 * script's end), else a reminder of the main keys (those of a key/value
 * or a MapReduce cluster when one is on screen).  The prompt and the
 * request line are drawn here by tui.c while they are open.
 */
#include "panel.h"

static void draw(struct panel *p, const struct tui_view *v)
{
	WINDOW *w = p->win;
	werase(w);
	if (v->status && *v->status) {
		int attr = v->status_error ? (ui_attr(v, CP_ERROR, (int)A_REVERSE) | (int)A_BOLD) : (int)A_BOLD;
		wattron(w, attr);
		ui_print(w, 0, 0, p->w, " %s", v->status);
		wattroff(w, attr);
		return;
	}
	const char *hint;
	if (v->mr)
		hint = p->w >= 120
		? " 1-9 node  c crash  r restart  z pause  p isolate  s split  h heal  Enter detail  space time  : lua  ? help  q quit"
		: " 1-9 node  c crash  r restart  z pause  p isolate  Enter detail  ? help  q quit";
	else if (v->kv && v->kv_switch)
		hint = p->w >= 120
		? " 1-9 node  c crash  r restart  p isolate  s split  h heal  k request  K check  v view  space time  ? help  q quit"
		: " 1-9 node  c crash  p isolate  h heal  k request  K check  v view  ? help q quit";
	else if (v->kv)
		hint = p->w >= 120
		? " 1-9 node  c crash  r restart  p isolate  s split  h heal  k request  K check  space time  : lua  ? help  q quit"
		: " 1-9 node  c crash  p isolate  h heal  k request  K check  ? help  q quit";
	else
		hint = p->w >= 120
		? " 1-9 node  c crash  r restart  z pause  p isolate  s split  h heal  k request  space time  : lua  ? help  q quit"
		: " 1-9 node  c crash  r restart  p isolate  h heal  k request  space time  ? help  q quit";
	wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
	ui_print(w, 0, 0, p->w, "%s", hint);
	wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
}

const struct panel_ops panel_keys_ops = { "keys", draw, NULL };

/*
 * panel_keys.c — the bottom line: the result of the last action (or the
 * script's end), else a reminder of the main keys (those of a key/value,
 * an etcd or a MapReduce cluster when one is on screen), with w (the next
 * cluster) where the line has room for it.  The prompt and the request
 * line are drawn here by tui.c while they are open.
 */
#include <stdio.h>
#include <string.h>

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
	bool wide = p->w >= 120;
	const char *hint;
	if (v->mr)
		hint = wide ? " 1-9 node  c crash  r restart  z pause  p isolate  s split  h heal  Enter detail  space time  : lua"
			    : " 1-9 node  c crash  r restart  z pause  p isolate  Enter detail";
	else if (v->etcd && v->kv_switch)
		hint = wide ? " 1-9 node  c kill  r restart  z stop  p isolate  s split  h heal  k request  K check  v view"
			    : " 1-9 node  c kill  p isolate  h heal  k request  K check  v view";
	else if (v->etcd)
		hint = wide ? " 1-9 node  c kill  r restart  z stop  p isolate  s split  h heal  k request  K check  : lua"
			    : " 1-9 node  c kill  p isolate  h heal  k request  K check";
	else if (v->kv && v->kv_switch)
		hint = wide ? " 1-9 node  c crash  r restart  p isolate  s split  h heal  k request  K check  v view  space time"
			    : " 1-9 node  c crash  p isolate  h heal  k request  K check  v view";
	else if (v->kv)
		hint = wide ? " 1-9 node  c crash  r restart  p isolate  s split  h heal  k request  K check  space time  : lua"
			    : " 1-9 node  c crash  p isolate  h heal  k request  K check";
	else
		hint = wide ? " 1-9 node  c crash  r restart  z pause  p isolate  s split  h heal  k request  space time  : lua"
			    : " 1-9 node  c crash  r restart  p isolate  h heal  k request  space time";
	/* w matters only to a script that runs several clusters: last, if it fits */
	static const char more[] = "  w next cluster";
	const char *tail = "  ? help  q quit";
	if ((int)(strlen(hint) + strlen(tail)) > p->w)
		tail = "  ? help q quit";           /* 80 columns, v view among the keys */
	char line[256];
	bool room = (int)(strlen(hint) + strlen(tail) + strlen(more)) <= p->w;
	snprintf(line, sizeof line, "%s%s%s", hint, tail, room ? more : "");
	wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
	ui_print(w, 0, 0, p->w, "%s", line);
	wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
}

const struct panel_ops panel_keys_ops = { "keys", draw, NULL };

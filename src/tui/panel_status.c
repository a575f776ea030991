/*
 * panel_status.c — the top line: pace, speed, virtual time, seed, what is
 * running, and the result of the last action.
 *
 * An etcd cluster's time is the wall clock's (etcd keeps its own timers)
 * and no seed decides anything in it: the line says "etcd" and "real
 * time", and neither a speed nor a seed nor our fsync policy (etcd syncs
 * its own WAL).
 */
#include <inttypes.h>
#include <string.h>

#include "panel.h"

static void draw(struct panel *p, const struct tui_view *v)
{
	WINDOW *w = p->win;
	werase(w);
	wattron(w, (int)A_REVERSE);
	mvwhline(w, 0, 0, ' ', p->w);
	const char *pace = "-";
	char speed[32] = "";
	if (v->hub) {
		enum hub_pace hp = hub_pace_of(v->hub);
		bool paced = hp == HUB_PACED;
		pace = hp == HUB_REAL ? "real" : !paced ? "fast" : hub_frozen(v->hub) ? "PAUSED" : "paced";
		if (paced)
			snprintf(speed, sizeof speed, " %gx", hub_speed(v->hub));
		else if (hp == HUB_REAL && strcmp(hub_kind(v->hub), "mr") != 0)
			snprintf(speed, sizeof speed, " fsync %s", hub_fsync(v->hub));
	}
	char line[512], seed[48] = "";
	if (v->etcd) {
		pace = "etcd";
		snprintf(speed, sizeof speed, p->w >= 100 ? "  real time (no speed control)" : "  real time");
	} else {
		snprintf(seed, sizeof seed, "  seed %" PRIu64, v->hub ? hub_seed(v->hub) : 0);
	}
	snprintf(line, sizeof line, "%s%s %s%s  t=%.3fs%s  %" PRIu64 " recorded  %s%s%s",
		 p->w >= 100 ? " termscope  " : " ",
		 v->hub && hub_frozen(v->hub) ? ui_glyph(v, "❚❚", "||") : ui_glyph(v, "▶", ">"),
		 pace, speed, (double)v->clock / 1000.0, seed,
		 v->recorded, v->running ? v->running : "", v->gateway[0] ? "  " : "", v->gateway);
	ui_print(w, 0, 0, p->w, "%s", line);
	wattroff(w, (int)A_REVERSE);
}

const struct panel_ops panel_status_ops = { "status", draw, NULL };

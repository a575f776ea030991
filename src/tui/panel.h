/*
 * panel.h — what the dashboard's panels share: the view they draw from,
 * the panel vtable, and the drawing helpers (colour with a text cue,
 * UTF-8 or ASCII glyphs).  Internal to src/tui.
 *
 * A panel draws only from struct tui_view and the hub's read-only queries;
 * it never changes the run.  Adding a panel is adding a file with its ops.
 */
#ifndef TERMSCOPE_PANEL_H
#define TERMSCOPE_PANEL_H

#include <stdbool.h>
#include <stdint.h>

#include <curses.h>

#include "../core/mr.h"
#include "../hub/evlog.h"
#include "../hub/hub.h"

enum ev_filter { EVF_STATE, EVF_MESSAGES, EVF_NODE, EVF_ALL, EVF_COUNT };

#define LESSON_CHOICES 6
#define MENU_MAX 16

/* The running lesson, as the lesson engine (lua/lesson.lua) describes it. */
struct lesson_view {
	bool active, done, narrative;
	char title[128];
	int index, count;
	char text[4096];
	char objective[256];
	bool met;
	char hint[1024];
	char question[512];
	char choices[LESSON_CHOICES][160];
	int n_choices, answered, wrong;
	int par, actions;
	char panel[16];
	int select;
};

/* The last linearizability check, as ts._dash.check keeps it (K, or
 * c:check_linearizable() at the prompt). */
struct check_view {
	bool have;
	char verdict[16];                    /* "ok", "illegal", "unknown", "error" */
	char text[4096];                     /* lincheck_explain's words */
	uint64_t n_ops, n_done;              /* the history it saw: operations, those returned */
};

struct menu_entry {
	int number;
	char title[96];
	char progress[48];
};

struct tui_view {
	struct hub *hub;                     /* the cluster on screen, or NULL */
	struct evlog *log;
	uint64_t clock;                      /* virtual ms now (paced: the wall's) */
	uint32_t selected;                   /* node, 0: none */
	uint64_t sel_msg;                    /* in-flight message id, 0: none */
	const char *running;                 /* what runs: "live cluster", "scenario x.lua" */
	char gateway[48];                    /* the RESP gateway: "resp :6380 2 conns", or "" */
	const char *status;                  /* the last result or error, one line */
	bool status_error;
	bool color, utf8;
	enum ev_filter filter;
	int ev_scroll;                       /* events: lines up from the newest */
	int detail_scroll;
	int help_scroll;
	uint64_t recorded;                   /* actions recorded so far */
	struct lesson_view lesson;
	const char *highlight;               /* a panel a lesson points at */
	bool menu;                           /* the lesson menu is open */
	struct menu_entry entries[MENU_MAX];
	int n_entries;
	int menu_sel;                        /* the highlighted lesson (Up/Down, Enter) */
	/* the key/value service (kinds kv, kvsrv and etcd) */
	bool kv;                             /* the cluster on screen is one */
	bool kv_switch;                      /* the screen is too small for both views: v switches */
	bool kv_view;                        /* ... and the key/value view is the one shown */
	uint32_t kv_client;                  /* the request line's client */
	struct check_view check;
	/* MapReduce (kind mr): node 1 the coordinator, 2.. the workers */
	bool mr;                             /* the cluster on screen is one */
	/* real etcd members (kind etcd): kv is set too (clients, history,
	 * check), but the hub mirrors only what their status endpoint says:
	 * no log entries, no tables, no messages (bytes through its proxies) */
	bool etcd;
};

struct panel;

struct panel_ops {
	const char *name;
	void (*draw)(struct panel *p, const struct tui_view *v);
	/* the panel's own keys: true if it took the key */
	bool (*key)(struct panel *p, int ch, struct tui_view *v);
};

struct panel {
	const struct panel_ops *ops;
	WINDOW *win;
	int y, x, h, w;
	bool shown;
};

extern const struct panel_ops panel_status_ops;
extern const struct panel_ops panel_nodes_ops;
extern const struct panel_ops panel_logs_ops;
extern const struct panel_ops panel_net_ops;
extern const struct panel_ops panel_events_ops;
extern const struct panel_ops panel_detail_ops;
extern const struct panel_ops panel_help_ops;
extern const struct panel_ops panel_keys_ops;
extern const struct panel_ops panel_lesson_ops;
extern const struct panel_ops panel_menu_ops;
extern const struct panel_ops panel_kv_ops;
extern const struct panel_ops panel_mr_ops;

/* colour pairs */
enum {
	CP_LEADER = 1, CP_CANDIDATE, CP_FOLLOWER, CP_DOWN, CP_PAUSED, CP_CUT, CP_OK,
	CP_DIM, CP_TITLE, CP_ERROR, CP_TERM0,             /* CP_TERM0 .. +5: terms */
};
#define TERM_COLOURS 6

void ui_colors_init(bool color);
/* A framed panel with a title; leaves the cursor inside the frame. */
void ui_frame(struct panel *p, const struct tui_view *v, const char *title);
int ui_role_attr(const struct tui_view *v, int role);
int ui_term_attr(const struct tui_view *v, uint64_t term);
int ui_attr(const struct tui_view *v, int pair, int mono);
/* Glyphs: UTF-8 when the locale allows, ASCII otherwise. */
const char *ui_glyph(const struct tui_view *v, const char *utf8, const char *ascii);
/* A bar of width w filled to fraction f (0..1). */
void ui_bar(WINDOW *w, const struct tui_view *v, int width, double f, int attr);
/* printf into the window at (y, x), clipped to max columns. */
void ui_print(WINDOW *w, int y, int x, int max, const char *fmt, ...);
/* One event as a short line of text (for the events and detail panels). */
void ui_event_text(const struct tui_view *v, json_t *ev, char *buf, size_t len);
/* An endpoint's name: "n3" for a node, "c1" for client 1. */
const char *ui_endpoint(uint32_t id, char *buf, size_t len);
/* Bytes as text for a narrow cell: printable ASCII kept, the rest as '?'. */
void ui_bytes(char *buf, size_t len, const uint8_t *p, size_t n);
bool ui_event_passes(json_t *ev, const struct tui_view *v);
/* Word-wrap text into the window from row y, columns [x, x+w); returns the
 * next free row (never past `last`).  With win NULL it only counts. */
int ui_wrap(WINDOW *win, int y, int x, int w, int last, const char *text);
const char *ui_status_name(const struct hub_node *n);
/* A byte count for a narrow column: "812 B", "22.3 KB", "1.4 MB". */
const char *ui_size(uint64_t bytes, char *buf, size_t len);
/* Virtual seconds in at most 4 columns: "0.3s", "12s", "17m". */
const char *ui_secs(uint64_t ms, char *buf, size_t len);

/* MapReduce (panel_mr.c).  The input file of map task `task` (its base
 * name, from the job file), or NULL; the job's task timeout (ms, 0 if
 * unknown) and app name ("" if unknown). */
const char *ui_mr_input(const struct hub *h, uint32_t task);
uint64_t ui_mr_timeout(const struct hub *h);
const char *ui_mr_app(const struct hub *h);
/* The rows the MapReduce panel wants at width w, its frame included. */
int ui_mr_rows(const struct tui_view *v, int w);
/* The node list of a MapReduce cluster (panel_nodes.c draws it in the
 * Nodes panel's place): one row per node from row 2 of the window. */
void ui_mr_nodes(struct panel *p, const struct tui_view *v);
/* In-progress task `t` whose worker cannot work on it (crashed, paused,
 * cut off): the board still says "in progress" until the timeout. */
bool ui_mr_stuck(const struct hub *h, const struct hub_mr_task *t);

#endif

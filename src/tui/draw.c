/*
 * draw.c — drawing helpers the panels share: frames, colours with a
 * monochrome fallback, glyphs with an ASCII fallback, bars, event lines.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panel.h"

void ui_colors_init(bool color)
{
	if (!color)
		return;
	start_color();
	use_default_colors();
	init_pair(CP_LEADER, COLOR_GREEN, -1);
	init_pair(CP_CANDIDATE, COLOR_YELLOW, -1);
	init_pair(CP_FOLLOWER, COLOR_CYAN, -1);
	init_pair(CP_DOWN, COLOR_RED, -1);
	init_pair(CP_PAUSED, COLOR_MAGENTA, -1);
	init_pair(CP_CUT, COLOR_RED, -1);
	init_pair(CP_OK, COLOR_GREEN, -1);
	init_pair(CP_DIM, COLOR_BLUE, -1);
	init_pair(CP_TITLE, COLOR_CYAN, -1);
	init_pair(CP_ERROR, COLOR_WHITE, COLOR_RED);
	static const short terms[TERM_COLOURS] = { COLOR_CYAN, COLOR_GREEN, COLOR_YELLOW,
						   COLOR_MAGENTA, COLOR_BLUE, COLOR_RED };
	for (int i = 0; i < TERM_COLOURS; i++)
		init_pair((short)(CP_TERM0 + i), terms[i], -1);
}

int ui_attr(const struct tui_view *v, int pair, int mono)
{
	return v->color ? (int)COLOR_PAIR(pair) : mono;
}

int ui_role_attr(const struct tui_view *v, int role)
{
	switch (role) {
	case RAFT_LEADER: return ui_attr(v, CP_LEADER, 0) | (int)A_BOLD;
	case RAFT_CANDIDATE: return ui_attr(v, CP_CANDIDATE, (int)A_UNDERLINE);
	default: return ui_attr(v, CP_FOLLOWER, (int)A_NORMAL);
	}
}

int ui_term_attr(const struct tui_view *v, uint64_t term)
{
	if (term == 0)
		return (int)A_NORMAL;
	return ui_attr(v, CP_TERM0 + (int)((term - 1) % TERM_COLOURS), (int)A_NORMAL);
}

const char *ui_glyph(const struct tui_view *v, const char *utf8, const char *ascii)
{
	return v->utf8 ? utf8 : ascii;
}

void ui_print(WINDOW *w, int y, int x, int max, const char *fmt, ...)
{
	if (max <= 0)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* max counts columns; every glyph we draw is one column wide, however
	 * many bytes its UTF-8 takes */
	int bytes = 0, cols = 0;
	while (buf[bytes]) {
		int len = 1;
		while (((unsigned char)buf[bytes + len] & 0xc0) == 0x80)
			len++;
		if (cols + 1 > max)
			break;
		cols++;
		bytes += len;
	}
	mvwaddnstr(w, y, x, buf, bytes);
}

void ui_frame(struct panel *p, const struct tui_view *v, const char *title)
{
	werase(p->win);
	if (v->utf8)
		box(p->win, 0, 0);
	else
		wborder(p->win, '|', '|', '-', '-', '+', '+', '+', '+');
	bool lit = v->highlight && strcmp(v->highlight, p->ops->name) == 0;
	int attr = (int)A_BOLD | ui_attr(v, CP_TITLE, 0) | (lit ? (int)A_REVERSE : 0);
	wattron(p->win, attr);
	ui_print(p->win, 0, 2, p->w - 4, lit ? " %s  <- look here " : " %s ", title);
	wattroff(p->win, attr);
}

void ui_bar(WINDOW *w, const struct tui_view *v, int width, double f, int attr)
{
	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	int full = (int)(f * width + 0.5);
	wattron(w, attr);
	for (int i = 0; i < full; i++)
		waddstr(w, ui_glyph(v, "█", "#"));
	wattroff(w, attr);
	for (int i = full; i < width; i++)
		waddstr(w, ui_glyph(v, "░", "."));
}

const char *ui_status_name(const struct hub_node *n)
{
	switch (n->status) {
	case HUB_NODE_UP: return n->paused ? "paused" : "up";
	case HUB_NODE_STARTING: return "starting";
	case HUB_NODE_FAILED: return "FAILED";
	case HUB_NODE_DOWN: return n->incarnation ? "CRASHED" : "down";
	case HUB_NODE_EXITED: return "exited";
	}
	return "?";
}

const char *ui_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes < 1000)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else if (bytes < 99950)
		snprintf(buf, len, "%.1f KB", (double)bytes / 1e3);
	else if (bytes < 999500)
		snprintf(buf, len, "%.0f KB", (double)bytes / 1e3);
	else if (bytes < 99950000)
		snprintf(buf, len, "%.1f MB", (double)bytes / 1e6);
	else if (bytes < 999500000)
		snprintf(buf, len, "%.0f MB", (double)bytes / 1e6);
	else
		snprintf(buf, len, "%.1f GB", (double)bytes / 1e9);
	return buf;
}

const char *ui_secs(uint64_t ms, char *buf, size_t len)
{
	if (ms < 9950)
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	else if (ms < 999500)
		snprintf(buf, len, "%.0fs", (double)ms / 1000.0);
	else
		snprintf(buf, len, "%.0fm", (double)ms / 60000.0);
	return buf;
}

static int64_t jint(json_t *ev, const char *k)
{
	return json_integer_value(json_object_get(ev, k));
}

static const char *jstr(json_t *ev, const char *k)
{
	const char *s = json_string_value(json_object_get(ev, k));
	return s ? s : "";
}

bool ui_event_passes(json_t *ev, const struct tui_view *v)
{
	const char *name = jstr(ev, "ev");
	bool traffic = !strcmp(name, "send") || !strcmp(name, "deliver") || !strcmp(name, "dup") ||
		       !strcmp(name, "etcd_request");
	switch (v->filter) {
	case EVF_ALL:
		return true;
	case EVF_STATE:
		/* MapReduce: a worker asking or told to wait is traffic in all
		 * but name (it repeats every half second); the board's first
		 * report (every task idle) is said by the "job" event */
		if (!strcmp(name, "worker")) {
			const char *st = jstr(ev, "state");
			return strcmp(st, "asking") != 0 && strcmp(st, "waiting") != 0;
		}
		if (!strcmp(name, "task") && !strcmp(jstr(ev, "state"), "idle") && jint(ev, "runs") == 0)
			return false;
		return !traffic && strcmp(name, "drop") != 0;
	case EVF_MESSAGES:
		return traffic || !strcmp(name, "drop") || !strcmp(name, "hurry");
	case EVF_NODE: {
		if (!v->selected)
			return true;
		int64_t id = (int64_t)v->selected;
		return jint(ev, "node") == id || jint(ev, "from") == id || jint(ev, "to") == id ||
		       jint(ev, "server") == id || jint(ev, "worker") == id;
	}
	default:
		return true;
	}
}

const char *ui_endpoint(uint32_t id, char *buf, size_t len)
{
	if (wire_is_client(id))
		snprintf(buf, len, "c%u", id - WIRE_CLIENT_BASE);
	else
		snprintf(buf, len, "n%u", id);
	return buf;
}

void ui_bytes(char *buf, size_t len, const uint8_t *p, size_t n)
{
	if (!len)
		return;
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++)
		buf[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	buf[o] = 0;
}

/* A JSON string field as printable text, cut to fit max bytes. */
static const char *jtext(json_t *ev, const char *k, char *buf, size_t len)
{
	const char *s = jstr(ev, k);
	ui_bytes(buf, len, (const uint8_t *)s, strlen(s));
	return buf;
}

static const char *lat_text(int64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%" PRId64 "ms", ms);
	else
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	return buf;
}

/* A client operation in brief: "put x=1", "append x+=2", "get x",
 * "put x=9 if v1". */
static void op_brief(char *buf, size_t len, const char *op, const char *key, const char *value, bool has_value,
		     int64_t version)
{
	if (!strcmp(op, "get") || !strcmp(op, "del") || !strcmp(op, "incr"))
		snprintf(buf, len, "%s %s", op, key);
	else if (!strcmp(op, "append"))
		snprintf(buf, len, "append %s+=%s", key, has_value ? value : "?");
	else if (!strcmp(op, "vput"))
		snprintf(buf, len, "put %s=%s if v%" PRId64, key, has_value ? value : "?", version);
	else
		snprintf(buf, len, "%s %s=%s", op, key, has_value ? value : "?");
}

/* "op" records: the call says what was asked; the return (which names only
 * the operation's number) takes the key and input from the history. */
static void op_text(const struct tui_view *v, json_t *ev, char *o, size_t room)
{
	int64_t k = jint(ev, "client"), n = jint(ev, "n");
	char key[48], value[48], what[160], out[64] = "";
	bool call = !strcmp(jstr(ev, "phase"), "call");
	const char *op = jstr(ev, "op");
	if (call) {
		op_brief(what, sizeof what, op, jtext(ev, "key", key, sizeof key), jtext(ev, "value", value, sizeof value),
			 json_object_get(ev, "value") != NULL, jint(ev, "version"));
		snprintf(o, room, "c%" PRId64 " %s%s %s", k, what, json_is_true(json_object_get(ev, "local")) ? " (local)" : "",
			 v->utf8 ? "…" : "...");
		return;
	}
	const struct lincheck_history *hist = v->hub ? hub_history(v->hub) : NULL;
	const struct lincheck_op *hop = NULL;
	if (hist && n >= 1 && (size_t)n <= hist->n && hist->ops[n - 1].client == (uint32_t)k)
		hop = &hist->ops[n - 1];
	if (hop) {
		ui_bytes(key, sizeof key, (const uint8_t *)hop->key, strlen(hop->key));
		if (hop->value)
			ui_bytes(value, sizeof value, (const uint8_t *)hop->value, strlen(hop->value));
		op_brief(what, sizeof what, op, key, value, hop->value != NULL, (int64_t)hop->version);
	} else {
		snprintf(what, sizeof what, "%s #%" PRId64, op, n);
	}
	if (json_object_get(ev, "value"))
		snprintf(out, sizeof out, " \"%s\" v%" PRId64, jtext(ev, "value", value, sizeof value), jint(ev, "version"));
	else if (json_object_get(ev, "n"))               /* del's count, incr's new value */
		snprintf(out, sizeof out, " %" PRId64, jint(ev, "n"));
	char lat[24], tries[24] = "";
	if (jint(ev, "attempts") > 1)
		snprintf(tries, sizeof tries, ", %" PRId64 " tries", jint(ev, "attempts"));
	snprintf(o, room, "c%" PRId64 " %s %s%s %s in %s (n%" PRId64 "%s)", k, what, v->utf8 ? "→" : "->", out,
		 jstr(ev, "err"), lat_text(jint(ev, "latency"), lat, sizeof lat), jint(ev, "server"), tries);
}

/* A list of node ids (a JSON array) as "{1,2}". */
static void id_list(json_t *arr, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "{");
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) {
		if (o >= len)
			break;
		o += (size_t)snprintf(buf + o, len - o, "%s%" PRId64, i ? "," : "", (int64_t)json_integer_value(x));
	}
	if (o < len)
		snprintf(buf + o, len - o, "}");
}

/* " (text-02.txt)": a map task's input file, when the job names it. */
static const char *input_of(const struct tui_view *v, int64_t task, char *buf, size_t len)
{
	const char *f = v->hub && task >= 0 ? ui_mr_input(v->hub, (uint32_t)task) : NULL;
	if (f)
		snprintf(buf, len, " (%s)", f);
	else if (len)
		buf[0] = 0;
	return buf;
}

/* MapReduce's events (kind mr): the messages between the workers and the
 * coordinator, the board's task and worker reports, the job's phases.
 * False if ev is none of them. */
static bool mr_event_text(const struct tui_view *v, json_t *ev, const char *name, char *o, size_t room)
{
	int64_t node = jint(ev, "node"), task = jint(ev, "task");
	char file[96], a[16], b[16], s1[24], s2[24];
	if (!strcmp(name, "send") && !strncmp(jstr(ev, "type"), "Mr", 2)) {
		const char *type = jstr(ev, "type");
		int64_t from = jint(ev, "from"), to = jint(ev, "to");
		char what[160];
		if (!strcmp(type, "MrAsk")) {
			snprintf(what, sizeof what, "n%" PRId64 " asks for a task", from);
		} else if (!strcmp(type, "MrDone")) {
			snprintf(what, sizeof what, "n%" PRId64 " finished %s task %" PRId64, from, jstr(ev, "task_type"), task);
		} else if (!strcmp(type, "MrOrder")) {
			const char *order = jstr(ev, "order");
			if (!strcmp(order, "map"))
				snprintf(what, sizeof what, "n%" PRId64 " maps task %" PRId64 "%s", to, task,
					 input_of(v, task, file, sizeof file));
			else if (!strcmp(order, "reduce"))
				snprintf(what, sizeof what, "n%" PRId64 " reduces task %" PRId64, to, task);
			else if (!strcmp(order, "wait"))
				snprintf(what, sizeof what, "n%" PRId64 " waits: no task to hand out yet", to);
			else if (!strcmp(order, "exit"))
				snprintf(what, sizeof what, "n%" PRId64 " exits: the job is done", to);
			else
				snprintf(what, sizeof what, "%s", order);
		} else {
			snprintf(what, sizeof what, "%s", type);
		}
		snprintf(o, room, "#%" PRId64 " %s%s%s %s: %s", jint(ev, "id"), ui_endpoint((uint32_t)from, a, sizeof a),
			 v->utf8 ? "→" : "->", ui_endpoint((uint32_t)to, b, sizeof b), type, what);
	} else if (!strcmp(name, "task")) {
		const char *type = jstr(ev, "type"), *state = jstr(ev, "state");
		int64_t worker = jint(ev, "worker"), runs = jint(ev, "runs");
		if (!strcmp(state, "done"))
			snprintf(o, room, "task %s %" PRId64 " done by n%" PRId64 "%s", type, task, worker,
				 runs > 1 ? " (it was re-executed)" : "");
		else if (!strcmp(state, "in progress") && runs > 1)
			snprintf(o, room, "task %s %" PRId64 " handed to n%" PRId64 " again (run %" PRId64 ")", type, task,
				 worker, runs);
		else if (!strcmp(state, "in progress"))
			snprintf(o, room, "task %s %" PRId64 " in progress on n%" PRId64, type, task, worker);
		else if (!strcmp(state, "idle") && runs > 0)
			snprintf(o, room, "task %s %" PRId64 " timed out: idle again, for the next worker that asks", type, task);
		else
			snprintf(o, room, "task %s %" PRId64 " %s", type, task, state);
	} else if (!strcmp(name, "worker")) {
		const char *state = jstr(ev, "state");
		if (!strcmp(state, "mapping"))
			snprintf(o, room, "n%" PRId64 " maps task %" PRId64 "%s: reads %s, writes %s", node, task,
				 input_of(v, task, file, sizeof file), ui_size((uint64_t)jint(ev, "bytes_in"), s1, sizeof s1),
				 ui_size((uint64_t)jint(ev, "bytes_out"), s2, sizeof s2));
		else if (!strcmp(state, "reducing"))
			snprintf(o, room, "n%" PRId64 " reduces task %" PRId64 ": reads %s, writes %s", node, task,
				 ui_size((uint64_t)jint(ev, "bytes_in"), s1, sizeof s1),
				 ui_size((uint64_t)jint(ev, "bytes_out"), s2, sizeof s2));
		else if (!strcmp(state, "asking"))
			snprintf(o, room, "n%" PRId64 " asks for a task", node);
		else if (!strcmp(state, "waiting"))
			snprintf(o, room, "n%" PRId64 " waits (nothing to do yet)", node);
		else
			snprintf(o, room, "n%" PRId64 " %s", node, state);
	} else if (!strcmp(name, "job")) {
		const char *phase = jstr(ev, "phase");
		if (!strcmp(phase, "map"))
			snprintf(o, room, "job: map phase, %" PRId64 " map tasks, then %" PRId64 " reduce tasks", jint(ev, "maps"),
				 jint(ev, "reduces"));
		else if (!strcmp(phase, "reduce"))
			snprintf(o, room, "job: every map task done, reduce phase (%" PRId64 " tasks)", jint(ev, "reduces"));
		else if (!strcmp(phase, "done"))
			snprintf(o, room, "job done: every reduce task finished");
		else
			snprintf(o, room, "job: %s", phase);
	} else if (!strcmp(name, "exit")) {
		snprintf(o, room, "n%" PRId64 " exits: job done", node);
	} else {
		return false;
	}
	return true;
}

void ui_event_text(const struct tui_view *v, json_t *ev, char *buf, size_t len)
{
	const char *name = jstr(ev, "ev");
	double t = (double)jint(ev, "t") / 1000.0;
	int64_t node = jint(ev, "node");
	int n = snprintf(buf, len, "%9.3f  ", t);
	if (n < 0 || (size_t)n >= len)
		return;
	char *o = buf + n;
	size_t room = len - (size_t)n;
	char a[16], b[16], tmp[96];
	if (mr_event_text(v, ev, name, o, room))
		return;
	if (!strcmp(name, "role"))
		snprintf(o, room, "n%" PRId64 " becomes %s in term %" PRId64, node, jstr(ev, "role"), jint(ev, "term"));
	else if (!strcmp(name, "term"))
		snprintf(o, room, "n%" PRId64 " moves to term %" PRId64, node, jint(ev, "term"));
	else if (!strcmp(name, "vote"))
		snprintf(o, room, "n%" PRId64 " votes for n%" PRId64 " in term %" PRId64, node, jint(ev, "for"), jint(ev, "term"));
	else if (!strcmp(name, "append"))
		snprintf(o, room, "n%" PRId64 " appends index %" PRId64 " (term %" PRId64 ")", node, jint(ev, "index"), jint(ev, "term"));
	else if (!strcmp(name, "truncate"))
		snprintf(o, room, "n%" PRId64 " truncates its log from index %" PRId64, node, jint(ev, "from"));
	else if (!strcmp(name, "commit"))
		snprintf(o, room, "n%" PRId64 " commits up to index %" PRId64, node, jint(ev, "index"));
	else if (!strcmp(name, "apply"))
		snprintf(o, room, "n%" PRId64 " applies %" PRId64 ": %s", node, jint(ev, "index"), jstr(ev, "data"));
	else if (!strcmp(name, "send") && !strncmp(jstr(ev, "type"), "Kv", 2)) {
		/* a client's request or a server's answer */
		ui_endpoint((uint32_t)jint(ev, "from"), a, sizeof a);
		ui_endpoint((uint32_t)jint(ev, "to"), b, sizeof b);
		char what[96] = "";
		if (json_object_get(ev, "op"))
			snprintf(what, sizeof what, " %s %s%s", jstr(ev, "op"), jtext(ev, "key", tmp, sizeof tmp),
				 json_is_true(json_object_get(ev, "local")) ? " (local read)" : "");
		else if (json_object_get(ev, "err"))
			snprintf(what, sizeof what, " %s", jstr(ev, "err"));
		snprintf(o, room, "#%" PRId64 " %s%s%s %s%s", jint(ev, "id"), a, v->utf8 ? "→" : "->", b, jstr(ev, "type"), what);
	} else if (!strcmp(name, "send")) {
		char what[96] = "";
		json_t *ok = json_object_get(ev, "ok"), *granted = json_object_get(ev, "granted");
		if (granted)
			snprintf(what, sizeof what, json_is_true(granted) ? " vote granted" : " vote refused");
		else if (ok && json_is_true(ok))
			snprintf(what, sizeof what, " ok, match %" PRId64, jint(ev, "match"));
		else if (ok && json_object_get(ev, "conflict_index"))
			snprintf(what, sizeof what, " refused: conflict term %" PRId64 " from %" PRId64,
				 jint(ev, "conflict_term"), jint(ev, "conflict_index"));
		else if (ok)
			snprintf(what, sizeof what, " refused (stale term)");
		else if (json_object_get(ev, "entries") && jint(ev, "entries") > 0)
			snprintf(what, sizeof what, " %" PRId64 " entr%s after %" PRId64, jint(ev, "entries"),
				 jint(ev, "entries") == 1 ? "y" : "ies", jint(ev, "prev"));
		snprintf(o, room, "#%" PRId64 " %s %s->%s t%" PRId64 "%s", jint(ev, "id"), jstr(ev, "type"),
			 ui_endpoint((uint32_t)jint(ev, "from"), a, sizeof a), ui_endpoint((uint32_t)jint(ev, "to"), b, sizeof b),
			 jint(ev, "term"), what);
	}
	else if (!strcmp(name, "deliver") || !strcmp(name, "dup") || !strcmp(name, "hurry"))
		snprintf(o, room, "#%" PRId64 " %s", jint(ev, "id"),
			 !strcmp(name, "deliver") ? "delivered" : !strcmp(name, "dup") ? "duplicated" : "delivered at once");
	else if (!strcmp(name, "drop"))
		snprintf(o, room, "#%" PRId64 " dropped (%s)", jint(ev, "id"), jstr(ev, "why"));
	else if (!strcmp(name, "partition")) {
		char *s = json_dumps(json_object_get(ev, "groups"), JSON_COMPACT);
		snprintf(o, room, "partition into %s", s ? s : "?");
		free(s);
	} else if (!strcmp(name, "cut"))
		snprintf(o, room, "link n%" PRId64 "->n%" PRId64 " cut", jint(ev, "from"), jint(ev, "to"));
	else if (!strcmp(name, "op"))
		op_text(v, ev, o, room);
	else if (!strcmp(name, "etcd_request")) {
		/* an etcd client's request, sent to one member's HTTP gateway */
		int64_t att = jint(ev, "attempt");
		snprintf(tmp, sizeof tmp, ", try %" PRId64, att);
		snprintf(o, room, "c%" PRId64 " %s n%" PRId64 ": %s%s", jint(ev, "client"), v->utf8 ? "→" : "->", node,
			 jstr(ev, "op"), att > 1 ? tmp : "");
	} else if (!strcmp(name, "etcd_retry"))
		snprintf(o, room, "c%" PRId64 ": no result from n%" PRId64 " (%s); the next member", jint(ev, "client"),
			 node, jstr(ev, "why"));
	else if (!strcmp(name, "client")) {
		id_list(json_object_get(ev, "reach"), tmp, sizeof tmp);
		/* an etcd client's reads through the log are etcd's quorum reads */
		const char *reads = jstr(ev, "reads");
		snprintf(o, room, "client c%" PRId64 " joins: reaches %s, reads %s", jint(ev, "client"), tmp,
			 v->etcd && !strcmp(reads, "log") ? "quorum" : reads);
	} else if (!strcmp(name, "reach")) {
		id_list(json_object_get(ev, "nodes"), tmp, sizeof tmp);
		snprintf(o, room, "c%" PRId64 " now reaches %s", jint(ev, "client"), tmp);
	} else if (!strcmp(name, "snapshot"))
		snprintf(o, room, "n%" PRId64 " snapshot at %" PRId64 " (%s, %" PRId64 " B)", node, jint(ev, "index"),
			 jstr(ev, "how"), jint(ev, "bytes"));
	else if (!strcmp(name, "check")) {
		const char *verdict = jstr(ev, "verdict");
		if (!strcmp(verdict, "ok"))
			snprintf(o, room, "check: linearizable (%" PRId64 " ops)", jint(ev, "ops"));
		else if (!strcmp(verdict, "illegal"))
			snprintf(o, room, "check: NOT linearizable: key %s (%" PRId64 " ops)", jtext(ev, "key", tmp, sizeof tmp),
				 jint(ev, "ops"));
		else
			snprintf(o, room, "check: %s (%" PRId64 " ops)", verdict, jint(ev, "ops"));
	} else if (!strcmp(name, "note") || !strcmp(name, "error")) {
		if (node)
			snprintf(o, room, "n%" PRId64 ": %s", node, jstr(ev, "text"));
		else
			snprintf(o, room, "%s", jstr(ev, "text"));
	} else if (!strcmp(name, "crash")) {
		if (json_object_get(ev, "why"))
			snprintf(o, room, "n%" PRId64 " crashed: %s", node, jstr(ev, "why"));
		else
			snprintf(o, room, "n%" PRId64 " crashed", node);
	} else if (node)
		snprintf(o, room, "n%" PRId64 " %s", node, name);
	else
		snprintf(o, room, "%s", name);
}

int ui_wrap(WINDOW *win, int y, int x, int w, int last, const char *text)
{
	const char *p = text;
	while (*p && y <= last) {
		if (*p == '\n') {                /* a blank line between paragraphs */
			y++;
			p++;
			continue;
		}
		/* the longest run of whole words that fits in w columns (counting
		 * characters, not bytes, so UTF-8 text wraps right) */
		const char *end = p, *cut = NULL;
		int cols = 0;
		while (*end && *end != '\n') {
			if (*end == ' ')
				cut = end;
			if (((unsigned char)*end & 0xc0) != 0x80)
				cols++;
			if (cols > w)
				break;
			end++;
		}
		if (*end && *end != '\n' && cut)
			end = cut;
		if (win)                         /* NULL: only count the rows */
			mvwaddnstr(win, y, x, p, (int)(end - p));
		y++;
		p = end;
		while (*p == ' ')
			p++;
		if (*p == '\n')
			p++;
	}
	return y;
}

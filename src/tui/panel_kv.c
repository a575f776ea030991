/*
 * panel_kv.c — the key/value service at a glance (kinds kv and kvsrv):
 * what every replica holds, what every client is doing, the history of
 * their operations, and the last linearizability verdict.
 *
 * Replicas: one row per key (sorted by its bytes), one column per node,
 * each cell the value (cut short) and its version.  A key whose value
 * differs between running replicas is marked (≠) and the cells that differ
 * from the leader's value (or, without a leader, the first running
 * replica's) are drawn in the fault colour, so a replica left behind in a
 * minority shows at a glance.  Crashed and paused nodes are dimmed: their
 * column is what they last reported.  When the keys do not fit, the
 * divergent ones are shown first.
 *
 * Clients: reach, read mode, operations done, and the operation in flight
 * with how long it has waited in virtual time; past a second it is shown
 * BLOCKED (a client confined to a minority waits for ever while the
 * majority's clients go on).
 *
 * History: newest first, pending operations marked, errors (ErrMaybe,
 * ErrVersion, ErrNoKey) in colour.  Verdict: what the last check found
 * (K, or c:check_linearizable() at the prompt), shown until the history
 * changes.
 *
 * On etcd the clients, the history and the verdict are as on our own
 * kinds, but there are no replica tables to draw: the hub mirrors only
 * what each member's status endpoint says, so the section says where the
 * data is (a get reads it) instead of showing empty columns.
 *
 * It only reads the hub's mirror and history; it never changes the run.
 * Wide enough, history sits beside the replicas and clients; otherwise the
 * sections stack and share the rows.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "panel.h"

#define MAX_KEYS 2048            /* keys looked at per frame (beyond: counted only) */
#define BLOCKED_MS 1000          /* an operation waiting this long is BLOCKED */
#define SIDE_BY_SIDE 140         /* inner width from which history goes beside */

struct keyrow {
	const uint8_t *key;
	uint32_t len;
	bool diverges;
	bool shown;
};

static struct keyrow rows_buf[MAX_KEYS];

static int keycmp(const void *a, const void *b)
{
	const struct keyrow *x = a, *y = b;
	uint32_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static bool running(const struct hub_node *nd)
{
	return nd->status == HUB_NODE_UP;
}

/* The replica's entry for a key; NULL if it has none (a deleted key's
 * tombstone counts as none). */
static const struct kv_entry *mirror_lookup(const struct kv_store *kv, const uint8_t *key, uint32_t len)
{
	const struct kv_entry *e = kv ? kv_lookup(kv, key, len) : NULL;
	return e && e->version ? e : NULL;
}

static const struct kv_entry *lookup(const struct hub_node *nd, const struct keyrow *k)
{
	return mirror_lookup(nd->kv, k->key, k->len);
}

static bool same(const struct kv_entry *a, const struct kv_entry *b)
{
	if (!a || !b)
		return a == b;
	return a->version == b->version && a->value_len == b->value_len &&
	       memcmp(a->value, b->value, a->value_len) == 0;
}

/* The replica whose value is the reference for a row: the leader if it
 * runs, else the first running replica; 0 if none runs. */
static uint32_t reference(const struct hub *h)
{
	uint32_t n = hub_size(h), l = hub_leader(h);
	if (l && running(hub_node(h, l)))
		return l;
	for (uint32_t i = 1; i <= n; i++)
		if (running(hub_node(h, i)))
			return i;
	return 0;
}

/* Every key any replica holds, once, sorted; *total counts them all. */
static size_t collect(const struct hub *h, size_t *total)
{
	uint32_t n = hub_size(h);
	size_t k = 0;
	*total = 0;
	for (uint32_t i = 1; i <= n; i++) {
		const struct hub_node *nd = hub_node(h, i);
		if (!nd->kv)
			continue;
		size_t it = 0;
		const struct kv_entry *e;
		while ((e = kv_next(nd->kv, &it)) != NULL) {
			bool seen = false;
			for (uint32_t j = 1; j < i && !seen; j++) {
				const struct hub_node *o = hub_node(h, j);
				seen = mirror_lookup(o->kv, e->key, e->key_len) != NULL;
			}
			if (seen)
				continue;
			(*total)++;
			if (k < MAX_KEYS)
				rows_buf[k++] = (struct keyrow){ .key = e->key, .len = e->key_len };
		}
	}
	qsort(rows_buf, k, sizeof *rows_buf, keycmp);
	for (size_t r = 0; r < k; r++) {
		const struct kv_entry *first = NULL;
		bool any = false;
		for (uint32_t i = 1; i <= n; i++) {
			const struct hub_node *nd = hub_node(h, i);
			if (!running(nd))
				continue;
			const struct kv_entry *e = lookup(nd, &rows_buf[r]);
			if (!any) {
				first = e;
				any = true;
			} else if (!same(first, e)) {
				rows_buf[r].diverges = true;
				break;
			}
		}
	}
	return k;
}

static int set_attr(WINDOW *w, int attr)
{
	wattron(w, attr);
	return attr;
}

/* A section's header row: bold, in the title colour. */
static void header(WINDOW *w, const struct tui_view *v, int y, int x, int width, const char *text)
{
	int a = set_attr(w, (int)A_BOLD | ui_attr(v, CP_TITLE, 0));
	ui_print(w, y, x, width, "%s", text);
	wattroff(w, a);
}

/* A value cut to fit `width` columns (and len bytes), the cut marked. */
static void cut_value(const struct tui_view *v, char *buf, size_t len, const uint8_t *p, size_t n, int width)
{
	const char *more = ui_glyph(v, "…", "~");
	size_t ml = strlen(more);
	if (width < 1 || len < ml + 2) {
		if (len)
			buf[0] = 0;
		return;
	}
	size_t room = (size_t)width < len - 1 ? (size_t)width : len - 1;
	if (n <= room) {
		ui_bytes(buf, len, p, n);
		return;
	}
	size_t keep = (size_t)width - 1 < len - 1 - ml ? (size_t)width - 1 : len - 1 - ml;
	ui_bytes(buf, keep + 1, p, keep);
	memcpy(buf + keep, more, ml + 1);
}

/* ---- replicas ----------------------------------------------------------- */

static int want_replicas(size_t nkeys, size_t total)
{
	return 1 + (nkeys ? (int)nkeys : 1) + (total > nkeys ? 1 : 0);
}

static void draw_replicas(WINDOW *w, const struct tui_view *v, int y, int x, int width, int rows,
			  size_t nkeys, size_t total)
{
	if (rows <= 0)
		return;
	if (v->etcd) {
		header(w, v, y, x, width, " replicas");
		if (rows > 1) {
			wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
			ui_print(w, y + 1, x, width, "etcd's tables are not mirrored here: a get reads them (k: get KEY)");
			wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
		}
		return;
	}
	const struct hub *h = v->hub;
	uint32_t n = hub_size(h), leader = hub_leader(h), ref = reference(h);
	/* the key column, then one column per node */
	int kw = 3;
	for (size_t r = 0; r < nkeys; r++)
		if ((int)rows_buf[r].len > kw)
			kw = (int)rows_buf[r].len;
	int cap = width / 4 > 16 ? 16 : width / 4;
	if (kw > cap)
		kw = cap;
	int cw = (width - kw - 2) / (int)n;
	if (cw > 18)
		cw = 18;
	if (cw < 3)
		cw = 3;
	int cx = x + kw + 2;
	/* header: n1 n2 ... with the leader starred, the others' state */
	wattron(w, (int)A_BOLD | ui_attr(v, CP_TITLE, 0));
	ui_print(w, y, x, kw + 2, " key");
	wattroff(w, (int)A_BOLD | ui_attr(v, CP_TITLE, 0));
	for (uint32_t i = 1; i <= n; i++) {
		const struct hub_node *nd = hub_node(h, i);
		char lab[32];
		const char *st = !running(nd) ? ui_status_name(nd) : nd->paused ? "paused" : "";
		snprintf(lab, sizeof lab, "%sn%u%s%s", i == leader ? "*" : "", i, *st ? " " : "", st);
		int a = !running(nd) || nd->paused ? ui_attr(v, CP_DIM, (int)A_DIM) : (int)A_BOLD | ui_attr(v, CP_TITLE, 0);
		if (i == v->selected)
			a |= (int)A_REVERSE;
		wattron(w, a);
		ui_print(w, y, cx + (int)(i - 1) * cw, cw - 1, "%s", lab);
		wattroff(w, a);
	}
	y++;
	rows--;
	if (rows <= 0)
		return;
	if (nkeys == 0) {
		wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
		ui_print(w, y, x, width, "no keys yet: k sends a request (put x 1)");
		wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
		return;
	}
	/* which keys: all if they fit, else the divergent ones first */
	bool over = total > (size_t)rows || nkeys > (size_t)rows;
	size_t room = over ? (size_t)(rows - 1) : nkeys, picked = 0;
	for (size_t r = 0; r < nkeys; r++)
		rows_buf[r].shown = false;
	for (int pass = 0; pass < 2; pass++)
		for (size_t r = 0; r < nkeys && picked < room; r++)
			if (!rows_buf[r].shown && (pass == 1 || rows_buf[r].diverges)) {
				rows_buf[r].shown = true;
				picked++;
			}
	for (size_t r = 0; r < nkeys; r++) {
		const struct keyrow *k = &rows_buf[r];
		if (!k->shown)
			continue;
		char key[64];
		cut_value(v, key, sizeof key, k->key, k->len, kw);
		int ka = k->diverges ? (ui_attr(v, CP_CANDIDATE, (int)A_STANDOUT) | (int)A_BOLD) : (int)A_NORMAL;
		wattron(w, ka);
		ui_print(w, y, x, kw + 2, "%s%s", k->diverges ? ui_glyph(v, "≠", "!") : " ", key);
		wattroff(w, ka);
		const struct kv_entry *re = ref ? lookup(hub_node(h, ref), k) : NULL;
		for (uint32_t i = 1; i <= n; i++) {
			const struct hub_node *nd = hub_node(h, i);
			const struct kv_entry *e = lookup(nd, k);
			int px = cx + (int)(i - 1) * cw;
			int a = (int)A_NORMAL;
			if (!running(nd) || nd->paused)
				a = ui_attr(v, CP_DIM, (int)A_DIM);
			else if (k->diverges && !same(e, re))
				a = ui_attr(v, CP_CUT, (int)A_REVERSE) | (int)A_BOLD;
			wattron(w, a);
			if (!e) {
				ui_print(w, y, px, cw - 1, "-");
			} else {
				char ver[24], val[128];
				snprintf(ver, sizeof ver, " v%" PRIu64, e->version);
				int vw = (int)strlen(ver);
				if (cw - 1 - vw < 2)
					vw = 0;
				cut_value(v, val, sizeof val, e->value, e->value_len, cw - 1 - vw);
				ui_print(w, y, px, cw - 1, "%s", val);
				if (vw) {
					int da = a == (int)A_NORMAL ? ui_attr(v, CP_DIM, (int)A_DIM) : 0;
					wattron(w, da);
					ui_print(w, y, px + cw - 1 - vw, vw, "%s", ver);
					wattroff(w, da);
				}
			}
			wattroff(w, a);
		}
		y++;
	}
	if (over) {
		size_t hidden_div = 0;
		for (size_t r = 0; r < nkeys; r++)
			if (rows_buf[r].diverges && !rows_buf[r].shown)
				hidden_div++;
		wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
		ui_print(w, y, x, width, "%s %zu more key%s%s", ui_glyph(v, "…", "..."), total - picked,
			 total - picked == 1 ? "" : "s", hidden_div ? " (some differ)" : "");
		wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
	}
}

/* ---- clients ------------------------------------------------------------ */

/* A reach mask as "1-5", "2-3" or "{1,4,5}". */
static void reach_text(uint32_t mask, uint32_t n, char *buf, size_t len)
{
	uint32_t lo = 0, hi = 0, count = 0;
	for (uint32_t i = 1; i <= n; i++)
		if (mask & (1u << i)) {
			if (!lo)
				lo = i;
			hi = i;
			count++;
		}
	if (!count) {
		snprintf(buf, len, "none");
	} else if (count == 1) {
		snprintf(buf, len, "{%u}", lo);
	} else if (hi - lo + 1 == count) {
		snprintf(buf, len, "%u-%u", lo, hi);
	} else {
		size_t o = (size_t)snprintf(buf, len, "{");
		for (uint32_t i = 1; i <= n && o < len; i++)
			if (mask & (1u << i))
				o += (size_t)snprintf(buf + o, len - o, "%s%u", o > 1 ? "," : "", i);
		if (o < len)
			snprintf(buf + o, len - o, "}");
	}
}

static void ms_text(uint64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	else
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
}

/* An operation of the history in brief: put x=1, get x, append x+=2. */
static void op_brief(const struct lincheck_op *op, char *buf, size_t len, int vwidth)
{
	char key[40], val[64] = "";
	ui_bytes(key, sizeof key, (const uint8_t *)op->key, strlen(op->key));
	if (op->value) {
		char tmp[128];
		ui_bytes(tmp, sizeof tmp, (const uint8_t *)op->value, strlen(op->value));
		snprintf(val, sizeof val, "%.*s", vwidth, tmp);
	}
	switch (op->kind) {
	case LINCHECK_GET:
		snprintf(buf, len, "get %s", key);
		break;
	case LINCHECK_APPEND:
		snprintf(buf, len, "append %s+=%s", key, val);
		break;
	case LINCHECK_VPUT:
		snprintf(buf, len, "put %s=%s if v%" PRIu64, key, val, op->version);
		break;
	case LINCHECK_DEL:
		snprintf(buf, len, "del %s", key);
		break;
	case LINCHECK_INCR:
		snprintf(buf, len, "incr %s", key);
		break;
	default:
		snprintf(buf, len, "put %s=%s", key, val);
		break;
	}
}

/* The pending operation of client k, or NULL. */
static const struct lincheck_op *pending_of(const struct lincheck_history *hist, uint32_t k)
{
	for (size_t i = hist->n; i > 0; i--) {
		const struct lincheck_op *op = &hist->ops[i - 1];
		if (op->client == k)
			return op->ret == LINCHECK_PENDING ? op : NULL;
	}
	return NULL;
}

static int want_clients(uint32_t nc)
{
	return 1 + (nc ? (int)nc : 1);
}

static void draw_clients(WINDOW *w, const struct tui_view *v, int y, int x, int width, int rows)
{
	if (rows <= 0)
		return;
	const struct hub *h = v->hub;
	uint32_t nc = hub_clients(h), n = hub_size(h);
	header(w, v, y++, x, width, "client reach   reads   done now");
	rows--;
	if (rows <= 0)
		return;
	if (nc == 0) {
		wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
		ui_print(w, y, x, width, "no clients yet: k makes one");
		wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
		return;
	}
	const struct lincheck_history *hist = hub_history(h);
	/* all of them if they fit; else the busy ones and the request line's
	 * first, then a count */
	static uint32_t pick[256];
	uint32_t np = 0, slots = nc <= (uint32_t)rows ? nc : rows >= 3 ? (uint32_t)rows - 1 : (uint32_t)rows;
	if (slots > 256)
		slots = 256;
	for (int pass = 0; pass < 2 && np < slots; pass++)
		for (uint32_t k = 1; k <= nc && np < slots; k++) {
			struct hub_client_view cv;
			if (hub_client_view(h, k, &cv) != 0)
				continue;
			bool first = cv.busy || k == v->kv_client;     /* what matters now */
			if (nc <= slots ? pass == 0 : (pass == 0) == first)
				pick[np++] = k;
		}
	for (uint32_t i = 1; i < np; i++)             /* shown in order */
		for (uint32_t j = i; j > 0 && pick[j - 1] > pick[j]; j--) {
			uint32_t t = pick[j];
			pick[j] = pick[j - 1];
			pick[j - 1] = t;
		}
	for (uint32_t i = 0; i < np; i++, y++) {
		uint32_t k = pick[i];
		struct hub_client_view cv;
		hub_client_view(h, k, &cv);
		char reach[48], now[160];
		reach_text(cv.reach, n, reach, sizeof reach);
		int na;
		if (cv.busy) {
			const struct lincheck_op *op = pending_of(hist, k);
			char what[96] = "", waited[24];
			if (op)
				op_brief(op, what, sizeof what, 12);
			uint64_t ms = v->clock > cv.since ? v->clock - cv.since : 0;
			ms_text(ms, waited, sizeof waited);
			bool blocked = ms >= BLOCKED_MS;
			snprintf(now, sizeof now, "%s %s %s", blocked ? "BLOCKED" : "waiting", waited, what);
			na = blocked ? (ui_attr(v, CP_CUT, (int)A_BOLD) | (int)A_BOLD) : ui_attr(v, CP_CANDIDATE, (int)A_NORMAL);
		} else {
			if (cv.leader)
				snprintf(now, sizeof now, "idle, tries n%u first", cv.leader);
			else
				snprintf(now, sizeof now, "idle");
			na = ui_attr(v, CP_DIM, (int)A_DIM);
		}
		int ca = k == v->kv_client ? (int)A_BOLD : (int)A_NORMAL;
		wattron(w, ca);
		/* etcd reads are linearizable (a quorum's read index) unless serializable (local) */
		ui_print(w, y, x, width, "%sc%-4u %-7s %-6s %5" PRIu64, k == v->kv_client ? ">" : " ", k, reach,
			 cv.local_reads ? "local" : v->etcd ? "quorum" : "log", cv.done);
		wattroff(w, ca);
		wattron(w, na);
		ui_print(w, y, x + 27, width - 27, " %s", now);
		wattroff(w, na);
	}
	if (np < nc && np < (uint32_t)rows) {
		wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
		ui_print(w, y, x, width, "%s %u more client%s", ui_glyph(v, "…", "..."), nc - np, nc - np == 1 ? "" : "s");
		wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
	}
}

/* ---- history ------------------------------------------------------------ */

/* The history's times are in units_per_ms units of a millisecond. */
static uint64_t op_ms(const struct lincheck_history *hist, uint64_t t)
{
	return t / (hist->units_per_ms > 1 ? hist->units_per_ms : 1);
}

static void draw_history(WINDOW *w, const struct tui_view *v, int y, int x, int width, int rows)
{
	if (rows <= 0)
		return;
	const struct hub *h = v->hub;
	const struct lincheck_history *hist = hub_history(h);
	/* columns: client, operation, result, call, return, latency, tries, err;
	 * the operation and its result share what the others leave */
	uint64_t last = hist->n ? op_ms(hist, hist->ops[hist->n - 1].call) : 0;
	int tw = last >= 1000000 ? 9 : last >= 100000 ? 8 : 7;        /* "123.456" s */
	int flex = width - (4 + 1 + tw + 1 + tw + 1 + 5 + 1 + 2 + 1 + 10) - 2;
	int res_w = flex * 2 / 5, what_w = flex - res_w;
	if (res_w < 6)
		res_w = 6;
	if (what_w < 8)
		what_w = 8;
	char head[256];
	snprintf(head, sizeof head, "cl  %-*s %-*s %*s %*s %5s %2s %s", what_w, what_w >= 24 ? "operation (newest first)" : "operation",
		 res_w, "result", tw, "call", tw, "return", "took", "tr", "err");
	header(w, v, y++, x, width, head);
	rows--;
	if (rows <= 0)
		return;
	if (hist->n == 0) {
		wattron(w, ui_attr(v, CP_DIM, (int)A_DIM));
		ui_print(w, y, x, width, "no operations yet");
		wattroff(w, ui_attr(v, CP_DIM, (int)A_DIM));
		return;
	}
	for (size_t i = hist->n; i > 0 && rows > 0; i--, rows--, y++) {
		const struct lincheck_op *op = &hist->ops[i - 1];
		struct hub_op_extra x2;
		hub_history_extra(h, i - 1, &x2);
		char what[128], res[128] = "", ret[16], took[16], tries[8] = "", err[24] = "";
		op_brief(op, what, sizeof what, what_w);
		bool pending = op->ret == LINCHECK_PENDING;
		uint64_t call = op_ms(hist, op->call);
		if (pending) {
			snprintf(ret, sizeof ret, tw >= 7 ? "pending" : "...");
			ms_text(v->clock > call ? v->clock - call : 0, took, sizeof took);
		} else {
			snprintf(ret, sizeof ret, "%.3f", (double)op_ms(hist, op->ret) / 1000.0);
			ms_text(op_ms(hist, op->ret) - call, took, sizeof took);
			snprintf(tries, sizeof tries, "%u", x2.attempts);
			snprintf(err, sizeof err, "%s", kv_err_name(x2.err));
			if (op->kind == LINCHECK_GET) {
				char val[96];
				const char *ov = op->out_value ? op->out_value : "";
				cut_value(v, val, sizeof val, (const uint8_t *)ov, strlen(ov), res_w - 6);
				snprintf(res, sizeof res, "\"%s\" v%" PRIu64, val, op->out_version);
			}
			if (op->kind == LINCHECK_INCR && op->out_value)
				snprintf(res, sizeof res, "%s", op->out_value);
		}
		if (x2.local)
			snprintf(what + strlen(what), sizeof what - strlen(what), " (local)");
		int a = pending ? ui_attr(v, CP_CANDIDATE, (int)A_BOLD) : (int)A_NORMAL;
		wattron(w, a);
		ui_print(w, y, x, width, "c%-2u %-*.*s %-*.*s %*.3f %*s %5s %2s ", op->client, what_w, what_w, what, res_w,
			 res_w, res, tw, (double)call / 1000.0, tw, ret, took, tries);
		wattroff(w, a);
		int ex = x + 4 + what_w + 1 + res_w + 1 + tw + 1 + tw + 1 + 5 + 1 + 2 + 1;
		if (!pending && ex < x + width) {
			int ea = x2.err == KV_OK ? (int)A_NORMAL
				 : x2.err == KV_ERR_MAYBE ? (ui_attr(v, CP_CANDIDATE, (int)A_BOLD) | (int)A_BOLD)
				 : (ui_attr(v, CP_DOWN, (int)A_BOLD) | (int)A_BOLD);
			wattron(w, ea);
			ui_print(w, y, ex, x + width - ex, "%s", err);
			wattroff(w, ea);
		}
	}
}

/* ---- the verdict -------------------------------------------------------- */


/* The check, if it was made on the history as it is now. */
static bool verdict_current(const struct tui_view *v)
{
	if (!v->check.have)
		return false;
	const struct lincheck_history *hist = hub_history(v->hub);
	uint64_t done = 0;
	for (size_t i = 0; i < hist->n; i++)
		if (hist->ops[i].ret != LINCHECK_PENDING)
			done++;
	return hist->n == v->check.n_ops && done == v->check.n_done;
}

/* Draw (or with win NULL, measure) the verdict in rows [y, last]: its
 * first line (the verdict in words) marked and coloured, the rest of the
 * explanation under it. */
static int draw_verdict(WINDOW *w, const struct tui_view *v, int y, int x, int width, int last)
{
	const struct check_view *c = &v->check;
	bool ok = !strcmp(c->verdict, "ok"), illegal = !strcmp(c->verdict, "illegal");
	const char *mark = ok ? ui_glyph(v, "✓", "[ok]") : illegal ? ui_glyph(v, "✗", "[X]") : "?";
	int a = ok ? (ui_attr(v, CP_OK, (int)A_BOLD) | (int)A_BOLD)
		: illegal ? (ui_attr(v, CP_ERROR, (int)A_REVERSE) | (int)A_BOLD)
			  : (ui_attr(v, CP_CANDIDATE, (int)A_BOLD) | (int)A_BOLD);
	const char *text = c->text;
	const char *nl = strchr(text, '\n');
	size_t first = nl ? (size_t)(nl - text) : strlen(text);
	char line[600];
	snprintf(line, sizeof line, "%s %.*s", mark, (int)(first > 500 ? 500 : first), text);
	if (w)
		wattron(w, a);
	y = ui_wrap(w, y, x, width, last, line);
	if (w)
		wattroff(w, a);
	text += first;
	/* the rest line by line (each wrapped), blank lines skipped */
	while (*text && y <= last) {
		while (*text == '\n')
			text++;
		nl = strchr(text, '\n');
		size_t l = nl ? (size_t)(nl - text) : strlen(text);
		snprintf(line, sizeof line, "%.*s", (int)(l > 500 ? 500 : l), text);
		if (l)
			y = ui_wrap(w, y, x + 2, width - 2, last, line);
		text += l;
	}
	return y;
}

/* ---- the panel ---------------------------------------------------------- */

static void draw(struct panel *p, const struct tui_view *v)
{
	char title[160];
	if (!v->hub) {
		ui_frame(p, v, "Key/value");
		return;
	}
	size_t total = 0;
	size_t nkeys = collect(v->hub, &total);
	uint32_t nc = hub_clients(v->hub);
	const char *v_says = !v->kv_switch ? "" : v->lesson.active ? ", v: lesson" : ", v: Raft view";
	if (v->etcd)
		snprintf(title, sizeof title, "Key/value on etcd: %u client%s (k: request, K: check%s)", nc,
			 nc == 1 ? "" : "s", v_says);
	else
		snprintf(title, sizeof title, "Key/value: %zu key%s, %u client%s (k: request, K: check%s)", total,
			 total == 1 ? "" : "s", nc, nc == 1 ? "" : "s", v_says);
	ui_frame(p, v, title);
	WINDOW *w = p->win;
	int W = p->w - 3, H = p->h - 2, x = 2, y = 1;     /* a column of margin */
	if (W < 10 || H < 1)
		return;
	/* the verdict takes the bottom rows while it holds */
	bool verdict = verdict_current(v);
	int vrows = 0;
	if (verdict) {
		int need = draw_verdict(NULL, v, 0, x, W, 1000);
		int cap = !strcmp(v->check.verdict, "illegal") ? (H * 2 / 5 > 3 ? H * 2 / 5 : 3) : 2;
		vrows = need < cap ? need : cap;
		if (vrows > H - 2)
			vrows = H - 2 > 1 ? H - 2 : 1;
	}
	int body = H - vrows;
	int wr = want_replicas(nkeys, total), wc = want_clients(nc);
	const struct lincheck_history *hist = hub_history(v->hub);
	int wh = 1 + (hist->n ? (int)hist->n : 1);
	if (W >= SIDE_BY_SIDE && body >= 4) {
		/* replicas over clients on the left, history on the right */
		int lw = W / 2 - 1, rw = W - lw - 2;
		int cr = wc < body / 2 ? wc : body / 2;
		if (cr < 2)
			cr = body >= 4 ? 2 : 0;
		int rr = body - cr;
		if (rr > wr) {
			cr += rr - wr;
			rr = wr;
		}
		draw_replicas(w, v, y, x, lw, rr, nkeys, total);
		draw_clients(w, v, y + rr, x, lw, cr);
		for (int r = 0; r < body; r++)
			mvwaddstr(w, y + r, x + lw, ui_glyph(v, "│", "|"));
		draw_history(w, v, y, x + lw + 2, rw, body);
	} else if (body >= 6) {
		/* stacked: each section its header and a row at least, then
		 * clients get theirs, replicas and history share the rest */
		int rr = 2, cr = 2, hr = 2, spare = body - 6;
		int give = wc - cr < spare ? wc - cr : spare;
		cr += give, spare -= give;
		int share = wh > hr + spare / 3 ? spare - spare / 3 : spare;   /* history keeps a third */
		give = wr - rr < share ? wr - rr : share;
		if (give < 0)
			give = 0;
		rr += give, spare -= give;
		give = wh - hr < spare ? wh - hr : spare;
		hr += give, spare -= give;
		give = wr - rr < spare ? wr - rr : spare;      /* history did not need it all */
		if (give > 0)
			rr += give, spare -= give;
		hr += spare;                                    /* what is left: blank history rows */
		draw_replicas(w, v, y, x, W, rr, nkeys, total);
		draw_clients(w, v, y + rr, x, W, cr);
		draw_history(w, v, y + rr + cr, x, W, hr);
	} else {
		/* very short: the replicas, then the clients */
		int rr = body > wr ? wr : body;
		draw_replicas(w, v, y, x, W, rr, nkeys, total);
		draw_clients(w, v, y + rr, x, W, body - rr);
	}
	if (verdict)
		draw_verdict(w, v, y + body, x, W, y + H - 1);
}

const struct panel_ops panel_kv_ops = { "kv", draw, NULL };

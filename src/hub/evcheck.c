/*
 * evcheck.c — invariant checks over an events file.  See evcheck.h.
 *
 * Works from the recorded events alone, like a model checker's verifier:
 * "role" events give the leaders of each term, "apply" events the commands
 * applied, "spawn" events start a node's apply sequence afresh (a restarted
 * node re-applies from index 1, or from after its snapshot: a "snapshot"
 * event moves the sequence past the entries it holds).  Several clusters in one file are told
 * apart by the "c" field their events carry (cluster 2, 3, ...; none: 1), whether they ran one
 * after another or at once; a cluster's "hub" event starts its checks afresh.
 */
#include "evcheck.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define MAXN 64
#define MAXC 64                      /* clusters in one file */

struct applied {
	char *data;
	uint64_t index;
	uint32_t node;
	uint64_t t;
};

struct check {
	/* leader of each term: a small open table */
	uint64_t *lt_term;
	uint32_t *lt_node;
	size_t lt_n, lt_cap;
	/* first command applied at each index */
	struct applied *ap;
	size_t ap_cap;
	uint64_t next_apply[MAXN + 1];
	uint64_t leaders, applies, lines, violations;
	int cluster;
};

static void reset(struct check *c)
{
	for (size_t i = 0; i < c->ap_cap; i++)
		free(c->ap[i].data);
	free(c->ap);
	free(c->lt_term);
	free(c->lt_node);
	c->ap = NULL;
	c->ap_cap = 0;
	c->lt_term = NULL;
	c->lt_node = NULL;
	c->lt_n = c->lt_cap = 0;
	for (int i = 0; i <= MAXN; i++)
		c->next_apply[i] = 1;
}

static int64_t geti(json_t *o, const char *k, bool *ok)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v)) {
		*ok = false;
		return 0;
	}
	return json_integer_value(v);
}

static void bad(struct check *c, FILE *out, uint64_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (c->violations < 20) {
		fprintf(out, "line %" PRIu64 ": ", line);
		vfprintf(out, fmt, ap);
		fputc('\n', out);
	}
	va_end(ap);
	c->violations++;
}

static void on_leader(struct check *c, FILE *out, uint64_t line, uint64_t term, uint32_t node)
{
	for (size_t i = 0; i < c->lt_n; i++)
		if (c->lt_term[i] == term) {
			if (c->lt_node[i] != node)
				bad(c, out, line, "two leaders in term %" PRIu64 ": node %u and node %u",
				    term, c->lt_node[i], node);
			return;
		}
	if (c->lt_n == c->lt_cap) {
		size_t cap = c->lt_cap ? 2 * c->lt_cap : 64;
		c->lt_term = realloc(c->lt_term, cap * sizeof *c->lt_term);
		c->lt_node = realloc(c->lt_node, cap * sizeof *c->lt_node);
		if (!c->lt_term || !c->lt_node) {
			fprintf(stderr, "termscope check: out of memory\n");
			exit(2);
		}
		c->lt_cap = cap;
	}
	c->lt_term[c->lt_n] = term;
	c->lt_node[c->lt_n] = node;
	c->lt_n++;
	c->leaders++;
}

static void on_apply(struct check *c, FILE *out, uint64_t line, uint64_t t, uint32_t node,
		     uint64_t index, const char *data)
{
	c->applies++;
	if (index != c->next_apply[node])
		bad(c, out, line, "node %u applied index %" PRIu64 " but its next index to apply was %" PRIu64,
		    node, index, c->next_apply[node]);
	c->next_apply[node] = index + 1;
	if (index >= c->ap_cap) {
		size_t cap = c->ap_cap ? c->ap_cap : 256;
		while (cap <= index)
			cap *= 2;
		struct applied *p = realloc(c->ap, cap * sizeof *p);
		if (!p) {
			fprintf(stderr, "termscope check: out of memory\n");
			exit(2);
		}
		memset(p + c->ap_cap, 0, (cap - c->ap_cap) * sizeof *p);
		c->ap = p;
		c->ap_cap = cap;
	}
	struct applied *a = &c->ap[index];
	if (!a->data) {
		a->data = strdup(data);
		a->index = index;
		a->node = node;
		a->t = t;
	} else if (strcmp(a->data, data) != 0) {
		bad(c, out, line, "index %" PRIu64 ": node %u applied \"%s\" but node %u applied \"%s\" (at t=%" PRIu64 ")",
		    index, node, data, a->node, a->data, a->t);
	}
}

int evcheck_file(const char *path, FILE *out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(out, "termscope check: %s: cannot open\n", path);
		return 2;
	}
	static struct check all[MAXC + 1];
	memset(all, 0, sizeof all);
	for (int k = 1; k <= MAXC; k++)
		reset(&all[k]);
	uint64_t lines = 0;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		lines++;
		if (len <= 1)
			continue;
		json_error_t err;
		json_t *o = json_loads(buf, 0, &err);
		if (!o || !json_is_object(o)) {
			fprintf(out, "termscope check: %s:%" PRIu64 ": not a JSON object: %s\n", path, lines, err.text);
			json_decref(o);
			rc = 2;
			break;
		}
		bool ok = true;
		int64_t t = geti(o, "t", &ok);
		const char *ev = json_string_value(json_object_get(o, "ev"));
		if (!ok || !ev) {
			fprintf(out, "termscope check: %s:%" PRIu64 ": an event needs \"t\" and \"ev\"\n", path, lines);
			json_decref(o);
			rc = 2;
			break;
		}
		json_t *cv = json_object_get(o, "c");
		int64_t k = cv ? (json_is_integer(cv) ? json_integer_value(cv) : -1) : 1;
		if (k < 1 || k > MAXC) {
			fprintf(out, "termscope check: %s:%" PRIu64 ": \"c\" must be a cluster number, 1 to %d\n",
				path, lines, MAXC);
			json_decref(o);
			rc = 2;
			break;
		}
		struct check *c = &all[k];
		c->lines = lines;
		if (strcmp(ev, "hub") == 0) {
			reset(c);
			c->cluster++;
		} else if (strcmp(ev, "role") == 0) {
			const char *role = json_string_value(json_object_get(o, "role"));
			int64_t node = geti(o, "node", &ok), term = geti(o, "term", &ok);
			if (ok && role && strcmp(role, "leader") == 0 && node >= 1 && node <= MAXN)
				on_leader(c, out, lines, (uint64_t)term, (uint32_t)node);
		} else if (strcmp(ev, "spawn") == 0) {
			int64_t node = geti(o, "node", &ok);
			if (ok && node >= 1 && node <= MAXN)
				c->next_apply[node] = 1;
		} else if (strcmp(ev, "snapshot") == 0) {
			/* what a snapshot holds counts as applied: later applies follow it */
			int64_t node = geti(o, "node", &ok), index = geti(o, "index", &ok);
			if (ok && node >= 1 && node <= MAXN && index >= 1 &&
			    c->next_apply[node] < (uint64_t)index + 1)
				c->next_apply[node] = (uint64_t)index + 1;
		} else if (strcmp(ev, "apply") == 0) {
			int64_t node = geti(o, "node", &ok), index = geti(o, "index", &ok);
			const char *data = json_string_value(json_object_get(o, "data"));
			if (ok && data && node >= 1 && node <= MAXN && index >= 1)
				on_apply(c, out, lines, (uint64_t)t, (uint32_t)node, (uint64_t)index, data);
		}
		json_decref(o);
	}
	free(buf);
	if (f != stdin)
		fclose(f);
	uint64_t leaders = 0, applies = 0, violations = 0;
	for (int k = 1; k <= MAXC; k++) {
		leaders += all[k].leaders;
		applies += all[k].applies;
		violations += all[k].violations;
		reset(&all[k]);
	}
	if (rc == 0 && violations)
		rc = 1;
	if (rc == 0)
		fprintf(out, "%s: ok: %" PRIu64 " events, %" PRIu64 " leaders (one per term), %" PRIu64
			" applies agree\n", path, lines, leaders, applies);
	else if (rc == 1)
		fprintf(out, "%s: %" PRIu64 " invariant violations\n", path, violations);
	return rc;
}

/*
 * evlog.c — the events file and ring.  See evlog.h.
 *
 * Lines are flushed as they are written so `tail -f` follows a live run.
 * A write error is remembered and reported once; it never stops the run.
 */
#include "evlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct evlog {
	FILE *f;
	char *path;
	json_t *ring[EVLOG_RING];
	int source[EVLOG_RING];
	size_t head, count;
	uint64_t total;
	char err[512];
};

struct evlog *evlog_open(const char *path, char *err, size_t errlen)
{
	struct evlog *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (path) {
		l->f = fopen(path, "we");
		if (!l->f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(l);
			return NULL;
		}
		l->path = strdup(path);
	}
	return l;
}

void evlog_close(struct evlog *l)
{
	if (!l)
		return;
	if (l->f && fclose(l->f) != 0 && !l->err[0])
		snprintf(l->err, sizeof l->err, "%s: %s", l->path, strerror(errno));
	for (size_t i = 0; i < l->count; i++)
		json_decref(l->ring[(l->head + i) % EVLOG_RING]);
	free(l->path);
	free(l);
}

json_t *evlog_new(uint64_t t, const char *ev)
{
	json_t *o = json_object();
	json_object_set_new(o, "t", json_integer((json_int_t)t));
	json_object_set_new(o, "ev", json_string(ev));
	return o;
}

void evlog_emit(struct evlog *l, json_t *ev, int source)
{
	if (!l || !ev) {
		json_decref(ev);
		return;
	}
	l->total++;
	/* which cluster, when a run has several (termscope check tells them
	 * apart by it); the first cluster's events stay as they always were */
	if (source >= 2)
		json_object_set_new(ev, "c", json_integer(source));
	if (l->f) {
		char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s) {
			if ((fputs(s, l->f) == EOF || fputc('\n', l->f) == EOF || fflush(l->f) != 0) && !l->err[0])
				snprintf(l->err, sizeof l->err, "%s: %s", l->path, strerror(errno));
			free(s);
		}
	}
	if (l->count == EVLOG_RING) {
		json_decref(l->ring[l->head]);
		l->ring[l->head] = ev;
		l->source[l->head] = source;
		l->head = (l->head + 1) % EVLOG_RING;
	} else {
		l->ring[(l->head + l->count) % EVLOG_RING] = ev;
		l->source[(l->head + l->count) % EVLOG_RING] = source;
		l->count++;
	}
}

json_t *evlog_bytes(const void *data, size_t len)
{
	json_t *s = json_stringn(data, len);
	if (s)
		return s;
	/* not UTF-8: show it byte by byte */
	char *buf = malloc(len * 4 + 1);
	if (!buf)
		return json_string("");
	size_t o = 0;
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			buf[o++] = (char)p[i];
		else
			o += (size_t)sprintf(buf + o, "\\x%02x", p[i]);
	}
	s = json_stringn(buf, o);
	free(buf);
	return s;
}

size_t evlog_count(const struct evlog *l)
{
	return l->count;
}

json_t *evlog_get(const struct evlog *l, size_t i)
{
	return i < l->count ? l->ring[(l->head + i) % EVLOG_RING] : NULL;
}

int evlog_source(const struct evlog *l, size_t i)
{
	return i < l->count ? l->source[(l->head + i) % EVLOG_RING] : 0;
}

uint64_t evlog_total(const struct evlog *l)
{
	return l->total;
}

const char *evlog_error(const struct evlog *l)
{
	return l->err[0] ? l->err : NULL;
}

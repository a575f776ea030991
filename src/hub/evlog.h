/*
 * evlog.h — the events file and the recent-events ring.
 *
 * Every event of a run is one JSON object with `t` (virtual ms) and `ev`
 * first, written as one line as it happens (`--events FILE`), and kept in a
 * bounded ring for the Lua API and the dashboard.  Two runs with the same
 * seed and script write identical lines but for the `pid` and `wall` fields.
 */
#ifndef TERMSCOPE_EVLOG_H
#define TERMSCOPE_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define EVLOG_RING 20000

struct evlog;

/* path may be NULL (ring only).  NULL with err filled on failure. */
struct evlog *evlog_open(const char *path, char *err, size_t errlen);
void evlog_close(struct evlog *l);
/* A new event object {"t":t,"ev":ev}; add fields, then evlog_emit. */
json_t *evlog_new(uint64_t t, const char *ev);
/* Write and keep the event; takes the reference.  `source` tells whose it
 * is (a cluster's number), for evlog_source. */
void evlog_emit(struct evlog *l, json_t *ev, int source);
/* A JSON string for bytes that may not be UTF-8 (escaped as \xNN then). */
json_t *evlog_bytes(const void *data, size_t len);
/* The ring: events oldest first; total counts every event ever emitted. */
size_t evlog_count(const struct evlog *l);
json_t *evlog_get(const struct evlog *l, size_t i);   /* borrowed */
int evlog_source(const struct evlog *l, size_t i);
uint64_t evlog_total(const struct evlog *l);
/* Write errors so far (the run goes on; the caller reports). */
const char *evlog_error(const struct evlog *l);

#endif

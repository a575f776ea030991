/*
 * store.h — one node's durable state in its data dir.
 *
 *   meta      term and vote: written to meta.tmp, fsync'd, renamed over meta,
 *             then the directory fsync'd.  Fixed layout with a magic and a
 *             CRC; a damaged meta is an error naming the file.
 *   log       an append-only file of records:
 *               u32 payload length, u32 CRC-32 (zlib) of the rest,
 *               u64 term, u64 index, payload bytes
 *             (the CRC covers the length field too: length, term, index,
 *             payload, in that order)
 *             Appends are buffered and made durable by store_sync (one fsync
 *             per batch).  Truncation (a follower's conflicting suffix) cuts
 *             the file at the first record to drop.  Recovery reads records
 *             until the first short record, bad CRC or out-of-sequence index,
 *             truncates the file there and reports what it dropped.
 *
 * The store never decides anything about Raft: it keeps what it is told.
 * Errors are values with words: each failing call fills `errmsg`
 * ("data/node-3/log: bad CRC at record 812").
 */
#ifndef TERMSCOPE_STORE_H
#define TERMSCOPE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/raft.h"

#define STORE_ERRMSG 512

struct store {
	char *dir;
	int log_fd;
	uint64_t first_index;                /* index of the first record in the log file (1) */
	uint64_t n_records;                  /* records in the file */
	uint64_t *offsets;                   /* offsets[i]: file offset of record i */
	uint64_t offsets_cap;
	uint64_t end;                        /* file size (valid records only) */
	uint64_t meta_bytes;                 /* size of meta (0: none yet) */
	uint64_t snapshot_bytes;             /* size of snapshot (0: none) */
	uint64_t snapshot_index;             /* the saved snapshot's (0: none known);
					      * store_compact goes no further */
	char errmsg[STORE_ERRMSG];
};

/* What store_load found. */
struct store_state {
	uint64_t term;
	uint32_t voted_for;
	struct raft_entry *entries;          /* entries[0] has index first_index; each data malloc'd */
	uint64_t n_entries;
	uint64_t first_index;                /* snapshot_index + 1 (1 without a snapshot) */
	/* the snapshot, if one was saved (snapshot_index 0: none) */
	uint64_t snapshot_index, snapshot_term;
	uint8_t *snapshot_data;              /* malloc'd */
	uint32_t snapshot_len;
	bool log_discarded;                  /* the log did not continue the snapshot: dropped */
	bool fresh;                          /* no meta and no log: a new node */
	bool torn;                           /* a torn/corrupt tail was cut off */
	uint64_t torn_record;                /* its record number (0-based) */
	uint64_t torn_bytes;                 /* bytes removed */
	char torn_why[128];                  /* "bad CRC", "short record", ... */
};

/* Create the dir if needed and open (or create) the log.  0 or -1. */
int store_open(struct store *s, const char *dir);
/* Read meta and the log, cutting a torn tail.  0 or -1 (damaged meta,
 * unreadable file).  Free st with store_state_free. */
int store_load(struct store *s, struct store_state *st);
void store_state_free(struct store_state *st);

int store_save_meta(struct store *s, uint64_t term, uint32_t voted_for);
/* Drop records with index >= from. */
int store_truncate(struct store *s, uint64_t from);
/* Append the record for `index` (must be the next index). */
int store_append(struct store *s, uint64_t index, uint64_t term,
		 const void *data, uint32_t len);
/* Make appends and truncations durable. */
int store_sync(struct store *s);

/*
 * Snapshots.  store_save_snapshot writes `snapshot` (u32 magic, CRC, index,
 * term, data) to snapshot.tmp, fsyncs, renames it over `snapshot` and
 * fsyncs the dir.  store_compact then drops log records with index <=
 * through by rewriting the log (temp + fsync + rename): afterwards the log
 * starts at through + 1, or is empty.  Save first, compact second: a crash
 * between the two leaves a snapshot and a log that still holds its prefix,
 * which store_load skips.  On load, the log is kept after the snapshot only
 * if it continues it (it holds an entry at snapshot_index with
 * snapshot_term, or starts right after it); otherwise it belongs to another
 * history and is dropped (log_discarded).  A damaged snapshot is an error
 * naming the file.
 */
int store_save_snapshot(struct store *s, uint64_t index, uint64_t term,
			const void *data, uint32_t len);
int store_compact(struct store *s, uint64_t through);
/* Bytes of persisted Raft state (meta + log), as 6.824's RaftStateSize. */
uint64_t store_raft_size(const struct store *s);
/* Bytes of the snapshot file (0: none). */
uint64_t store_snapshot_size(const struct store *s);
void store_close(struct store *s);

/* Paths inside a data dir, for tests and tools. */
#define STORE_META "meta"
#define STORE_LOG "log"
#define STORE_SNAPSHOT "snapshot"

#endif

/*
 * store.c — one node's durable state: the meta file, the log file and the
 * snapshot file.  See store.h for what is kept where.
 *
 * Formats (all integers little-endian, CRCs are zlib's crc32):
 *   meta      "TSMETA1\0", u64 term, u32 voted_for, u32 CRC of those 20
 *             bytes (24 bytes in all).
 *   log       records back to back, each a 24-byte header and its payload:
 *               u32 len, u32 crc, u64 term, u64 index, payload[len]
 *             where crc covers the len field, term, index and the payload,
 *             in that order, so a flipped length is caught like any other
 *             byte.  The first record's index is first_index: 1, or the one
 *             after the snapshot once the log has been compacted.
 *   snapshot  "TSS1", u32 crc, u64 index, u64 term, u32 len, data[len]
 *             (a 28-byte header), where crc covers everything after itself:
 *             index, term, len and data.  The file is exactly 28 + len
 *             bytes.
 *
 * What it owns: the log's file descriptor, the table of record offsets
 * (which makes truncation one ftruncate), the dir path for messages, and
 * the sizes of meta and snapshot (for store_raft_size and friends).
 *
 * What it must never do: decide anything about Raft, keep a byte of the
 * log in memory that is not on its way to the file, or report a failure
 * without the path and the reason.  Appends are written straight to the
 * file at the end of the valid records (pwrite), truncations cut the file
 * at once, and store_sync makes both durable with one fdatasync.  Whole
 * files (meta, snapshot, a compacted log) are replaced crash-safely: temp
 * file, write, fsync, rename, fsync the dir.  Recovery trusts nothing it
 * reads: a length is checked against the limit and the file size before
 * anything is allocated for it.
 *
 * Compaction: store_compact copies the records after `through` into
 * log.tmp and renames it over log.  Save the snapshot first: compacting
 * past the saved snapshot is refused, since a log starting after 1 with no
 * snapshot before it is a damaged store.  store_load finishes what a crash
 * interrupted: log records at or below the snapshot are compacted away, a
 * log that does not continue the snapshot is emptied (log_discarded), and
 * leftover *.tmp files are removed.
 */
#include "store.h"
#include "../wire/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#define META_MAGIC "TSMETA1"             /* 8 bytes with its NUL */
#define META_SIZE 24
#define META_TMP "meta.tmp"
#define LOG_TMP "log.tmp"
#define SNAP_TMP "snapshot.tmp"          /* the longest name in the dir */
#define SNAP_MAGIC "TSS1"                /* 4 bytes, no NUL */
#define SNAP_HEADER 28
#define REC_HEADER 24
#define STORE_MAX_RECORD (64u << 20)     /* payload bytes; more is damage */
#define READ_CHUNK (256u << 10)

/* ---- little helpers ----------------------------------------------------- */

static uint32_t crc(uint32_t c, const void *p, size_t n)
{
	/* zlib takes uInt lengths: feed big buffers in pieces */
	const Bytef *b = p;
	while (n > 0) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		c = (uint32_t)crc32(c, b, k);
		b += k;
		n -= k;
	}
	return c;
}

/* The CRC of a record: its length field, term, index, then the payload. */
static uint32_t record_crc(const uint8_t *hdr, const void *payload,
			   uint32_t len)
{
	uint32_t c = (uint32_t)crc32(0L, Z_NULL, 0);
	c = crc(c, hdr, 4);
	c = crc(c, hdr + 8, 16);
	return crc(c, payload, len);
}

static void set_err(struct store *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
}

/* "DIR/name: what: strerror(errno)" */
static void sys_err(struct store *s, const char *name, const char *what)
{
	int e = errno;
	if (name)
		set_err(s, "%s/%s: %s: %s", s->dir, name, what, strerror(e));
	else
		set_err(s, "%s: %s: %s", s->dir, what, strerror(e));
}

static void path_of(char *out, const struct store *s, const char *name)
{
	/* store_open checked that every name fits */
	snprintf(out, PATH_MAX, "%s/%s", s->dir, name);
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t k = pwrite(fd, b, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		b += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* Read up to n bytes at off; *got is short only at the end of the file. */
static int pread_all(int fd, void *p, size_t n, uint64_t off, size_t *got)
{
	uint8_t *b = p;
	*got = 0;
	while (*got < n) {
		ssize_t k = pread(fd, b + *got, n - *got, (off_t)(off + *got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		*got += (size_t)k;
	}
	return 0;
}

/* fsync a directory so the names in it (a rename, a new file) last. */
static int fsync_path(struct store *s, const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		set_err(s, "%s: open: %s", path, strerror(errno));
		return -1;
	}
	if (fsync(fd) < 0) {
		set_err(s, "%s: fsync: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int fsync_dir(struct store *s)
{
	return fsync_path(s, s->dir);
}

/* After creating the dir: make its name in the parent durable. */
static int fsync_parent(struct store *s)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", s->dir);
	return fsync_path(s, dirname(parent));
}

static int grow_offsets(struct store *s, uint64_t need)
{
	if (need <= s->offsets_cap)
		return 0;
	uint64_t cap = s->offsets_cap ? s->offsets_cap * 2 : 64;
	while (cap < need)
		cap *= 2;
	uint64_t *o = realloc(s->offsets, cap * sizeof *o);
	if (!o) {
		set_err(s, "%s/%s: out of memory for %llu records", s->dir,
			STORE_LOG, (unsigned long long)need);
		return -1;
	}
	s->offsets = o;
	s->offsets_cap = cap;
	return 0;
}

/* ---- open and close ----------------------------------------------------- */

int store_open(struct store *s, const char *dir)
{
	memset(s, 0, sizeof *s);
	s->log_fd = -1;
	s->first_index = 1;
	if (strlen(dir) + 1 + sizeof SNAP_TMP >= PATH_MAX) {
		snprintf(s->errmsg, sizeof s->errmsg, "%.200s...: path too long",
			 dir);
		return -1;
	}
	s->dir = strdup(dir);
	if (!s->dir) {
		snprintf(s->errmsg, sizeof s->errmsg, "%s: out of memory", dir);
		return -1;
	}
	if (mkdir(dir, 0755) == 0) {
		if (fsync_parent(s) < 0)
			goto fail;
	} else if (errno != EEXIST) {
		sys_err(s, NULL, "mkdir");
		goto fail;
	}
	char path[PATH_MAX];
	path_of(path, s, STORE_LOG);
	s->log_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->log_fd < 0) {
		sys_err(s, STORE_LOG, "open");
		goto fail;
	}
	/* make the log's (and the dir's) directory entry durable */
	if (fsync_dir(s) < 0)
		goto fail;
	struct stat st;
	if (fstat(s->log_fd, &st) < 0) {
		sys_err(s, STORE_LOG, "stat");
		goto fail;
	}
	s->end = (uint64_t)st.st_size;
	/* sizes for store_raft_size before a load; store_load checks them */
	path_of(path, s, STORE_META);
	if (stat(path, &st) == 0)
		s->meta_bytes = (uint64_t)st.st_size;
	path_of(path, s, STORE_SNAPSHOT);
	if (stat(path, &st) == 0)
		s->snapshot_bytes = (uint64_t)st.st_size;
	return 0;
fail:
	/* keep errmsg, drop everything else: store_close is then a no-op */
	if (s->log_fd >= 0)
		close(s->log_fd);
	s->log_fd = -1;
	free(s->dir);
	s->dir = NULL;
	return -1;
}

void store_close(struct store *s)
{
	if (s->log_fd >= 0)
		close(s->log_fd);
	s->log_fd = -1;
	free(s->dir);
	s->dir = NULL;
	free(s->offsets);
	s->offsets = NULL;
	s->offsets_cap = 0;
	s->n_records = 0;
	s->end = 0;
	s->first_index = 1;
	s->meta_bytes = 0;
	s->snapshot_bytes = 0;
	s->snapshot_index = 0;
}

uint64_t store_raft_size(const struct store *s)
{
	return s->meta_bytes + s->end;
}

uint64_t store_snapshot_size(const struct store *s)
{
	return s->snapshot_bytes;
}

/* ---- meta --------------------------------------------------------------- */

/* 1: loaded, 0: no meta file, -1: error (errmsg set). */
static int load_meta(struct store *s, uint64_t *term, uint32_t *voted_for)
{
	char path[PATH_MAX];
	uint8_t m[META_SIZE + 1];
	size_t got;
	struct stat st;

	*term = 0;
	*voted_for = RAFT_NONE;
	path_of(path, s, STORE_META);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		sys_err(s, STORE_META, "open");
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		sys_err(s, STORE_META, "stat");
		goto fail;
	}
	if (st.st_size != META_SIZE) {
		set_err(s, "%s: damaged (size %lld bytes, expected %d)", path,
			(long long)st.st_size, META_SIZE);
		goto fail;
	}
	if (pread_all(fd, m, sizeof m, 0, &got) < 0) {
		sys_err(s, STORE_META, "read");
		goto fail;
	}
	close(fd);
	if (got != META_SIZE) {
		set_err(s, "%s: damaged (size %zu bytes, expected %d)", path,
			got, META_SIZE);
		return -1;
	}
	if (memcmp(m, META_MAGIC, 8) != 0) {
		set_err(s, "%s: damaged (bad magic)", path);
		return -1;
	}
	if ((uint32_t)wire_get_le(m + 20, 4) != crc(0, m, 20)) {
		set_err(s, "%s: damaged (bad CRC)", path);
		return -1;
	}
	*term = wire_get_le(m + 8, 8);
	*voted_for = (uint32_t)wire_get_le(m + 16, 4);
	s->meta_bytes = META_SIZE;
	return 1;
fail:
	close(fd);
	return -1;
}

/* Replace the file `name` crash-safely with head then body: written to
 * `tmp`, fsync'd, renamed over `name`, the directory fsync'd. */
static int write_file(struct store *s, const char *tmp_name, const char *name,
		      const void *head, size_t head_len, const void *body, size_t body_len)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	path_of(tmp, s, tmp_name);
	path_of(path, s, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		sys_err(s, tmp_name, "open");
		return -1;
	}
	if (pwrite_all(fd, head, head_len, 0) < 0 ||
	    (body_len && pwrite_all(fd, body, body_len, head_len) < 0)) {
		sys_err(s, tmp_name, "write");
		goto fail;
	}
	if (fsync(fd) < 0) {
		sys_err(s, tmp_name, "fsync");
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		sys_err(s, tmp_name, "close");
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		sys_err(s, name, "rename");
		goto fail;
	}
	return fsync_dir(s);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int store_save_meta(struct store *s, uint64_t term, uint32_t voted_for)
{
	uint8_t m[META_SIZE];

	memcpy(m, META_MAGIC, 8);
	wire_put_le(m + 8, term, 8);
	wire_put_le(m + 16, voted_for, 4);
	wire_put_le(m + 20, crc(0, m, 20), 4);

	if (write_file(s, META_TMP, STORE_META, m, sizeof m, NULL, 0) != 0)
		return -1;
	s->meta_bytes = META_SIZE;
	return 0;
}

/* ---- the snapshot ------------------------------------------------------- */

/* 1: loaded into st, 0: no snapshot file, -1: error (errmsg set). */
static int load_snapshot(struct store *s, struct store_state *st)
{
	char path[PATH_MAX];
	uint8_t h[SNAP_HEADER];
	uint8_t *data = NULL;
	size_t got;
	struct stat sb;

	path_of(path, s, STORE_SNAPSHOT);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		sys_err(s, STORE_SNAPSHOT, "open");
		return -1;
	}
	if (fstat(fd, &sb) < 0) {
		sys_err(s, STORE_SNAPSHOT, "stat");
		goto fail;
	}
	uint64_t size = (uint64_t)sb.st_size;
	if (size < SNAP_HEADER) {
		set_err(s, "%s: damaged (size %llu bytes, shorter than its "
			"%d-byte header)", path, (unsigned long long)size,
			SNAP_HEADER);
		goto fail;
	}
	if (pread_all(fd, h, sizeof h, 0, &got) < 0) {
		sys_err(s, STORE_SNAPSHOT, "read");
		goto fail;
	}
	if (got != SNAP_HEADER) {
		set_err(s, "%s: damaged (size %zu bytes, shorter than its "
			"%d-byte header)", path, got, SNAP_HEADER);
		goto fail;
	}
	if (memcmp(h, SNAP_MAGIC, 4) != 0) {
		set_err(s, "%s: damaged (bad magic)", path);
		goto fail;
	}
	uint32_t want_crc = (uint32_t)wire_get_le(h + 4, 4);
	uint64_t index = wire_get_le(h + 8, 8);
	uint64_t term = wire_get_le(h + 16, 8);
	uint32_t len = (uint32_t)wire_get_le(h + 24, 4);
	/* checked before anything is allocated for it */
	if (size != SNAP_HEADER + (uint64_t)len) {
		set_err(s, "%s: damaged (size %llu bytes, its header says "
			"%llu)", path, (unsigned long long)size,
			(unsigned long long)(SNAP_HEADER + (uint64_t)len));
		goto fail;
	}
	data = malloc(len ? len : 1);
	if (!data) {
		set_err(s, "%s: out of memory for %u bytes", path, len);
		goto fail;
	}
	if (pread_all(fd, data, len, SNAP_HEADER, &got) < 0) {
		sys_err(s, STORE_SNAPSHOT, "read");
		goto fail;
	}
	if (got != len) {
		set_err(s, "%s: damaged (data %zu of %u bytes)", path, got, len);
		goto fail;
	}
	if (crc(crc(0, h + 8, SNAP_HEADER - 8), data, len) != want_crc) {
		set_err(s, "%s: damaged (bad CRC)", path);
		goto fail;
	}
	if (index == 0) {
		set_err(s, "%s: damaged (index 0)", path);
		goto fail;
	}
	close(fd);
	st->snapshot_index = index;
	st->snapshot_term = term;
	st->snapshot_data = data;
	st->snapshot_len = len;
	s->snapshot_bytes = size;
	return 1;
fail:
	free(data);
	close(fd);
	return -1;
}

int store_save_snapshot(struct store *s, uint64_t index, uint64_t term,
			const void *data, uint32_t len)
{
	uint8_t h[SNAP_HEADER];

	if (index == 0) {
		set_err(s, "%s/%s: a snapshot at index 0 holds nothing", s->dir,
			STORE_SNAPSHOT);
		return -1;
	}
	memcpy(h, SNAP_MAGIC, 4);
	wire_put_le(h + 8, index, 8);
	wire_put_le(h + 16, term, 8);
	wire_put_le(h + 24, len, 4);
	wire_put_le(h + 4, crc(crc(0, h + 8, SNAP_HEADER - 8), data, len), 4);

	if (write_file(s, SNAP_TMP, STORE_SNAPSHOT, h, sizeof h, data, len) != 0)
		return -1;
	s->snapshot_index = index;
	s->snapshot_bytes = SNAP_HEADER + (uint64_t)len;
	return 0;
}

/* ---- the log ------------------------------------------------------------ */

/* A read window over the log file for recovery. */
struct log_reader {
	int fd;
	uint8_t *buf;
	uint64_t at;                         /* file offset of buf[0] */
	size_t len;                          /* valid bytes in buf */
};

/* Copy up to n bytes from file offset off into dst; *got short only at the
 * end of the file. */
static int lr_get(struct log_reader *lr, uint64_t off, void *dst, size_t n,
		  size_t *got)
{
	uint8_t *d = dst;
	*got = 0;
	while (*got < n) {
		uint64_t o = off + *got;
		size_t want = n - *got;
		if (o >= lr->at && o < lr->at + lr->len) {
			size_t k = (size_t)(lr->at + lr->len - o);
			if (k > want)
				k = want;
			memcpy(d + *got, lr->buf + (o - lr->at), k);
			*got += k;
			continue;
		}
		if (want >= READ_CHUNK) {
			/* big payloads go straight to their destination */
			size_t k;
			if (pread_all(lr->fd, d + *got, want, o, &k) < 0)
				return -1;
			*got += k;
			return 0;
		}
		lr->at = o;
		if (pread_all(lr->fd, lr->buf, READ_CHUNK, o, &lr->len) < 0)
			return -1;
		if (lr->len == 0)
			return 0;
	}
	return 0;
}

static int push_entry(struct store *s, struct store_state *st,
		      uint64_t *cap, uint64_t term, uint8_t *data, uint32_t len)
{
	if (st->n_entries == *cap) {
		uint64_t ncap = *cap ? *cap * 2 : 64;
		struct raft_entry *e = realloc(st->entries, ncap * sizeof *e);
		if (!e) {
			set_err(s, "%s/%s: out of memory", s->dir, STORE_LOG);
			return -1;
		}
		st->entries = e;
		*cap = ncap;
	}
	st->entries[st->n_entries].term = term;
	st->entries[st->n_entries].len = len;
	st->entries[st->n_entries].data = data;
	st->n_entries++;
	return 0;
}

/*
 * Read records from the start of the log into st; stop at the first bad
 * one and report it in st->torn*.  *valid_end gets the end of the last good
 * record.
 */
static int read_log(struct store *s, struct store_state *st, uint64_t size,
		    uint64_t *valid_end)
{
	struct log_reader lr = { .fd = s->log_fd };
	uint64_t off = 0, cap = 0;
	uint8_t hdr[REC_HEADER];
	size_t got;
	int rc = -1;

	lr.buf = malloc(READ_CHUNK);
	if (!lr.buf) {
		set_err(s, "%s/%s: out of memory", s->dir, STORE_LOG);
		return -1;
	}
	s->n_records = 0;
	s->first_index = 1;
	while (off < size) {
		uint64_t k = s->n_records;
		if (lr_get(&lr, off, hdr, REC_HEADER, &got) < 0) {
			sys_err(s, STORE_LOG, "read");
			goto out;
		}
		if (got < REC_HEADER) {
			snprintf(st->torn_why, sizeof st->torn_why,
				 "short header (%zu of %d bytes)", got,
				 REC_HEADER);
			break;
		}
		uint32_t len = (uint32_t)wire_get_le(hdr, 4);
		uint32_t want_crc = (uint32_t)wire_get_le(hdr + 4, 4);
		uint64_t term = wire_get_le(hdr + 8, 8);
		uint64_t index = wire_get_le(hdr + 16, 8);
		if (len > STORE_MAX_RECORD) {
			snprintf(st->torn_why, sizeof st->torn_why,
				 "record length %u over the limit of %u",
				 len, STORE_MAX_RECORD);
			break;
		}
		if (len > size - off - REC_HEADER) {
			snprintf(st->torn_why, sizeof st->torn_why,
				 "short record (payload %llu of %u bytes)",
				 (unsigned long long)(size - off - REC_HEADER),
				 len);
			break;
		}
		uint8_t *data = malloc(len ? len : 1);
		if (!data) {
			set_err(s, "%s/%s: out of memory", s->dir, STORE_LOG);
			goto out;
		}
		if (lr_get(&lr, off + REC_HEADER, data, len, &got) < 0) {
			sys_err(s, STORE_LOG, "read");
			free(data);
			goto out;
		}
		if (got < len) {
			/* the file shrank under us: treat it as a short record */
			snprintf(st->torn_why, sizeof st->torn_why,
				 "short record (payload %zu of %u bytes)",
				 got, len);
			free(data);
			break;
		}
		if (record_crc(hdr, data, len) != want_crc) {
			snprintf(st->torn_why, sizeof st->torn_why, "bad CRC");
			free(data);
			break;
		}
		if (k == 0 && index == 0) {
			snprintf(st->torn_why, sizeof st->torn_why,
				 "index 0 in the first record");
			free(data);
			break;
		}
		if (k == 0)
			s->first_index = index;   /* 1, or after a compaction */
		if (index != s->first_index + k) {
			snprintf(st->torn_why, sizeof st->torn_why,
				 "index %llu where %llu was expected",
				 (unsigned long long)index,
				 (unsigned long long)(s->first_index + k));
			free(data);
			break;
		}
		if (grow_offsets(s, k + 1) < 0 ||
		    push_entry(s, st, &cap, term, data, len) < 0) {
			free(data);
			goto out;
		}
		s->offsets[k] = off;
		s->n_records = k + 1;
		off += REC_HEADER + (uint64_t)len;
	}
	*valid_end = off;
	rc = 0;
out:
	free(lr.buf);
	return rc;
}

/*
 * Replace the log by a copy without its first k records (log.tmp, fsync,
 * rename, fsync the dir); the log then starts at new_first.  Fails with
 * nothing changed, or, once the rename is done, with only the dir's fsync
 * missing: the store then already uses the new file.
 */
static int rewrite_log(struct store *s, uint64_t k, uint64_t new_first)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	uint8_t *buf = NULL;

	if (k > s->n_records)
		k = s->n_records;
	uint64_t from = k < s->n_records ? s->offsets[k] : s->end;
	path_of(tmp, s, LOG_TMP);
	path_of(path, s, STORE_LOG);
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		sys_err(s, LOG_TMP, "open");
		return -1;
	}
	if (from < s->end && !(buf = malloc(READ_CHUNK))) {
		set_err(s, "%s/%s: out of memory", s->dir, LOG_TMP);
		goto fail;
	}
	for (uint64_t off = from; off < s->end;) {
		size_t want = s->end - off < READ_CHUNK ? (size_t)(s->end - off)
							 : READ_CHUNK;
		size_t got;
		if (pread_all(s->log_fd, buf, want, off, &got) < 0) {
			sys_err(s, STORE_LOG, "read");
			goto fail;
		}
		if (got < want) {
			set_err(s, "%s/%s: read: the file ends at %llu bytes, "
				"before its records (%llu)", s->dir, STORE_LOG,
				(unsigned long long)(off + got),
				(unsigned long long)s->end);
			goto fail;
		}
		if (pwrite_all(fd, buf, got, off - from) < 0) {
			sys_err(s, LOG_TMP, "write");
			goto fail;
		}
		off += got;
	}
	free(buf);
	buf = NULL;
	if (fsync(fd) < 0) {
		sys_err(s, LOG_TMP, "fsync");
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		sys_err(s, STORE_LOG, "rename");
		goto fail;
	}
	/* the name is the new file's now: use it whatever comes next */
	close(s->log_fd);
	s->log_fd = fd;
	s->n_records -= k;
	for (uint64_t i = 0; i < s->n_records; i++)
		s->offsets[i] = s->offsets[i + k] - from;
	s->end -= from;
	s->first_index = new_first;
	return fsync_dir(s);
fail:
	free(buf);
	close(fd);
	unlink(tmp);
	return -1;
}

/* Leftovers of a crash mid-replace: never read, so drop them. */
static void remove_leftovers(struct store *s)
{
	static const char *const names[] = { META_TMP, LOG_TMP, SNAP_TMP };
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		path_of(path, s, names[i]);
		unlink(path);                /* ENOENT is the common case */
	}
}

/* Empty the log file durably (it belongs to another history). */
static int discard_log(struct store *s, struct store_state *st)
{
	if (ftruncate(s->log_fd, 0) < 0) {
		sys_err(s, STORE_LOG, "ftruncate");
		return -1;
	}
	if (fdatasync(s->log_fd) < 0) {
		sys_err(s, STORE_LOG, "fdatasync");
		return -1;
	}
	for (uint64_t i = 0; i < st->n_entries; i++)
		free(st->entries[i].data);
	free(st->entries);
	st->entries = NULL;
	st->n_entries = 0;
	s->n_records = 0;
	s->end = 0;
	s->first_index = st->snapshot_index + 1;
	st->log_discarded = true;
	return 0;
}

/*
 * A snapshot was loaded: keep the log only if it continues it (an entry
 * at snapshot_index with snapshot_term, or a first record right after it),
 * and then without the records the snapshot covers (a crash between
 * store_save_snapshot and store_compact left them).
 */
static int join_snapshot(struct store *s, struct store_state *st)
{
	uint64_t snap = st->snapshot_index;
	uint64_t fi = s->first_index, n = s->n_records;

	if (n == 0) {
		s->first_index = snap + 1;
		return 0;
	}
	bool keep = fi == snap + 1 ||
		    (fi <= snap && snap - fi < n &&
		     st->entries[snap - fi].term == st->snapshot_term);
	if (!keep)
		return discard_log(s, st);
	if (fi > snap)
		return 0;
	uint64_t k = snap - fi + 1;
	if (rewrite_log(s, k, snap + 1) < 0)
		return -1;
	for (uint64_t i = 0; i < k; i++)
		free(st->entries[i].data);
	st->n_entries -= k;
	memmove(st->entries, st->entries + k,
		(size_t)st->n_entries * sizeof *st->entries);
	if (st->n_entries == 0) {
		free(st->entries);           /* none: NULL, as for a new node */
		st->entries = NULL;
	}
	return 0;
}

int store_load(struct store *s, struct store_state *st)
{
	struct stat sb;
	uint64_t valid_end = 0;

	memset(st, 0, sizeof *st);
	s->snapshot_index = 0;
	s->meta_bytes = 0;
	s->snapshot_bytes = 0;
	int have_meta = load_meta(s, &st->term, &st->voted_for);
	if (have_meta < 0)
		return -1;
	remove_leftovers(s);
	int have_snap = load_snapshot(s, st);
	if (have_snap < 0)
		goto fail;
	if (fstat(s->log_fd, &sb) < 0) {
		sys_err(s, STORE_LOG, "stat");
		goto fail;
	}
	uint64_t size = (uint64_t)sb.st_size;
	if (read_log(s, st, size, &valid_end) < 0)
		goto fail;
	if (!have_snap && s->n_records > 0 && s->first_index != 1) {
		/* compacted, but the snapshot that covers the rest is gone */
		set_err(s, "%s/%s: starts at index %llu but there is no %s "
			"(a compacted log without its snapshot)", s->dir,
			STORE_LOG, (unsigned long long)s->first_index,
			STORE_SNAPSHOT);
		goto fail;
	}
	if (valid_end < size) {
		st->torn = true;
		st->torn_record = s->n_records;
		st->torn_bytes = size - valid_end;
		if (ftruncate(s->log_fd, (off_t)valid_end) < 0) {
			sys_err(s, STORE_LOG, "ftruncate");
			goto fail;
		}
		if (fdatasync(s->log_fd) < 0) {
			sys_err(s, STORE_LOG, "fdatasync");
			goto fail;
		}
	}
	s->end = valid_end;
	s->snapshot_index = st->snapshot_index;
	if (have_snap && join_snapshot(s, st) < 0)
		goto fail;
	st->first_index = s->first_index;
	st->fresh = have_meta == 0 && size == 0 && have_snap == 0;
	return 0;
fail:
	store_state_free(st);
	s->n_records = 0;
	s->end = 0;
	s->first_index = 1;
	s->snapshot_index = 0;
	return -1;
}

void store_state_free(struct store_state *st)
{
	for (uint64_t i = 0; i < st->n_entries; i++)
		free(st->entries[i].data);
	free(st->entries);
	st->entries = NULL;
	st->n_entries = 0;
	free(st->snapshot_data);
	st->snapshot_data = NULL;
	st->snapshot_len = 0;
}

int store_truncate(struct store *s, uint64_t from)
{
	if (from == 0) {
		set_err(s, "%s/%s: truncate from index 0, which no log holds",
			s->dir, STORE_LOG);
		return -1;
	}
	/* from at or before the first record (a compacted log): all of it */
	uint64_t k = from > s->first_index ? from - s->first_index : 0;
	if (k >= s->n_records)
		return 0;
	if (ftruncate(s->log_fd, (off_t)s->offsets[k]) < 0) {
		sys_err(s, STORE_LOG, "ftruncate");
		return -1;
	}
	s->end = s->offsets[k];
	s->n_records = k;
	return 0;
}

int store_compact(struct store *s, uint64_t through)
{
	if (s->n_records == 0 && s->end != 0) {
		set_err(s, "%s/%s: compact before store_load", s->dir,
			STORE_LOG);
		return -1;
	}
	if (through < s->first_index)
		return 0;                    /* already gone */
	if (through > s->snapshot_index) {
		set_err(s, "%s/%s: compact through index %llu, past the saved "
			"snapshot (index %llu)", s->dir, STORE_LOG,
			(unsigned long long)through,
			(unsigned long long)s->snapshot_index);
		return -1;
	}
	if (s->n_records == 0) {
		/* nothing in the file: the next append is through + 1 */
		s->first_index = through + 1;
		return 0;
	}
	return rewrite_log(s, through - s->first_index + 1, through + 1);
}

int store_append(struct store *s, uint64_t index, uint64_t term,
		 const void *data, uint32_t len)
{
	uint64_t next = s->first_index + s->n_records;
	uint8_t hdr[REC_HEADER];

	if (s->n_records == 0 && s->end != 0) {
		set_err(s, "%s/%s: append before store_load", s->dir, STORE_LOG);
		return -1;
	}
	if (index != next) {
		set_err(s, "%s/%s: append of index %llu, expected %llu",
			s->dir, STORE_LOG, (unsigned long long)index,
			(unsigned long long)next);
		return -1;
	}
	if (len > STORE_MAX_RECORD) {
		set_err(s, "%s/%s: append of index %llu: %u bytes is over the "
			"limit of %u", s->dir, STORE_LOG,
			(unsigned long long)index, len, STORE_MAX_RECORD);
		return -1;
	}
	if (grow_offsets(s, s->n_records + 1) < 0)
		return -1;
	wire_put_le(hdr, len, 4);
	wire_put_le(hdr + 8, term, 8);
	wire_put_le(hdr + 16, index, 8);
	wire_put_le(hdr + 4, record_crc(hdr, data, len), 4);

	/* one system call for header and payload in the common case */
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = REC_HEADER },
		{ .iov_base = (void *)data, .iov_len = len },
	};
	ssize_t k;
	do
		k = pwritev(s->log_fd, iov, len ? 2 : 1, (off_t)s->end);
	while (k < 0 && errno == EINTR);
	if (k >= 0 && (size_t)k < REC_HEADER + (size_t)len) {
		/* a short write: finish the rest piece by piece */
		size_t done = (size_t)k;
		int r = 0;
		if (done < REC_HEADER)
			r = pwrite_all(s->log_fd, hdr + done,
				       REC_HEADER - done, s->end + done);
		if (r == 0) {
			size_t pdone = done > REC_HEADER ? done - REC_HEADER : 0;
			r = pwrite_all(s->log_fd, (const uint8_t *)data + pdone,
				       len - pdone,
				       s->end + REC_HEADER + pdone);
		}
		k = r < 0 ? -1 : k;
	}
	if (k < 0) {
		sys_err(s, STORE_LOG, "write");
		/* best effort: leave no partial record behind */
		if (ftruncate(s->log_fd, (off_t)s->end) < 0) {
			/* recovery will cut it */
		}
		return -1;
	}
	s->offsets[s->n_records] = s->end;
	s->n_records++;
	s->end += REC_HEADER + (uint64_t)len;
	return 0;
}

int store_sync(struct store *s)
{
	if (fdatasync(s->log_fd) < 0) {
		sys_err(s, STORE_LOG, "fdatasync");
		return -1;
	}
	return 0;
}

/*
 * test_store.c — unit tests of the durable store (src/store).
 *
 * Each test gets a fresh directory from mkdtemp under /tmp and removes it
 * at the end; the store's own dir is a child of it, so store_open's mkdir
 * is exercised too.  Damage is done with plain file I/O the way a crash or
 * a bad disk would do it (cut the log mid-record, append garbage, flip a
 * byte) and recovery must keep exactly the valid prefix, say what it cut,
 * and leave the file cut on disk so that the next load is clean.
 * Snapshots and compaction are tested the same way: a crash between
 * store_save_snapshot and store_compact is a snapshot saved and a store
 * closed without compacting; a damaged snapshot must be an error naming
 * the file, never a silent loss.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "../../src/store/store.h"

#define REC_HEADER 24

static char root[64];
static char dir[128];

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	strcpy(root, "/tmp/termscope-store-XXXXXX");
	cr_assert_not_null(mkdtemp(root), "mkdtemp: %s", strerror(errno));
	snprintf(dir, sizeof dir, "%s/node-3", root);
}

static void teardown(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------ */

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static off_t file_size(const char *name)
{
	char p[256];
	struct stat st;
	path_of(p, sizeof p, name);
	cr_assert_eq(stat(p, &st), 0, "stat %s: %s", p, strerror(errno));
	return st.st_size;
}

static uint8_t *read_file(const char *name, size_t *n)
{
	char p[256];
	path_of(p, sizeof p, name);
	FILE *f = fopen(p, "rb");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(len ? (size_t)len : 1);
	cr_assert(b);
	cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return b;
}

static void write_file(const char *name, const void *p, size_t n)
{
	char path[256];
	path_of(path, sizeof path, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	if (n)
		cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void flip_byte(const char *name, size_t at)
{
	size_t n;
	uint8_t *b = read_file(name, &n);
	cr_assert_lt(at, n);
	b[at] ^= 0x5a;
	write_file(name, b, n);
	free(b);
}

static void append_bytes(const char *name, const void *p, size_t n)
{
	char path[256];
	path_of(path, sizeof path, name);
	FILE *f = fopen(path, "ab");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void cut_file(const char *name, off_t len)
{
	char path[256];
	path_of(path, sizeof path, name);
	cr_assert_eq(truncate(path, len), 0);
}

/* Payload of entry `index` in generation `gen`: deterministic, varied
 * lengths, some empty. */
static uint32_t payload(uint64_t index, int gen, uint8_t *out, size_t cap)
{
	uint32_t len = (uint32_t)((index * 7 + (uint64_t)gen * 3) % 50);
	if (index % 5 == 0)
		len = 0;
	cr_assert_leq(len, cap);
	for (uint32_t i = 0; i < len; i++)
		out[i] = (uint8_t)(index * 31 + i + (uint64_t)gen * 101);
	return len;
}

static void append_range(struct store *s, uint64_t from, uint64_t to,
			 uint64_t term, int gen)
{
	uint8_t buf[64];
	for (uint64_t i = from; i <= to; i++) {
		uint32_t len = payload(i, gen, buf, sizeof buf);
		cr_assert_eq(store_append(s, i, term, buf, len), 0, "%s",
			     s->errmsg);
	}
}

static void check_entry(const struct store_state *st, uint64_t index,
			uint64_t term, int gen)
{
	uint8_t buf[64];
	uint32_t len = payload(index, gen, buf, sizeof buf);
	cr_assert_geq(st->n_entries, index);
	const struct raft_entry *e = &st->entries[index - 1];
	cr_assert_eq(e->term, term, "entry %llu", (unsigned long long)index);
	cr_assert_eq(e->len, len, "entry %llu", (unsigned long long)index);
	cr_assert_not_null(e->data);
	if (len)
		cr_assert_arr_eq(e->data, buf, len);
}

/* The size of records [1, n] made by append_range(.., gen). */
static uint64_t log_bytes(uint64_t n, int gen)
{
	uint8_t buf[64];
	uint64_t total = 0;
	for (uint64_t i = 1; i <= n; i++)
		total += REC_HEADER + payload(i, gen, buf, sizeof buf);
	return total;
}

static void open_load(struct store *s, struct store_state *st)
{
	cr_assert_eq(store_open(s, dir), 0, "%s", s->errmsg);
	cr_assert_eq(store_load(s, st), 0, "%s", s->errmsg);
}

/* A log of n records from generation 0 in term 1, synced and closed. */
static void make_log(uint64_t n)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	append_range(&s, 1, n, 1, 0);
	cr_assert_eq(store_sync(&s), 0);
	store_close(&s);
	cr_assert_eq((uint64_t)file_size(STORE_LOG), log_bytes(n, 0));
}

/* Load, expect the first `keep` records and a cut of `cut` bytes at
 * record `keep` for a reason starting with `why`; then load again and
 * expect a clean log of the same records. */
static void expect_recovery(uint64_t keep, uint64_t cut, const char *why)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	cr_assert(st.torn, "a damaged tail must be reported");
	cr_assert_eq(st.torn_record, keep);
	cr_assert_eq(st.torn_bytes, cut);
	cr_assert_eq(strncmp(st.torn_why, why, strlen(why)), 0,
		     "why: \"%s\", expected \"%s...\"", st.torn_why, why);
	cr_assert_eq(st.n_entries, keep);
	for (uint64_t i = 1; i <= keep; i++)
		check_entry(&st, i, 1, 0);
	cr_assert_eq(s.n_records, keep);
	cr_assert_eq(s.end, log_bytes(keep, 0));
	store_state_free(&st);
	store_close(&s);
	cr_assert_eq((uint64_t)file_size(STORE_LOG), log_bytes(keep, 0),
		     "the file is cut on disk");

	open_load(&s, &st);
	cr_assert(!st.torn, "second load: %s", st.torn_why);
	cr_assert_eq(st.n_entries, keep);
	/* and the log goes on from there */
	append_range(&s, keep + 1, keep + 2, 1, 0);
	store_state_free(&st);
	store_close(&s);
	open_load(&s, &st);
	cr_assert(!st.torn);
	cr_assert_eq(st.n_entries, keep + 2);
	for (uint64_t i = 1; i <= keep + 2; i++)
		check_entry(&st, i, 1, 0);
	store_state_free(&st);
	store_close(&s);
}

/* ---- a fresh node and its meta ------------------------------------------ */

Test(store, fresh_dir_is_fresh)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	cr_assert(st.fresh);
	cr_assert(!st.torn);
	cr_assert_eq(st.term, 0);
	cr_assert_eq(st.voted_for, 0);
	cr_assert_eq(st.n_entries, 0);
	cr_assert_null(st.entries);
	cr_assert_eq(s.first_index, 1);
	cr_assert_eq(file_size(STORE_LOG), 0);
	store_state_free(&st);
	store_close(&s);
	store_close(&s);                  /* closing twice is harmless */

	/* opening again: still fresh, the dir already exists */
	open_load(&s, &st);
	cr_assert(st.fresh);
	store_state_free(&st);
	store_close(&s);
}

Test(store, meta_round_trips)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	cr_assert_eq(store_save_meta(&s, 7, 3), 0, "%s", s.errmsg);
	store_close(&s);
	cr_assert_eq(file_size(STORE_META), 24);

	open_load(&s, &st);
	cr_assert(!st.fresh);
	cr_assert_eq(st.term, 7);
	cr_assert_eq(st.voted_for, 3);
	store_state_free(&st);
	cr_assert_eq(store_save_meta(&s, 0x0102030405060708ULL, 0), 0);
	cr_assert_eq(store_save_meta(&s, UINT64_MAX, 9), 0);
	store_close(&s);

	char tmp[256];
	path_of(tmp, sizeof tmp, "meta.tmp");
	cr_assert_neq(access(tmp, F_OK), 0, "meta.tmp is renamed away");

	open_load(&s, &st);
	cr_assert_eq(st.term, UINT64_MAX);
	cr_assert_eq(st.voted_for, 9);
	store_state_free(&st);
	store_close(&s);

	/* the layout is the documented one */
	size_t n;
	uint8_t *m = read_file(STORE_META, &n);
	cr_assert_eq(n, 24);
	cr_assert_arr_eq(m, "TSMETA1\0", 8);
	cr_assert_eq(m[8], 0xff);
	cr_assert_eq(m[16], 9);
	free(m);
}

static void expect_meta_error(const char *want)
{
	struct store s;
	struct store_state st;
	char msg[512];
	cr_assert_eq(store_open(&s, dir), 0);
	cr_assert_eq(store_load(&s, &st), -1, "a damaged meta must not load");
	snprintf(msg, sizeof msg, "%s/meta: damaged (%s", dir, want);
	cr_assert_eq(strncmp(s.errmsg, msg, strlen(msg)), 0,
		     "errmsg \"%s\", expected \"%s...\"", s.errmsg, msg);
	cr_assert_eq(st.n_entries, 0);
	store_state_free(&st);
	store_close(&s);
}

static void make_meta(void)
{
	struct store s;
	cr_assert_eq(store_open(&s, dir), 0);
	cr_assert_eq(store_save_meta(&s, 5, 2), 0);
	store_close(&s);
}

Test(store, meta_with_a_flipped_byte_is_damaged)
{
	make_meta();
	size_t n;
	uint8_t *good = read_file(STORE_META, &n);
	for (size_t at = 0; at < n; at++) {
		write_file(STORE_META, good, n);
		flip_byte(STORE_META, at);
		expect_meta_error(at < 8 ? "bad magic" : "bad CRC");
	}
	free(good);
}

Test(store, meta_cut_short_or_too_long_is_damaged)
{
	make_meta();
	size_t n;
	uint8_t *good = read_file(STORE_META, &n);
	cut_file(STORE_META, 10);
	expect_meta_error("size 10 bytes");
	cut_file(STORE_META, 0);
	expect_meta_error("size 0 bytes");
	write_file(STORE_META, good, n);
	append_bytes(STORE_META, "x", 1);
	expect_meta_error("size 25 bytes");
	free(good);
}

Test(store, meta_with_the_wrong_magic_is_damaged)
{
	make_meta();
	size_t n;
	uint8_t *m = read_file(STORE_META, &n);
	/* a well-formed meta of some other version: its CRC is right */
	memcpy(m, "TSMETA2\0", 8);
	write_file(STORE_META, m, n);
	expect_meta_error("bad magic");
	free(m);
}

/* ---- the log ------------------------------------------------------------ */

Test(store, append_sync_reload)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	cr_assert_eq(store_save_meta(&s, 2, 1), 0);
	append_range(&s, 1, 100, 1, 0);
	cr_assert_eq(store_sync(&s), 0, "%s", s.errmsg);
	cr_assert_eq(s.n_records, 100);
	cr_assert_eq(s.end, log_bytes(100, 0));
	store_close(&s);

	open_load(&s, &st);
	cr_assert(!st.fresh);
	cr_assert(!st.torn);
	cr_assert_eq(st.term, 2);
	cr_assert_eq(st.voted_for, 1);
	cr_assert_eq(st.n_entries, 100);
	for (uint64_t i = 1; i <= 100; i++)
		check_entry(&st, i, 1, 0);
	for (uint64_t i = 0; i < 100; i++)
		cr_assert_eq(s.offsets[i], log_bytes(i, 0));
	store_state_free(&st);
	cr_assert_null(st.entries);

	/* go on appending after a load */
	append_range(&s, 101, 120, 1, 0);
	cr_assert_eq(store_sync(&s), 0);
	store_close(&s);
	open_load(&s, &st);
	cr_assert_eq(st.n_entries, 120);
	for (uint64_t i = 1; i <= 120; i++)
		check_entry(&st, i, 1, 0);
	store_state_free(&st);
	store_close(&s);
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

Test(store, record_layout)
{
	/* u32 len, u32 crc, u64 term, u64 index, payload; the CRC covers the
	 * length field, term, index and payload in that order */
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	cr_assert_eq(store_append(&s, 1, 0x0102030405060708ULL, "hello", 5), 0);
	cr_assert_eq(store_append(&s, 2, 9, "", 0), 0);
	store_close(&s);
	size_t n;
	uint8_t *b = read_file(STORE_LOG, &n);
	cr_assert_eq(n, 2 * REC_HEADER + 5);
	cr_assert_eq(le(b, 4), 5);
	cr_assert_eq(le(b + 8, 8), 0x0102030405060708ULL);
	cr_assert_eq(le(b + 16, 8), 1);
	cr_assert_arr_eq(b + 24, "hello", 5);
	uLong c = crc32(0L, Z_NULL, 0);
	c = crc32(c, b, 4);
	c = crc32(c, b + 8, 16 + 5);
	cr_assert_eq(le(b + 4, 4), c);
	const uint8_t *r2 = b + REC_HEADER + 5;
	cr_assert_eq(le(r2, 4), 0);
	cr_assert_eq(le(r2 + 16, 8), 2);
	c = crc32(0L, Z_NULL, 0);
	c = crc32(c, r2, 4);
	c = crc32(c, r2 + 8, 16);
	cr_assert_eq(le(r2 + 4, 4), c);
	free(b);
}

Test(store, append_before_load_is_refused)
{
	make_log(2);
	struct store s;
	char want[512];
	cr_assert_eq(store_open(&s, dir), 0);
	cr_assert_eq(store_append(&s, 1, 1, "x", 1), -1);
	snprintf(want, sizeof want, "%s/log: append before store_load", dir);
	cr_assert_str_eq(s.errmsg, want);
	store_close(&s);
	cr_assert_eq((uint64_t)file_size(STORE_LOG), log_bytes(2, 0));
}

Test(store, a_log_without_meta_is_not_fresh)
{
	make_log(3);
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	cr_assert(!st.fresh);
	cr_assert_eq(st.term, 0);
	cr_assert_eq(st.n_entries, 3);
	store_state_free(&st);
	store_close(&s);
}

Test(store, append_out_of_sequence_is_refused)
{
	struct store s;
	struct store_state st;
	char want[512];
	open_load(&s, &st);
	store_state_free(&st);
	cr_assert_eq(store_append(&s, 2, 1, "x", 1), -1);
	snprintf(want, sizeof want, "%s/log: append of index 2, expected 1", dir);
	cr_assert_str_eq(s.errmsg, want);
	append_range(&s, 1, 3, 1, 0);
	cr_assert_eq(store_append(&s, 3, 1, "x", 1), -1);
	cr_assert_eq(store_append(&s, 5, 1, "x", 1), -1);
	cr_assert_eq(s.n_records, 3);
	cr_assert_eq((uint64_t)file_size(STORE_LOG), log_bytes(3, 0));
	store_close(&s);
}

Test(store, truncate_then_append_then_reload)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	append_range(&s, 1, 10, 1, 0);
	cr_assert_eq(store_sync(&s), 0);

	/* a follower drops a conflicting suffix and takes the leader's */
	cr_assert_eq(store_truncate(&s, 6), 0, "%s", s.errmsg);
	cr_assert_eq(s.n_records, 5);
	append_range(&s, 6, 8, 2, 1);
	cr_assert_eq(store_truncate(&s, 20), 0, "beyond the end: nothing");
	cr_assert_eq(s.n_records, 8);
	cr_assert_eq(store_truncate(&s, 9), 0, "just past the end: nothing");
	cr_assert_eq(s.n_records, 8);
	/* again, before any sync */
	cr_assert_eq(store_truncate(&s, 8), 0);
	append_range(&s, 8, 9, 3, 2);
	cr_assert_eq(store_sync(&s), 0);
	cr_assert_eq(store_truncate(&s, 0), -1, "index 0 is not in any log");
	store_close(&s);

	open_load(&s, &st);
	cr_assert(!st.torn, "%s", st.torn_why);
	cr_assert_eq(st.n_entries, 9);
	for (uint64_t i = 1; i <= 5; i++)
		check_entry(&st, i, 1, 0);
	for (uint64_t i = 6; i <= 7; i++)
		check_entry(&st, i, 2, 1);
	for (uint64_t i = 8; i <= 9; i++)
		check_entry(&st, i, 3, 2);
	store_state_free(&st);

	/* dropping everything, then starting over */
	cr_assert_eq(store_truncate(&s, 1), 0);
	cr_assert_eq(s.n_records, 0);
	cr_assert_eq(file_size(STORE_LOG), 0);
	append_range(&s, 1, 2, 4, 3);
	cr_assert_eq(store_sync(&s), 0);
	store_close(&s);
	open_load(&s, &st);
	cr_assert(!st.torn);
	cr_assert_eq(st.n_entries, 2);
	check_entry(&st, 1, 4, 3);
	check_entry(&st, 2, 4, 3);
	store_state_free(&st);
	store_close(&s);
}

Test(store, torn_tail_cut_mid_record)
{
	uint8_t buf[64];
	uint32_t len = payload(7, 0, buf, sizeof buf);
	uint64_t keep_bytes = log_bytes(6, 0);
	cr_assert_gt(len, 40);
	/* every cut inside the last record: in its header, in its payload */
	for (uint64_t cut = 1; cut < REC_HEADER + len; cut++) {
		make_log(7);
		cut_file(STORE_LOG, (off_t)(keep_bytes + cut));
		expect_recovery(6, cut, cut < REC_HEADER ? "short header"
							 : "short record");
		cut_file(STORE_LOG, 0);
	}
}

Test(store, torn_tail_with_garbage_appended)
{
	static const char junk[] = "this is not a record at all, it is junk "
				   "that a torn write might leave behind....";
	make_log(3);
	append_bytes(STORE_LOG, "\x07\x00\x00", 3);
	expect_recovery(3, 3, "short header");

	cut_file(STORE_LOG, 0);
	make_log(3);
	append_bytes(STORE_LOG, junk, sizeof junk - 1);
	expect_recovery(3, sizeof junk - 1, "");

	/* zeroes, as a power loss can leave after a file grew */
	uint8_t zero[100] = { 0 };
	cut_file(STORE_LOG, 0);
	make_log(3);
	append_bytes(STORE_LOG, zero, sizeof zero);
	expect_recovery(3, sizeof zero, "bad CRC");

	/* a length beyond any record */
	uint8_t huge[REC_HEADER + 8] = { 0xff, 0xff, 0xff, 0x7f };
	cut_file(STORE_LOG, 0);
	make_log(3);
	append_bytes(STORE_LOG, huge, sizeof huge);
	expect_recovery(3, sizeof huge, "record length 2147483647 over the limit");
}

Test(store, flipped_byte_in_the_last_record)
{
	make_log(6);
	uint64_t at = log_bytes(5, 0);
	uint8_t buf[64];
	uint32_t len = payload(6, 0, buf, sizeof buf);
	cr_assert_gt(len, 0);
	flip_byte(STORE_LOG, at + REC_HEADER + len - 1);
	expect_recovery(5, REC_HEADER + len, "bad CRC");
}

Test(store, flipped_byte_in_a_middle_record)
{
	make_log(10);
	uint64_t total = log_bytes(10, 0);
	uint64_t at = log_bytes(3, 0);      /* record 3, index 4 */
	flip_byte(STORE_LOG, at + REC_HEADER + 1);
	expect_recovery(3, total - at, "bad CRC");
}

Test(store, flipped_bytes_in_every_header_field)
{
	uint64_t total = log_bytes(8, 0);
	uint64_t at = log_bytes(4, 0);      /* record 4, index 5 */
	for (size_t b = 0; b < REC_HEADER; b++) {
		make_log(8);
		flip_byte(STORE_LOG, at + b);
		/* a flipped length reads as a short record or a bad CRC; any
		 * other header byte as a bad CRC */
		expect_recovery(4, total - at, "");
		cut_file(STORE_LOG, 0);
	}
}

Test(store, out_of_sequence_record_is_cut)
{
	/* records 1, 2 then record 1 again: each with a valid CRC */
	make_log(3);
	size_t n;
	uint8_t *b = read_file(STORE_LOG, &n);
	uint64_t r1 = log_bytes(1, 0), r2 = log_bytes(2, 0);
	uint8_t *bad = malloc(n + r1);
	cr_assert(bad);
	memcpy(bad, b, r2);
	memcpy(bad + r2, b, r1);
	memcpy(bad + r2 + r1, b + r2, n - r2);
	write_file(STORE_LOG, bad, n + r1);
	expect_recovery(2, n + r1 - r2, "index 1 where 3 was expected");
	free(bad);
	free(b);
}

Test(store, big_payloads)
{
	static const uint32_t sizes[] = {
		1u << 20, 17, 3u << 20, 0, 300000, 255 << 10, 256 << 10,
		(256 << 10) + 1, 5,
	};
	enum { N = sizeof sizes / sizeof sizes[0] };
	uint8_t *data = malloc(3u << 20);
	cr_assert(data);
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	for (uint32_t i = 0; i < N; i++) {
		for (uint32_t j = 0; j < sizes[i]; j++)
			data[j] = (uint8_t)(j * 13 + i);
		cr_assert_eq(store_append(&s, i + 1, 1 + i, data, sizes[i]), 0,
			     "%s", s.errmsg);
	}
	cr_assert_eq(store_sync(&s), 0);
	store_close(&s);

	open_load(&s, &st);
	cr_assert(!st.torn, "%s", st.torn_why);
	cr_assert_eq(st.n_entries, N);
	for (uint32_t i = 0; i < N; i++) {
		cr_assert_eq(st.entries[i].len, sizes[i]);
		cr_assert_eq(st.entries[i].term, 1 + i);
		for (uint32_t j = 0; j < sizes[i]; j++)
			data[j] = (uint8_t)(j * 13 + i);
		if (sizes[i])
			cr_assert_eq(memcmp(st.entries[i].data, data, sizes[i]), 0,
				     "entry %u", i + 1);
	}
	store_state_free(&st);

	/* over the record limit: refused before a byte is read */
	cr_assert_eq(store_append(&s, N + 1, 1, data, (64u << 20) + 1), -1);
	cr_assert_not_null(strstr(s.errmsg, "over the limit"));
	cr_assert_eq(s.n_records, N);
	store_close(&s);
	free(data);

	/* a big record cut short */
	off_t size = file_size(STORE_LOG);
	cut_file(STORE_LOG, size - 1);
	open_load(&s, &st);
	cr_assert(st.torn);
	cr_assert_eq(st.n_entries, N - 1);
	cr_assert_eq(st.torn_bytes, REC_HEADER + 5 - 1);
	store_state_free(&st);
	store_close(&s);
}

Test(store, errors_name_the_path)
{
	struct store s;
	char bad[256], want[512];

	/* the parent does not exist */
	snprintf(bad, sizeof bad, "%s/no/such", root);
	cr_assert_eq(store_open(&s, bad), -1);
	snprintf(want, sizeof want, "%s: mkdir: No such file or directory", bad);
	cr_assert_str_eq(s.errmsg, want);
	store_close(&s);                  /* harmless after a failed open */

	/* the dir is a file */
	snprintf(bad, sizeof bad, "%s/plain", root);
	FILE *f = fopen(bad, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(store_open(&s, bad), -1);
	snprintf(want, sizeof want, "%s/log: open: Not a directory", bad);
	cr_assert_str_eq(s.errmsg, want);

	/* a log that cannot be written */
	cr_assert_eq(store_open(&s, dir), 0);
	char logp[256];
	path_of(logp, sizeof logp, STORE_LOG);
	int ro = open(logp, O_RDONLY);
	cr_assert_geq(ro, 0);
	cr_assert_eq(dup2(ro, s.log_fd), s.log_fd);
	close(ro);
	cr_assert_eq(store_append(&s, 1, 1, "x", 1), -1);
	snprintf(want, sizeof want, "%s/log: write: Bad file descriptor", dir);
	cr_assert_str_eq(s.errmsg, want);
	cr_assert_eq(s.n_records, 0);
	store_close(&s);

	/* a meta that cannot be written: the dir is read-only (not as root) */
	if (geteuid() != 0) {
		cr_assert_eq(store_open(&s, dir), 0);
		cr_assert_eq(chmod(dir, 0555), 0);
		cr_assert_eq(store_save_meta(&s, 1, 1), -1);
		snprintf(want, sizeof want, "%s/meta.tmp: open: Permission denied", dir);
		cr_assert_str_eq(s.errmsg, want);
		chmod(dir, 0755);
		store_close(&s);
	}
}

/* ---- snapshots and compaction ------------------------------------------- */

/* Entry `index` of a state whose entries start at st->first_index. */
static void check_at(const struct store_state *st, uint64_t index,
		     uint64_t term, int gen)
{
	uint8_t buf[64];
	uint32_t len = payload(index, gen, buf, sizeof buf);
	cr_assert_geq(index, st->first_index, "entry %llu",
		      (unsigned long long)index);
	cr_assert_lt(index - st->first_index, st->n_entries, "entry %llu",
		     (unsigned long long)index);
	const struct raft_entry *e = &st->entries[index - st->first_index];
	cr_assert_eq(e->term, term, "entry %llu", (unsigned long long)index);
	cr_assert_eq(e->len, len, "entry %llu", (unsigned long long)index);
	cr_assert_not_null(e->data);
	if (len)
		cr_assert_arr_eq(e->data, buf, len);
}

/* The size of records [from, to] made by append_range(.., gen). */
static uint64_t range_bytes(uint64_t from, uint64_t to, int gen)
{
	uint8_t buf[64];
	uint64_t total = 0;
	for (uint64_t i = from; i <= to; i++)
		total += REC_HEADER + payload(i, gen, buf, sizeof buf);
	return total;
}

static bool exists(const char *name)
{
	char p[256];
	path_of(p, sizeof p, name);
	return access(p, F_OK) == 0;
}

/* The index in the log file's first record header. */
static uint64_t first_record_index(void)
{
	size_t n;
	uint8_t *b = read_file(STORE_LOG, &n);
	cr_assert_geq(n, REC_HEADER);
	uint64_t index = le(b + 16, 8);
	free(b);
	return index;
}

static const char snap_a[] = "the state machine through index 6";

/* A store holding meta (term 3), a log of n records (term 1, gen 0) and,
 * with snap_index > 0, a snapshot of snap_a at (snap_index, snap_term),
 * compacted or not. */
static void make_snapshotted(uint64_t n, uint64_t snap_index,
			     uint64_t snap_term, bool compact)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	cr_assert_eq(store_save_meta(&s, 3, 1), 0, "%s", s.errmsg);
	append_range(&s, 1, n, 1, 0);
	cr_assert_eq(store_sync(&s), 0, "%s", s.errmsg);
	if (snap_index) {
		cr_assert_eq(store_save_snapshot(&s, snap_index, snap_term,
						 snap_a, sizeof snap_a), 0,
			     "%s", s.errmsg);
		if (compact)
			cr_assert_eq(store_compact(&s, snap_index), 0, "%s",
				     s.errmsg);
	}
	store_close(&s);
}

Test(store, snapshot_round_trips)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	cr_assert_eq(store_snapshot_size(&s), 0);
	cr_assert_eq(store_save_snapshot(&s, 0, 1, "x", 1), -1);
	cr_assert_not_null(strstr(s.errmsg, "/snapshot: "), "%s", s.errmsg);
	cr_assert_eq(store_save_snapshot(&s, 6, 2, snap_a, sizeof snap_a), 0,
		     "%s", s.errmsg);
	cr_assert_eq(store_snapshot_size(&s), 28 + sizeof snap_a);
	cr_assert_eq(store_raft_size(&s), 0, "a snapshot is not Raft state");
	cr_assert(!exists("snapshot.tmp"), "snapshot.tmp is renamed away");
	store_close(&s);

	open_load(&s, &st);
	cr_assert(!st.fresh, "a snapshot alone is not a fresh node");
	cr_assert(!st.log_discarded);
	cr_assert_eq(st.snapshot_index, 6);
	cr_assert_eq(st.snapshot_term, 2);
	cr_assert_eq(st.snapshot_len, sizeof snap_a);
	cr_assert_arr_eq(st.snapshot_data, snap_a, sizeof snap_a);
	cr_assert_eq(st.first_index, 7);
	cr_assert_eq(s.first_index, 7);
	cr_assert_eq(st.n_entries, 0);
	cr_assert_eq(store_snapshot_size(&s), 28 + sizeof snap_a);
	store_state_free(&st);
	cr_assert_null(st.snapshot_data);
	/* the log goes on after the snapshot */
	cr_assert_eq(store_append(&s, 6, 1, "x", 1), -1);
	append_range(&s, 7, 9, 2, 0);
	/* a newer snapshot, empty this time, replaces it */
	cr_assert_eq(store_save_snapshot(&s, 8, 2, NULL, 0), 0, "%s", s.errmsg);
	cr_assert_eq(store_snapshot_size(&s), 28);
	store_close(&s);

	open_load(&s, &st);
	cr_assert_eq(st.snapshot_index, 8);
	cr_assert_eq(st.snapshot_len, 0);
	cr_assert_not_null(st.snapshot_data);
	cr_assert_eq(st.first_index, 9);
	cr_assert_eq(st.n_entries, 1);
	check_at(&st, 9, 2, 0);
	store_state_free(&st);
	store_close(&s);

	/* the layout is the documented one */
	cr_assert_eq(store_open(&s, dir), 0);
	cr_assert_eq(store_save_snapshot(&s, 0x0102030405060708ULL, 9, "abc", 3),
		     0);
	store_close(&s);
	size_t n;
	uint8_t *b = read_file(STORE_SNAPSHOT, &n);
	cr_assert_eq(n, 28 + 3);
	cr_assert_arr_eq(b, "TSS1", 4);
	cr_assert_eq(le(b + 8, 8), 0x0102030405060708ULL);
	cr_assert_eq(le(b + 16, 8), 9);
	cr_assert_eq(le(b + 24, 4), 3);
	cr_assert_arr_eq(b + 28, "abc", 3);
	uLong c = crc32(0L, Z_NULL, 0);
	c = crc32(c, b + 8, 20 + 3);
	cr_assert_eq(le(b + 4, 4), c);
	free(b);
}

Test(store, big_snapshot_round_trips)
{
	uint32_t len = (3u << 20) + 7;
	uint8_t *data = malloc(len);
	cr_assert(data);
	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	struct store s;
	struct store_state st;
	cr_assert_eq(store_open(&s, dir), 0);
	cr_assert_eq(store_save_snapshot(&s, 100, 4, data, len), 0, "%s",
		     s.errmsg);
	store_close(&s);
	open_load(&s, &st);
	cr_assert_eq(st.snapshot_len, len);
	cr_assert_eq(memcmp(st.snapshot_data, data, len), 0);
	cr_assert_eq(st.first_index, 101);
	store_state_free(&st);
	store_close(&s);
	free(data);
}

Test(store, compact_then_append_then_reload)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	append_range(&s, 1, 20, 1, 0);
	cr_assert_eq(store_sync(&s), 0);

	/* compaction goes no further than the saved snapshot */
	cr_assert_eq(store_compact(&s, 10), -1);
	char want[512];
	snprintf(want, sizeof want, "%s/log: compact through index 10, past "
		 "the saved snapshot (index 0)", dir);
	cr_assert_str_eq(s.errmsg, want);
	cr_assert_eq(s.n_records, 20);

	cr_assert_eq(store_save_snapshot(&s, 10, 1, snap_a, sizeof snap_a), 0);
	cr_assert_eq(store_compact(&s, 10), 0, "%s", s.errmsg);
	cr_assert_eq(s.first_index, 11);
	cr_assert_eq(s.n_records, 10);
	cr_assert_eq(s.end, range_bytes(11, 20, 0));
	cr_assert_eq(s.offsets[0], 0);
	for (uint64_t i = 1; i < 10; i++)
		cr_assert_eq(s.offsets[i], range_bytes(11, 10 + i, 0));
	cr_assert_eq((uint64_t)file_size(STORE_LOG), range_bytes(11, 20, 0));
	cr_assert_eq(first_record_index(), 11);
	cr_assert(!exists("log.tmp"), "log.tmp is renamed away");
	/* again, or for less: nothing to do */
	cr_assert_eq(store_compact(&s, 10), 0);
	cr_assert_eq(store_compact(&s, 3), 0);
	cr_assert_eq(s.n_records, 10);

	/* appends go on at the next index, into the new file */
	cr_assert_eq(store_append(&s, 20, 1, "x", 1), -1);
	append_range(&s, 21, 25, 2, 1);
	cr_assert_eq(store_sync(&s), 0, "%s", s.errmsg);
	store_close(&s);

	open_load(&s, &st);
	cr_assert(!st.torn, "%s", st.torn_why);
	cr_assert(!st.log_discarded);
	cr_assert_eq(st.snapshot_index, 10);
	cr_assert_eq(st.first_index, 11);
	cr_assert_eq(s.first_index, 11);
	cr_assert_eq(st.n_entries, 15);
	for (uint64_t i = 11; i <= 20; i++)
		check_at(&st, i, 1, 0);
	for (uint64_t i = 21; i <= 25; i++)
		check_at(&st, i, 2, 1);
	store_state_free(&st);

	/* a second compaction after a load */
	cr_assert_eq(store_save_snapshot(&s, 22, 2, snap_a, sizeof snap_a), 0);
	cr_assert_eq(store_compact(&s, 22), 0, "%s", s.errmsg);
	cr_assert_eq(s.first_index, 23);
	append_range(&s, 26, 26, 2, 1);
	cr_assert_eq(store_sync(&s), 0);
	store_close(&s);
	open_load(&s, &st);
	cr_assert_eq(st.first_index, 23);
	cr_assert_eq(st.n_entries, 4);
	for (uint64_t i = 23; i <= 26; i++)
		check_at(&st, i, 2, 1);
	store_state_free(&st);
	store_close(&s);
}

Test(store, compact_past_the_end)
{
	/* an installed snapshot beyond the log: the log empties and goes on
	 * right after the snapshot */
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	store_state_free(&st);
	append_range(&s, 1, 5, 1, 0);
	cr_assert_eq(store_save_snapshot(&s, 9, 3, snap_a, sizeof snap_a), 0);
	cr_assert_eq(store_compact(&s, 9), 0, "%s", s.errmsg);
	cr_assert_eq(s.n_records, 0);
	cr_assert_eq(s.end, 0);
	cr_assert_eq(s.first_index, 10);
	cr_assert_eq(file_size(STORE_LOG), 0);
	cr_assert_eq(store_append(&s, 9, 3, "x", 1), -1);
	char want[512];
	snprintf(want, sizeof want, "%s/log: append of index 9, expected 10",
		 dir);
	cr_assert_str_eq(s.errmsg, want);
	append_range(&s, 10, 12, 3, 0);
	cr_assert_eq(store_sync(&s), 0);
	store_close(&s);

	open_load(&s, &st);
	cr_assert(!st.log_discarded);
	cr_assert_eq(st.first_index, 10);
	cr_assert_eq(st.n_entries, 3);
	for (uint64_t i = 10; i <= 12; i++)
		check_at(&st, i, 3, 0);
	store_state_free(&st);

	/* exactly through the last index, then on an empty log */
	cr_assert_eq(store_save_snapshot(&s, 12, 3, snap_a, sizeof snap_a), 0);
	cr_assert_eq(store_compact(&s, 12), 0, "%s", s.errmsg);
	cr_assert_eq(s.n_records, 0);
	cr_assert_eq(s.first_index, 13);
	cr_assert_eq(file_size(STORE_LOG), 0);
	cr_assert_eq(store_save_snapshot(&s, 40, 5, snap_a, sizeof snap_a), 0);
	cr_assert_eq(store_compact(&s, 40), 0, "%s", s.errmsg);
	cr_assert_eq(s.first_index, 41);
	append_range(&s, 41, 41, 5, 0);
	cr_assert_eq(store_sync(&s), 0);
	store_close(&s);

	open_load(&s, &st);
	cr_assert(!st.log_discarded);
	cr_assert_eq(st.snapshot_index, 40);
	cr_assert_eq(st.first_index, 41);
	cr_assert_eq(st.n_entries, 1);
	check_at(&st, 41, 5, 0);
	store_state_free(&st);
	store_close(&s);
}

Test(store, truncate_after_compact)
{
	struct store s;
	struct store_state st;
	make_snapshotted(10, 4, 1, true);
	open_load(&s, &st);
	cr_assert_eq(st.first_index, 5);
	store_state_free(&st);

	/* a conflicting suffix inside the compacted log */
	cr_assert_eq(store_truncate(&s, 8), 0, "%s", s.errmsg);
	cr_assert_eq(s.n_records, 3);
	cr_assert_eq(s.end, range_bytes(5, 7, 0));
	cr_assert_eq((uint64_t)file_size(STORE_LOG), range_bytes(5, 7, 0));
	append_range(&s, 8, 9, 2, 1);
	cr_assert_eq(store_sync(&s), 0);
	store_close(&s);
	open_load(&s, &st);
	cr_assert_eq(st.n_entries, 5);
	for (uint64_t i = 5; i <= 7; i++)
		check_at(&st, i, 1, 0);
	for (uint64_t i = 8; i <= 9; i++)
		check_at(&st, i, 2, 1);
	store_state_free(&st);

	/* from the first index, or before it: all of the log */
	cr_assert_eq(store_truncate(&s, 5), 0, "%s", s.errmsg);
	cr_assert_eq(s.n_records, 0);
	cr_assert_eq(s.first_index, 5);
	cr_assert_eq(file_size(STORE_LOG), 0);
	append_range(&s, 5, 6, 3, 2);
	cr_assert_eq(store_truncate(&s, 2), 0, "%s", s.errmsg);
	cr_assert_eq(s.n_records, 0);
	cr_assert_eq(s.end, 0);
	cr_assert_eq(store_truncate(&s, 0), -1);
	append_range(&s, 5, 7, 3, 2);
	cr_assert_eq(store_sync(&s), 0);
	store_close(&s);

	open_load(&s, &st);
	cr_assert(!st.torn);
	cr_assert(!st.log_discarded);
	cr_assert_eq(st.first_index, 5);
	cr_assert_eq(st.n_entries, 3);
	for (uint64_t i = 5; i <= 7; i++)
		check_at(&st, i, 3, 2);
	store_state_free(&st);
	store_close(&s);
}

Test(store, crash_between_save_and_compact)
{
	/* the snapshot is saved, the log still holds its prefix */
	make_snapshotted(10, 6, 1, false);
	cr_assert_eq((uint64_t)file_size(STORE_LOG), log_bytes(10, 0));
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	cr_assert(!st.log_discarded);
	cr_assert(!st.torn);
	cr_assert_eq(st.term, 3);
	cr_assert_eq(st.snapshot_index, 6);
	cr_assert_eq(st.first_index, 7);
	cr_assert_eq(st.n_entries, 4);
	for (uint64_t i = 7; i <= 10; i++)
		check_at(&st, i, 1, 0);
	/* the interrupted compaction is finished */
	cr_assert_eq(s.first_index, 7);
	cr_assert_eq(s.n_records, 4);
	cr_assert_eq((uint64_t)file_size(STORE_LOG), range_bytes(7, 10, 0));
	cr_assert_eq(first_record_index(), 7);
	store_state_free(&st);
	append_range(&s, 11, 11, 1, 0);
	store_close(&s);

	open_load(&s, &st);
	cr_assert_eq(st.first_index, 7);
	cr_assert_eq(st.n_entries, 5);
	for (uint64_t i = 7; i <= 11; i++)
		check_at(&st, i, 1, 0);
	store_state_free(&st);
	store_close(&s);
}

Test(store, crash_between_save_and_compact_at_the_last_index)
{
	make_snapshotted(10, 10, 1, false);
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	cr_assert(!st.log_discarded);
	cr_assert_eq(st.first_index, 11);
	cr_assert_eq(st.n_entries, 0);
	cr_assert_null(st.entries);
	cr_assert_eq(file_size(STORE_LOG), 0);
	store_state_free(&st);
	append_range(&s, 11, 12, 2, 0);
	store_close(&s);
	open_load(&s, &st);
	cr_assert_eq(st.n_entries, 2);
	check_at(&st, 12, 2, 0);
	store_state_free(&st);
	store_close(&s);
}

/* Load once: the log is discarded and the snapshot kept; then again:
 * a clean, empty log that goes on after the snapshot. */
static void expect_discarded(uint64_t snap_index)
{
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	cr_assert(st.log_discarded, "the log does not continue the snapshot");
	cr_assert(!st.fresh);
	cr_assert_eq(st.term, 3, "meta is kept");
	cr_assert_eq(st.snapshot_index, snap_index);
	cr_assert_eq(st.first_index, snap_index + 1);
	cr_assert_eq(st.n_entries, 0);
	cr_assert_null(st.entries);
	cr_assert_eq(s.n_records, 0);
	cr_assert_eq(file_size(STORE_LOG), 0, "dropped on disk too");
	cr_assert_eq(store_raft_size(&s), 24);
	store_state_free(&st);
	append_range(&s, snap_index + 1, snap_index + 2, 4, 1);
	store_close(&s);

	open_load(&s, &st);
	cr_assert(!st.log_discarded);
	cr_assert_eq(st.first_index, snap_index + 1);
	cr_assert_eq(st.n_entries, 2);
	check_at(&st, snap_index + 2, 4, 1);
	store_state_free(&st);
	store_close(&s);
}

Test(store, snapshot_term_mismatch_discards_the_log)
{
	/* the entry at the snapshot's index has another term */
	make_snapshotted(10, 6, 2, false);
	expect_discarded(6);
}

Test(store, log_below_the_snapshot_is_discarded)
{
	/* the log ends before the snapshot's index */
	make_snapshotted(3, 8, 1, false);
	expect_discarded(8);
}

Test(store, log_with_a_gap_after_the_snapshot_is_discarded)
{
	/* compacted through 10, then an older snapshot (5) replaced it: the
	 * log starts at 11, not 6 */
	make_snapshotted(15, 10, 1, true);
	struct store s;
	cr_assert_eq(store_open(&s, dir), 0);
	cr_assert_eq(store_save_snapshot(&s, 5, 1, snap_a, sizeof snap_a), 0);
	store_close(&s);
	expect_discarded(5);
}

static void expect_snapshot_error(const char *want)
{
	struct store s;
	struct store_state st;
	char msg[512];
	off_t log_size = file_size(STORE_LOG);
	cr_assert_eq(store_open(&s, dir), 0);
	cr_assert_eq(store_load(&s, &st), -1, "a damaged snapshot must not load");
	snprintf(msg, sizeof msg, "%s/snapshot: damaged (%s", dir, want);
	cr_assert_eq(strncmp(s.errmsg, msg, strlen(msg)), 0,
		     "errmsg \"%s\", expected \"%s...\"", s.errmsg, msg);
	cr_assert_eq(st.n_entries, 0);
	cr_assert_null(st.snapshot_data);
	store_state_free(&st);
	store_close(&s);
	cr_assert_eq(file_size(STORE_LOG), log_size, "the log is not touched");
}

Test(store, damaged_snapshot_is_an_error)
{
	make_snapshotted(10, 6, 1, false);
	size_t n;
	uint8_t *good = read_file(STORE_SNAPSHOT, &n);
	for (size_t at = 0; at < n; at++) {
		write_file(STORE_SNAPSHOT, good, n);
		flip_byte(STORE_SNAPSHOT, at);
		expect_snapshot_error(at < 4 ? "bad magic"
				      : at >= 24 && at < 28 ? "size"
				      : "bad CRC");
	}
	/* cut short anywhere, or too long */
	for (size_t cut = 0; cut < n; cut++) {
		write_file(STORE_SNAPSHOT, good, n);
		cut_file(STORE_SNAPSHOT, (off_t)cut);
		char want[64];
		if (cut < 28)
			snprintf(want, sizeof want, "size %zu bytes, shorter "
				 "than its 28-byte header", cut);
		else
			snprintf(want, sizeof want, "size %zu bytes, its "
				 "header says %zu", cut, n);
		expect_snapshot_error(want);
	}
	write_file(STORE_SNAPSHOT, good, n);
	append_bytes(STORE_SNAPSHOT, "x", 1);
	expect_snapshot_error("size");
	/* a well-formed snapshot of some other version: its CRC is right */
	uint8_t *other = malloc(n);
	cr_assert(other);
	memcpy(other, good, n);
	memcpy(other, "TSS2", 4);
	write_file(STORE_SNAPSHOT, other, n);
	expect_snapshot_error("bad magic");
	free(other);

	/* and the good one still loads, with the log untouched */
	write_file(STORE_SNAPSHOT, good, n);
	free(good);
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	cr_assert_eq(st.snapshot_index, 6);
	cr_assert_eq(st.n_entries, 4);
	for (uint64_t i = 7; i <= 10; i++)
		check_at(&st, i, 1, 0);
	store_state_free(&st);
	store_close(&s);
}

Test(store, leftover_tmp_files_are_ignored)
{
	make_snapshotted(8, 5, 1, true);
	static const char junk[] = "half a snapshot from a crash";
	write_file("snapshot.tmp", junk, sizeof junk);
	write_file("log.tmp", junk, sizeof junk);
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	cr_assert_eq(st.snapshot_index, 5);
	cr_assert_arr_eq(st.snapshot_data, snap_a, sizeof snap_a);
	cr_assert_eq(st.n_entries, 3);
	for (uint64_t i = 6; i <= 8; i++)
		check_at(&st, i, 1, 0);
	cr_assert(!exists("snapshot.tmp"), "removed by the load");
	cr_assert(!exists("log.tmp"), "removed by the load");
	store_state_free(&st);
	store_close(&s);
}

Test(store, leftover_snapshot_tmp_alone_is_no_snapshot)
{
	struct store s;
	struct store_state st;
	cr_assert_eq(store_open(&s, dir), 0);
	store_close(&s);
	write_file("snapshot.tmp", "TSS1", 4);
	open_load(&s, &st);
	cr_assert(st.fresh);
	cr_assert_eq(st.snapshot_index, 0);
	cr_assert_null(st.snapshot_data);
	cr_assert_eq(st.first_index, 1);
	cr_assert(!exists("snapshot.tmp"));
	store_state_free(&st);
	store_close(&s);
}

Test(store, raft_size_shrinks_after_compaction)
{
	struct store s;
	struct store_state st;
	make_snapshotted(50, 0, 0, false);
	cr_assert_eq(store_open(&s, dir), 0);
	cr_assert_eq(store_raft_size(&s), 24 + log_bytes(50, 0),
		     "known from the files before a load");
	cr_assert_eq(store_snapshot_size(&s), 0);
	cr_assert_eq(store_load(&s, &st), 0);
	store_state_free(&st);
	uint64_t before = store_raft_size(&s);
	cr_assert_eq(before, 24 + log_bytes(50, 0));

	cr_assert_eq(store_save_snapshot(&s, 40, 1, snap_a, sizeof snap_a), 0);
	cr_assert_eq(store_raft_size(&s), before, "saving alone frees nothing");
	cr_assert_eq(store_snapshot_size(&s), 28 + sizeof snap_a);
	cr_assert_eq(store_compact(&s, 40), 0, "%s", s.errmsg);
	uint64_t after = store_raft_size(&s);
	cr_assert_lt(after, before);
	cr_assert_eq(after, 24 + range_bytes(41, 50, 0));
	/* appends and truncations count */
	append_range(&s, 51, 51, 1, 0);
	cr_assert_eq(store_raft_size(&s), after + range_bytes(51, 51, 0));
	cr_assert_eq(store_truncate(&s, 51), 0);
	cr_assert_eq(store_raft_size(&s), after);
	store_close(&s);

	open_load(&s, &st);
	cr_assert_eq(store_raft_size(&s), after);
	cr_assert_eq(store_snapshot_size(&s), 28 + sizeof snap_a);
	cr_assert_eq((uint64_t)file_size(STORE_SNAPSHOT), 28 + sizeof snap_a);
	store_state_free(&st);
	store_close(&s);
}

Test(store, compacted_log_without_snapshot_is_an_error)
{
	make_snapshotted(10, 5, 1, true);
	char p[256], want[512];
	path_of(p, sizeof p, STORE_SNAPSHOT);
	cr_assert_eq(unlink(p), 0);
	struct store s;
	struct store_state st;
	cr_assert_eq(store_open(&s, dir), 0);
	cr_assert_eq(store_load(&s, &st), -1);
	snprintf(want, sizeof want, "%s/log: starts at index 6 but there is no "
		 "snapshot", dir);
	cr_assert_eq(strncmp(s.errmsg, want, strlen(want)), 0,
		     "errmsg \"%s\", expected \"%s...\"", s.errmsg, want);
	cr_assert_eq(st.n_entries, 0);
	store_state_free(&st);
	store_close(&s);
	cr_assert_eq((uint64_t)file_size(STORE_LOG), range_bytes(6, 10, 0),
		     "the log is left as it was");
}

Test(store, torn_tail_after_compaction)
{
	make_snapshotted(9, 5, 1, true);
	uint64_t total = range_bytes(6, 9, 0);
	uint8_t buf[64];
	uint32_t len = payload(9, 0, buf, sizeof buf);
	cr_assert_gt(len, 0);
	cut_file(STORE_LOG, (off_t)(total - 1));
	struct store s;
	struct store_state st;
	open_load(&s, &st);
	cr_assert(st.torn);
	cr_assert_eq(st.torn_record, 3);
	cr_assert_eq(st.torn_bytes, REC_HEADER + len - 1);
	cr_assert(!st.log_discarded);
	cr_assert_eq(st.first_index, 6);
	cr_assert_eq(st.n_entries, 3);
	for (uint64_t i = 6; i <= 8; i++)
		check_at(&st, i, 1, 0);
	cr_assert_eq((uint64_t)file_size(STORE_LOG), range_bytes(6, 8, 0));
	store_state_free(&st);
	append_range(&s, 9, 9, 2, 0);
	store_close(&s);
	open_load(&s, &st);
	cr_assert(!st.torn);
	cr_assert_eq(st.n_entries, 4);
	check_at(&st, 9, 2, 0);
	store_state_free(&st);
	store_close(&s);
}

Test(store, failed_snapshot_or_compaction_changes_nothing)
{
	/* a directory where the temp file must go makes the open fail */
	make_snapshotted(10, 4, 1, true);
	struct store s;
	struct store_state st;
	char p[256], want[512];
	open_load(&s, &st);
	store_state_free(&st);
	path_of(p, sizeof p, "snapshot.tmp");
	cr_assert_eq(mkdir(p, 0755), 0);
	path_of(p, sizeof p, "log.tmp");
	cr_assert_eq(mkdir(p, 0755), 0);

	cr_assert_eq(store_save_snapshot(&s, 8, 1, "new", 3), -1);
	snprintf(want, sizeof want, "%s/snapshot.tmp: open: Is a directory",
		 dir);
	cr_assert_str_eq(s.errmsg, want);
	cr_assert_eq(store_snapshot_size(&s), 28 + sizeof snap_a);
	/* the old snapshot is still the limit of compaction */
	cr_assert_eq(store_compact(&s, 8), -1);
	cr_assert_not_null(strstr(s.errmsg, "past the saved snapshot (index 4)"),
			   "%s", s.errmsg);

	/* now the snapshot is saved but compaction itself fails */
	path_of(p, sizeof p, "snapshot.tmp");
	cr_assert_eq(rmdir(p), 0);
	cr_assert_eq(store_save_snapshot(&s, 8, 1, "new", 3), 0, "%s", s.errmsg);
	uint64_t size = store_raft_size(&s);
	cr_assert_eq(store_compact(&s, 8), -1);
	snprintf(want, sizeof want, "%s/log.tmp: open: Is a directory", dir);
	cr_assert_str_eq(s.errmsg, want);
	cr_assert_eq(s.first_index, 5);
	cr_assert_eq(s.n_records, 6);
	cr_assert_eq(store_raft_size(&s), size);
	cr_assert_eq((uint64_t)file_size(STORE_LOG), range_bytes(5, 10, 0));
	/* the store goes on as before */
	append_range(&s, 11, 11, 1, 0);
	cr_assert_eq(store_sync(&s), 0);
	path_of(p, sizeof p, "log.tmp");
	cr_assert_eq(rmdir(p), 0);
	store_close(&s);

	/* the load finishes the compaction that failed */
	open_load(&s, &st);
	cr_assert_eq(st.snapshot_index, 8);
	cr_assert_eq(st.first_index, 9);
	cr_assert_eq(st.n_entries, 3);
	for (uint64_t i = 9; i <= 11; i++)
		check_at(&st, i, 1, 0);
	store_state_free(&st);
	store_close(&s);
}

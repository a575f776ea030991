/*
 * gen_corpus.c — writes the fuzz seed corpus (tests/fuzz/corpus) with the
 * real encoder, so the seeds follow the wire format when it changes.
 *
 *   gcc -std=c11 -D_GNU_SOURCE -o /tmp/gen_corpus tests/fuzz/gen_corpus.c \
 *       src/wire/wire.c src/core/raft.c src/core/rng.c src/core/kv.c && \
 *   rm -rf tests/fuzz/corpus && mkdir tests/fuzz/corpus && \
 *   /tmp/gen_corpus tests/fuzz/corpus
 *
 * (raft.c for the message names wire.c uses, kv.c for the key/value
 * bodies; starting from an empty directory drops seeds that were renamed
 * or retired.)
 *
 * One file per seed: valid frames of every type ("ok-*"), streams of
 * several frames ("stream-*"), frames cut short ("cut-*"), headers the
 * reader must refuse ("bad-frame-*") and well-framed payloads the decoders
 * must refuse ("bad-msg-*", "bad-kv-*", "bad-mr-*", "bad-state-*").  Every
 * file stays small (a snapshot seed carries a few dozen bytes, not a real
 * snapshot; a map order names its input file, it does not carry it).
 * This is a tool, not part of termscope: it exits on the first error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/kv.h"
#include "../../src/core/mr.h"
#include "../../src/wire/wire.h"

static const char *outdir;

static void put(const char *name, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", outdir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void put_buf(const char *name, const struct wbuf *b)
{
	if (b->failed) {
		fprintf(stderr, "gen_corpus: %s: out of memory\n", name);
		exit(1);
	}
	put(name, b->data, b->len);
}

static struct raft_entry entries[12];
static uint8_t entry_data[12][24];
static const uint8_t snapshot_data[] = "kv snapshot: a=1 b=22 c=333";

static void sample_msg(struct raft_msg *m, enum raft_msg_type type,
		       uint32_t n_entries)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	m->from = 1;
	m->to = 2;
	m->term = 3;
	switch (type) {
	case RAFT_REQUEST_VOTE:
		m->last_log_index = 7;
		m->last_log_term = 2;
		break;
	case RAFT_REQUEST_VOTE_REPLY:
		m->vote_granted = true;
		break;
	case RAFT_APPEND_ENTRIES:
		for (uint32_t i = 0; i < 12; i++) {
			uint32_t len = i % 4 == 0 ? 0 : 3 + i;
			for (uint32_t j = 0; j < len; j++)
				entry_data[i][j] = (uint8_t)('a' + (i + j) % 26);
			entries[i] = (struct raft_entry){ .term = 1 + i / 4,
				.len = len, .data = entry_data[i] };
		}
		m->prev_log_index = 4;
		m->prev_log_term = 1;
		m->leader_commit = 4;
		m->n_entries = n_entries;
		m->entries = n_entries ? entries : NULL;
		break;
	case RAFT_APPEND_ENTRIES_REPLY:
		m->success = false;
		m->conflict_term = 1;
		m->conflict_index = 3;
		break;
	case RAFT_INSTALL_SNAPSHOT:
		m->last_included_index = 40;
		m->last_included_term = 2;
		m->snapshot_len = n_entries ? sizeof snapshot_data - 1 : 0;
		m->snapshot_data = n_entries ? snapshot_data : NULL;
		break;
	case RAFT_INSTALL_SNAPSHOT_REPLY:
		m->from = 2;
		m->to = 1;
		m->last_included_index = 40;
		break;
	}
}

static void frame_msg(struct wbuf *b, enum wire_type t, const struct raft_msg *m)
{
	size_t at = wire_frame_begin(b, t);
	if (t == WIRE_DELIVER)
		wbuf_u64(b, 1234);
	wire_put_raft_msg(b, m);
	wire_frame_end(b, at);
}

/* A key/value request (client -> node) or reply (node -> client) frame:
 * SEND carries replies, DELIVER requests. */
static void frame_kv(struct wbuf *b, enum wire_type t, uint8_t type,
		     uint32_t client, uint32_t node, enum kv_op op)
{
	uint8_t *body;
	size_t len;
	int rc;
	if (type == WIRE_MSG_KV_REQUEST) {
		struct kv_request req = { .client = client, .seq = 7, .op = op,
			.local = false, .key = (const uint8_t *)"k1", .key_len = 2,
			.value = (const uint8_t *)"v1", .value_len = op == KV_GET ? 0 : 2,
			.version = op == KV_VPUT ? 3 : 0 };
		rc = kv_encode_request(&req, &body, &len);
	} else {
		struct kv_reply rep = { .client = client, .seq = 7,
			.err = op == KV_VPUT ? KV_ERR_VERSION : KV_OK,
			.value = (const uint8_t *)"v1", .value_len = op == KV_GET ? 2 : 0,
			.version = 4, .leader_hint = 0 };
		rc = kv_encode_reply(&rep, &body, &len);
	}
	if (rc != 0) {
		fprintf(stderr, "gen_corpus: kv encoding refused\n");
		exit(1);
	}
	size_t at = wire_frame_begin(b, t);
	if (t == WIRE_DELIVER)
		wbuf_u64(b, 1234);
	if (type == WIRE_MSG_KV_REQUEST)
		wire_put_kv_msg(b, type, client, node, body, len);
	else
		wire_put_kv_msg(b, type, node, client, body, len);
	wire_frame_end(b, at);
	free(body);
}

/* A MapReduce message between worker `worker` and the coordinator (node 1):
 * an ask or a done from the worker, an order to it. */
static void sample_mr(struct wire_mr *m, uint8_t type, uint32_t worker, uint8_t what)
{
	static const char file[] = "data/pg-grimm.txt";
	memset(m, 0, sizeof *m);
	m->type = type;
	m->from = type == WIRE_MSG_MR_ORDER ? 1 : worker;
	m->to = type == WIRE_MSG_MR_ORDER ? worker : 1;
	if (type == WIRE_MSG_MR_ORDER) {
		m->order = what;
		m->task = what == MR_DO_MAP ? 2 : what == MR_DO_REDUCE ? 1 : 0;
		m->n_map = 3;
		m->n_reduce = 2;
		if (what == MR_DO_MAP) {
			m->file = (const uint8_t *)file;
			m->file_len = sizeof file - 1;
		}
	} else if (type == WIRE_MSG_MR_DONE) {
		m->task_type = what;
		m->task = what == MR_MAP ? 2 : 1;
		m->bytes = what == MR_MAP ? 5120 : 640;
	}
}

static void frame_mr(struct wbuf *b, enum wire_type t, const struct wire_mr *m)
{
	size_t at = wire_frame_begin(b, t);
	if (t == WIRE_DELIVER)
		wbuf_u64(b, 1234);
	wire_put_mr_msg(b, m);
	wire_frame_end(b, at);
}

static void frame_mr_job(struct wbuf *b, uint8_t phase)
{
	size_t at = wire_frame_begin(b, WIRE_MR_JOB);
	wbuf_u8(b, phase);
	wbuf_u32(b, 3);                     /* n_map */
	wbuf_u32(b, 2);                     /* n_reduce */
	wire_frame_end(b, at);
}

static void frame_mr_task(struct wbuf *b, uint8_t type, uint32_t id, uint8_t state,
			  uint32_t worker)
{
	size_t at = wire_frame_begin(b, WIRE_MR_TASK);
	wbuf_u8(b, type);
	wbuf_u32(b, id);
	wbuf_u8(b, state);
	wbuf_u32(b, worker);
	wbuf_u64(b, state == MR_IDLE ? 0 : 1500);                /* started */
	wbuf_u64(b, state == MR_FINISHED ? 2700 : 0);            /* finished */
	wbuf_u32(b, state == MR_IDLE ? 0 : 1);                   /* runs */
	wire_frame_end(b, at);
}

static void frame_mr_worker(struct wbuf *b, uint8_t state, uint8_t type, uint32_t task)
{
	bool busy = state == WIRE_MRW_MAPPING || state == WIRE_MRW_REDUCING;
	size_t at = wire_frame_begin(b, WIRE_MR_WORKER);
	wbuf_u8(b, state);
	wbuf_u8(b, type);
	wbuf_u32(b, task);
	wbuf_u64(b, 1500);                  /* since */
	wbuf_u64(b, busy ? 20480 : 0);      /* bytes_in */
	wbuf_u64(b, busy ? 5120 : 0);       /* bytes_out */
	wire_frame_end(b, at);
}

static void frame_bye(struct wbuf *b, uint8_t how)
{
	size_t at = wire_frame_begin(b, WIRE_BYE);
	wbuf_u8(b, how);
	wire_frame_end(b, at);
}

static void frame_snapshot(struct wbuf *b, uint64_t index, uint8_t how)
{
	size_t at = wire_frame_begin(b, WIRE_SNAPSHOT);
	wbuf_u64(b, index);
	wbuf_u64(b, 2);
	wbuf_u64(b, 4096);
	wbuf_u8(b, how);
	wire_frame_end(b, at);
}

static void frame_kv_set(struct wbuf *b, const char *key, const char *value,
			 uint64_t version)
{
	size_t at = wire_frame_begin(b, WIRE_KV_SET);
	wbuf_str(b, key);
	wbuf_str(b, value);
	wbuf_u64(b, version);
	wire_frame_end(b, at);
}

static void frame_empty(struct wbuf *b, enum wire_type t)
{
	size_t at = wire_frame_begin(b, t);
	wire_frame_end(b, at);
}

static void sample_state(struct wire_state *s, bool leader)
{
	memset(s, 0, sizeof *s);
	s->role = leader ? RAFT_LEADER : RAFT_FOLLOWER;
	s->term = 5;
	s->voted_for = leader ? 1 : 2;
	s->leader = leader ? 1 : 2;
	s->commit = 10;
	s->applied = 9;
	s->last_index = 12;
	s->election_deadline = leader ? RAFT_NO_DEADLINE : 4321;
	s->snapshot_index = leader ? 6 : 0;
	s->snapshot_term = leader ? 1 : 0;
	s->raft_bytes = 812;
	s->snapshot_bytes = leader ? 96 : 0;
	s->kv_keys = 3;
	s->kv_dup_bytes = 48;
	s->n_peers = leader ? 5 : 0;
	for (uint32_t i = 1; i <= s->n_peers; i++) {
		s->next_index[i] = 13;
		s->match_index[i] = 12 - i;
	}
}

static void frame_state(struct wbuf *b, const struct wire_state *s)
{
	size_t at = wire_frame_begin(b, WIRE_STATE);
	wire_put_state(b, s);
	wire_frame_end(b, at);
}

static void frame_u64s(struct wbuf *b, enum wire_type t, int n, uint64_t v)
{
	size_t at = wire_frame_begin(b, t);
	for (int i = 0; i < n; i++)
		wbuf_u64(b, v + (uint64_t)i);
	wire_frame_end(b, at);
}

static void frame_hello(struct wbuf *b)
{
	size_t at = wire_frame_begin(b, WIRE_HELLO);
	wbuf_u16(b, WIRE_VERSION);
	for (int i = 0; i < WIRE_TOKEN_LEN; i++)
		wbuf_u8(b, (uint8_t)(0x30 + i));
	wbuf_u32(b, 3);
	wbuf_u32(b, 1);
	wbuf_u32(b, 4242);
	wire_frame_end(b, at);
}

static void frame_entry(struct wbuf *b, enum wire_type t, const char *data,
			bool recovered)
{
	size_t at = wire_frame_begin(b, t);
	wbuf_u64(b, 8);
	wbuf_u64(b, 2);
	wbuf_str(b, data);
	if (t == WIRE_APPEND)
		wbuf_u8(b, recovered);
	wire_frame_end(b, at);
}

static void frame_text(struct wbuf *b, enum wire_type t, const char *text)
{
	size_t at = wire_frame_begin(b, t);
	if (t == WIRE_NOTE)
		wbuf_u8(b, 1);
	wbuf_str(b, text);
	wire_frame_end(b, at);
}

static void frame_proposed(struct wbuf *b)
{
	size_t at = wire_frame_begin(b, WIRE_PROPOSED);
	wbuf_u64(b, 17);
	wbuf_u64(b, 8);
	wbuf_u64(b, 2);
	wbuf_u8(b, 1);
	wire_frame_end(b, at);
}

static void frame_propose(struct wbuf *b)
{
	size_t at = wire_frame_begin(b, WIRE_PROPOSE);
	wbuf_u64(b, 1000);
	wbuf_u64(b, 18);
	wbuf_str(b, "x=1");
	wire_frame_end(b, at);
}

/* Encode one frame, then patch byte `at` of its payload to `v`. */
static void put_patched(const char *name, struct wbuf *b, size_t at, uint8_t v)
{
	if (WIRE_HEADER + at >= b->len) {
		fprintf(stderr, "gen_corpus: %s: patch outside the frame\n", name);
		exit(1);
	}
	b->data[WIRE_HEADER + at] = v;
	put_buf(name, b);
}

int main(int argc, char **argv)
{
	struct wbuf b;
	struct raft_msg m;
	struct wire_mr mr;
	struct wire_state s;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	wbuf_init(&b);

	/* valid frames of every type */
	frame_hello(&b);
	put_buf("ok-hello", &b);
	static const struct { const char *name; enum raft_msg_type t; uint32_t n; } msgs[] = {
		{ "ok-send-rv", RAFT_REQUEST_VOTE, 0 },
		{ "ok-send-rv-reply", RAFT_REQUEST_VOTE_REPLY, 0 },
		{ "ok-send-ae-0", RAFT_APPEND_ENTRIES, 0 },
		{ "ok-send-ae-1", RAFT_APPEND_ENTRIES, 1 },
		{ "ok-send-ae-12", RAFT_APPEND_ENTRIES, 12 },
		{ "ok-send-ae-reply", RAFT_APPEND_ENTRIES_REPLY, 0 },
		{ "ok-send-is", RAFT_INSTALL_SNAPSHOT, 1 },
		{ "ok-send-is-empty", RAFT_INSTALL_SNAPSHOT, 0 },
		{ "ok-send-is-reply", RAFT_INSTALL_SNAPSHOT_REPLY, 0 },
	};
	for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
		wbuf_reset(&b);
		sample_msg(&m, msgs[i].t, msgs[i].n);
		frame_msg(&b, WIRE_SEND, &m);
		put_buf(msgs[i].name, &b);
	}
	wbuf_reset(&b);
	frame_proposed(&b);
	put_buf("ok-proposed", &b);
	wbuf_reset(&b);
	sample_state(&s, true);
	frame_state(&b, &s);
	put_buf("ok-state-leader", &b);
	wbuf_reset(&b);
	sample_state(&s, false);
	frame_state(&b, &s);
	put_buf("ok-state-follower", &b);
	wbuf_reset(&b);
	frame_entry(&b, WIRE_APPEND, "x=1", true);
	put_buf("ok-append", &b);
	wbuf_reset(&b);
	frame_u64s(&b, WIRE_TRUNCATE, 1, 5);
	put_buf("ok-truncate", &b);
	wbuf_reset(&b);
	frame_entry(&b, WIRE_APPLY, "x=1", false);
	put_buf("ok-apply", &b);
	wbuf_reset(&b);
	frame_entry(&b, WIRE_APPLY, "", false);
	put_buf("ok-apply-empty", &b);
	wbuf_reset(&b);
	frame_text(&b, WIRE_NOTE, "log: bad CRC at record 4, cut 40 bytes");
	put_buf("ok-note", &b);
	wbuf_reset(&b);
	frame_u64s(&b, WIRE_DONE, 1, UINT64_MAX);
	put_buf("ok-done", &b);
	wbuf_reset(&b);
	frame_text(&b, WIRE_FATAL, "data/node-3/meta: damaged (bad CRC)");
	put_buf("ok-fatal", &b);
	wbuf_reset(&b);
	frame_u64s(&b, WIRE_TICK, 1, 100);
	put_buf("ok-tick", &b);
	wbuf_reset(&b);
	sample_msg(&m, RAFT_APPEND_ENTRIES, 3);
	frame_msg(&b, WIRE_DELIVER, &m);
	put_buf("ok-deliver-ae", &b);
	wbuf_reset(&b);
	sample_msg(&m, RAFT_REQUEST_VOTE, 0);
	frame_msg(&b, WIRE_DELIVER, &m);
	put_buf("ok-deliver-rv", &b);
	wbuf_reset(&b);
	frame_propose(&b);
	put_buf("ok-propose", &b);
	wbuf_reset(&b);
	frame_u64s(&b, WIRE_TIMEOUT_NOW, 1, 200);
	put_buf("ok-timeout-now", &b);
	wbuf_reset(&b);
	frame_u64s(&b, WIRE_SET_TIMER, 2, 300);
	put_buf("ok-set-timer", &b);
	wbuf_reset(&b);
	sample_msg(&m, RAFT_INSTALL_SNAPSHOT, 1);
	frame_msg(&b, WIRE_DELIVER, &m);
	put_buf("ok-deliver-is", &b);
	wbuf_reset(&b);
	frame_kv(&b, WIRE_DELIVER, WIRE_MSG_KV_REQUEST, WIRE_CLIENT_BASE + 1, 2, KV_PUT);
	put_buf("ok-deliver-kv-put", &b);
	wbuf_reset(&b);
	frame_kv(&b, WIRE_DELIVER, WIRE_MSG_KV_REQUEST, WIRE_CLIENT_BASE + WIRE_MAX_CLIENTS,
		 RAFT_MAX_NODES, KV_VPUT);
	put_buf("ok-deliver-kv-vput", &b);
	wbuf_reset(&b);
	frame_kv(&b, WIRE_SEND, WIRE_MSG_KV_REPLY, WIRE_CLIENT_BASE + 1, 2, KV_GET);
	put_buf("ok-send-kv-reply", &b);
	wbuf_reset(&b);
	frame_snapshot(&b, 40, WIRE_SNAP_INSTALLED);
	put_buf("ok-snapshot", &b);
	wbuf_reset(&b);
	frame_kv_set(&b, "k1", "v1", 4);
	put_buf("ok-kv-set", &b);
	wbuf_reset(&b);
	frame_empty(&b, WIRE_KV_RESET);
	put_buf("ok-kv-reset", &b);
	static const struct {
		const char *name;
		enum wire_type t;
		uint8_t type, what;
	} mrs[] = {
		{ "ok-send-mr-ask", WIRE_SEND, WIRE_MSG_MR_ASK, 0 },
		{ "ok-deliver-mr-ask", WIRE_DELIVER, WIRE_MSG_MR_ASK, 0 },
		{ "ok-send-mr-order-map", WIRE_SEND, WIRE_MSG_MR_ORDER, MR_DO_MAP },
		{ "ok-deliver-mr-order-map", WIRE_DELIVER, WIRE_MSG_MR_ORDER, MR_DO_MAP },
		{ "ok-send-mr-order-reduce", WIRE_SEND, WIRE_MSG_MR_ORDER, MR_DO_REDUCE },
		{ "ok-send-mr-order-wait", WIRE_SEND, WIRE_MSG_MR_ORDER, MR_WAIT },
		{ "ok-deliver-mr-order-exit", WIRE_DELIVER, WIRE_MSG_MR_ORDER, MR_EXIT },
		{ "ok-send-mr-done-map", WIRE_SEND, WIRE_MSG_MR_DONE, MR_MAP },
		{ "ok-deliver-mr-done-reduce", WIRE_DELIVER, WIRE_MSG_MR_DONE, MR_REDUCE },
	};
	for (size_t i = 0; i < sizeof mrs / sizeof mrs[0]; i++) {
		wbuf_reset(&b);
		sample_mr(&mr, mrs[i].type, 2, mrs[i].what);
		frame_mr(&b, mrs[i].t, &mr);
		put_buf(mrs[i].name, &b);
	}
	wbuf_reset(&b);
	sample_mr(&mr, WIRE_MSG_MR_DONE, RAFT_MAX_NODES, MR_REDUCE);
	frame_mr(&b, WIRE_SEND, &mr);
	put_buf("ok-send-mr-done-max-node", &b);
	wbuf_reset(&b);
	frame_mr_job(&b, MR_MAPPING);
	put_buf("ok-mr-job", &b);
	wbuf_reset(&b);
	frame_mr_task(&b, MR_MAP, 2, MR_RUNNING, 2);
	put_buf("ok-mr-task", &b);
	wbuf_reset(&b);
	frame_mr_worker(&b, WIRE_MRW_MAPPING, MR_MAP, 2);
	put_buf("ok-mr-worker", &b);
	wbuf_reset(&b);
	frame_bye(&b, 0);
	put_buf("ok-bye", &b);

	/* conversations: what a node says, what the hub says */
	wbuf_reset(&b);
	frame_hello(&b);
	sample_state(&s, false);
	frame_state(&b, &s);
	frame_text(&b, WIRE_NOTE, "recovered 3 entries");
	frame_u64s(&b, WIRE_DONE, 1, 450);
	sample_msg(&m, RAFT_REQUEST_VOTE, 0);
	frame_msg(&b, WIRE_SEND, &m);
	frame_proposed(&b);
	frame_entry(&b, WIRE_APPEND, "y=2", false);
	frame_entry(&b, WIRE_APPLY, "y=2", false);
	frame_u64s(&b, WIRE_DONE, 1, 550);
	put_buf("stream-node", &b);
	/* a kv replica: compacts, reports its table, answers a client */
	wbuf_reset(&b);
	frame_entry(&b, WIRE_APPLY, "put k1", false);
	frame_snapshot(&b, 8, WIRE_SNAP_TAKEN);
	frame_empty(&b, WIRE_KV_RESET);
	frame_kv_set(&b, "k1", "v1", 1);
	frame_kv_set(&b, "", "", 2);
	frame_kv(&b, WIRE_SEND, WIRE_MSG_KV_REPLY, WIRE_CLIENT_BASE + 3, 1, KV_PUT);
	sample_msg(&m, RAFT_INSTALL_SNAPSHOT_REPLY, 0);
	frame_msg(&b, WIRE_SEND, &m);
	sample_state(&s, false);
	frame_state(&b, &s);
	frame_u64s(&b, WIRE_DONE, 1, 600);
	put_buf("stream-kv-node", &b);
	wbuf_reset(&b);
	frame_u64s(&b, WIRE_TICK, 1, 450);
	sample_msg(&m, RAFT_APPEND_ENTRIES_REPLY, 0);
	frame_msg(&b, WIRE_DELIVER, &m);
	frame_propose(&b);
	frame_u64s(&b, WIRE_SET_TIMER, 2, 500);
	frame_u64s(&b, WIRE_TIMEOUT_NOW, 1, 501);
	sample_msg(&m, RAFT_APPEND_ENTRIES, 2);
	frame_msg(&b, WIRE_DELIVER, &m);
	frame_kv(&b, WIRE_DELIVER, WIRE_MSG_KV_REQUEST, WIRE_CLIENT_BASE + 2, 1, KV_GET);
	sample_msg(&m, RAFT_INSTALL_SNAPSHOT, 1);
	frame_msg(&b, WIRE_DELIVER, &m);
	put_buf("stream-hub", &b);
	/* a MapReduce coordinator: hands out a map task, hears it is done,
	 * finishes the job and leaves */
	wbuf_reset(&b);
	frame_hello(&b);
	frame_mr_job(&b, MR_MAPPING);
	frame_u64s(&b, WIRE_DONE, 1, 1000);
	sample_mr(&mr, WIRE_MSG_MR_ORDER, 2, MR_DO_MAP);
	frame_mr(&b, WIRE_SEND, &mr);
	frame_mr_task(&b, MR_MAP, 2, MR_RUNNING, 2);
	frame_u64s(&b, WIRE_DONE, 1, 11500);
	frame_mr_task(&b, MR_MAP, 2, MR_FINISHED, 2);
	frame_mr_job(&b, MR_REDUCING);
	frame_u64s(&b, WIRE_DONE, 1, UINT64_MAX);
	sample_mr(&mr, WIRE_MSG_MR_ORDER, 3, MR_EXIT);
	frame_mr(&b, WIRE_SEND, &mr);
	frame_mr_job(&b, MR_DONE);
	frame_bye(&b, 0);
	put_buf("stream-mr-coordinator", &b);
	/* a worker: asks, maps, reports, is told to wait, its app crashes */
	wbuf_reset(&b);
	frame_hello(&b);
	sample_mr(&mr, WIRE_MSG_MR_ASK, 3, 0);
	frame_mr(&b, WIRE_SEND, &mr);
	frame_mr_worker(&b, WIRE_MRW_ASKING, 0, 0);
	frame_u64s(&b, WIRE_DONE, 1, 1100);
	frame_mr_worker(&b, WIRE_MRW_MAPPING, MR_MAP, 2);
	frame_u64s(&b, WIRE_DONE, 1, 1600);
	sample_mr(&mr, WIRE_MSG_MR_DONE, 3, MR_MAP);
	frame_mr(&b, WIRE_SEND, &mr);
	sample_mr(&mr, WIRE_MSG_MR_ASK, 3, 0);
	frame_mr(&b, WIRE_SEND, &mr);
	frame_mr_worker(&b, WIRE_MRW_ASKING, MR_MAP, 2);
	frame_mr_worker(&b, WIRE_MRW_WAITING, MR_MAP, 2);
	frame_bye(&b, 1);
	put_buf("stream-mr-worker", &b);
	/* what the hub says to them */
	wbuf_reset(&b);
	frame_u64s(&b, WIRE_TICK, 1, 1000);
	sample_mr(&mr, WIRE_MSG_MR_ASK, 2, 0);
	frame_mr(&b, WIRE_DELIVER, &mr);
	sample_mr(&mr, WIRE_MSG_MR_ORDER, 2, MR_DO_MAP);
	frame_mr(&b, WIRE_DELIVER, &mr);
	sample_mr(&mr, WIRE_MSG_MR_DONE, 2, MR_MAP);
	frame_mr(&b, WIRE_DELIVER, &mr);
	sample_mr(&mr, WIRE_MSG_MR_ORDER, 2, MR_WAIT);
	frame_mr(&b, WIRE_DELIVER, &mr);
	frame_u64s(&b, WIRE_TICK, 1, 2000);
	put_buf("stream-mr-hub", &b);

	/* cut short: the stream ends inside a frame */
	wbuf_reset(&b);
	sample_msg(&m, RAFT_APPEND_ENTRIES, 3);
	frame_msg(&b, WIRE_SEND, &m);
	put("cut-in-header", b.data, 3);
	put("cut-in-payload", b.data, b.len - 7);

	/* well framed, but the payload is cut short inside the frame */
	wbuf_reset(&b);
	{
		size_t at = wire_frame_begin(&b, WIRE_SEND);
		struct wbuf inner;
		wbuf_init(&inner);
		wire_put_raft_msg(&inner, &m);
		wbuf_raw(&b, inner.data, inner.len - 5);
		wbuf_free(&inner);
		wire_frame_end(&b, at);
	}
	put_buf("cut-msg-in-frame", &b);
	wbuf_reset(&b);
	{
		size_t at = wire_frame_begin(&b, WIRE_STATE);
		struct wbuf inner;
		wbuf_init(&inner);
		sample_state(&s, true);
		wire_put_state(&inner, &s);
		wbuf_raw(&b, inner.data, inner.len - 9);
		wbuf_free(&inner);
		wire_frame_end(&b, at);
	}
	put_buf("cut-state-in-frame", &b);
	wbuf_reset(&b);
	{
		size_t at = wire_frame_begin(&b, WIRE_HELLO);
		wbuf_u16(&b, WIRE_VERSION);
		wbuf_raw(&b, "0123456789", 10);
		wire_frame_end(&b, at);
	}
	put_buf("cut-hello-in-frame", &b);
	wbuf_reset(&b);
	{
		size_t at = wire_frame_begin(&b, WIRE_SEND);
		struct wbuf inner;
		wbuf_init(&inner);
		sample_msg(&m, RAFT_INSTALL_SNAPSHOT, 1);
		wire_put_raft_msg(&inner, &m);
		wbuf_raw(&b, inner.data, inner.len - 4);   /* inside the data */
		wbuf_free(&inner);
		wire_frame_end(&b, at);
	}
	put_buf("cut-is-in-frame", &b);
	wbuf_reset(&b);
	{
		struct wbuf inner;
		wbuf_init(&inner);
		frame_kv(&inner, WIRE_SEND, WIRE_MSG_KV_REPLY, WIRE_CLIENT_BASE + 1, 2, KV_GET);
		/* the frame ends 3 bytes into the kv body (after the envelope's
		 * 5-byte header and 13-byte message header) */
		size_t at = wire_frame_begin(&b, WIRE_SEND);
		wbuf_raw(&b, inner.data + WIRE_HEADER, 13 + 3);
		wire_frame_end(&b, at);
		wbuf_free(&inner);
	}
	put_buf("cut-kv-in-frame", &b);
	wbuf_reset(&b);
	{
		size_t at = wire_frame_begin(&b, WIRE_KV_SET);
		wbuf_str(&b, "k1");
		wbuf_u32(&b, 9);                /* a value of 9 bytes, 2 there */
		wbuf_raw(&b, "v1", 2);
		wire_frame_end(&b, at);
	}
	put_buf("cut-kv-set-in-frame", &b);
	wbuf_reset(&b);
	{
		struct wbuf inner;
		wbuf_init(&inner);
		sample_mr(&mr, WIRE_MSG_MR_ORDER, 2, MR_DO_MAP);
		wire_put_mr_msg(&inner, &mr);
		size_t at = wire_frame_begin(&b, WIRE_SEND);
		wbuf_raw(&b, inner.data, inner.len - 4);   /* inside the file */
		wire_frame_end(&b, at);
		wbuf_free(&inner);
	}
	put_buf("cut-mr-order-in-frame", &b);
	wbuf_reset(&b);
	{
		struct wbuf inner;
		wbuf_init(&inner);
		sample_mr(&mr, WIRE_MSG_MR_DONE, 2, MR_REDUCE);
		wire_put_mr_msg(&inner, &mr);
		size_t at = wire_frame_begin(&b, WIRE_DELIVER);
		wbuf_u64(&b, 1234);
		wbuf_raw(&b, inner.data, inner.len - 3);   /* inside the bytes */
		wire_frame_end(&b, at);
		wbuf_free(&inner);
	}
	put_buf("cut-mr-done-in-frame", &b);
	wbuf_reset(&b);
	{
		size_t at = wire_frame_begin(&b, WIRE_MR_TASK);
		wbuf_u8(&b, MR_REDUCE);
		wbuf_u32(&b, 1);
		wbuf_u8(&b, MR_RUNNING);
		wbuf_u32(&b, 3);
		wbuf_u64(&b, 1500);             /* finished and runs are missing */
		wire_frame_end(&b, at);
	}
	put_buf("cut-mr-task-in-frame", &b);

	/* headers the reader refuses */
	static const uint8_t too_big[] = { 0xff, 0xff, 0xff, 0xff, WIRE_SEND, 1, 2 };
	put("bad-frame-len-max", too_big, sizeof too_big);
	uint8_t over[WIRE_HEADER] = { 0, 0, 0, 0, WIRE_TICK };
	for (int i = 0; i < 4; i++)
		over[i] = (uint8_t)((WIRE_MAX_FRAME + 1) >> (8 * i));
	put("bad-frame-len-limit", over, sizeof over);
	wbuf_reset(&b);
	frame_u64s(&b, WIRE_TICK, 1, 1);
	wbuf_raw(&b, "\x08\x00\x00\x00\x12", 5);      /* type 18: after BYE */
	put_buf("bad-frame-type-18", &b);
	wbuf_reset(&b);
	frame_bye(&b, 0);
	wbuf_raw(&b, "\x01\x00\x00\x00\x13\x00", 6);  /* type 19: before TICK */
	put_buf("bad-frame-type-19", &b);
	static const uint8_t type0[] = { 0, 0, 0, 0, 0 };
	put("bad-frame-type-0", type0, sizeof type0);

	/* payloads the decoders refuse */
	wbuf_reset(&b);
	sample_msg(&m, RAFT_REQUEST_VOTE_REPLY, 0);
	frame_msg(&b, WIRE_SEND, &m);
	put_patched("bad-msg-bool", &b, 17, 2);
	wbuf_reset(&b);
	sample_msg(&m, RAFT_REQUEST_VOTE, 0);
	frame_msg(&b, WIRE_SEND, &m);
	put_patched("bad-msg-from-0", &b, 1, 0);
	wbuf_reset(&b);
	frame_msg(&b, WIRE_SEND, &m);
	put_patched("bad-msg-to-10", &b, 5, RAFT_MAX_NODES + 1);
	wbuf_reset(&b);
	frame_msg(&b, WIRE_SEND, &m);
	put_patched("bad-msg-type-9", &b, 0, 9);
	wbuf_reset(&b);
	sample_msg(&m, RAFT_INSTALL_SNAPSHOT, 1);
	frame_msg(&b, WIRE_SEND, &m);
	/* last_included_index (payload offset 17) becomes 0 */
	put_patched("bad-msg-is-index-0", &b, 17, 0);
	wbuf_reset(&b);
	frame_msg(&b, WIRE_SEND, &m);
	/* the snapshot's length (offset 33) grows past the payload */
	put_patched("bad-msg-is-len", &b, 34, 0x10);
	wbuf_reset(&b);
	frame_kv(&b, WIRE_DELIVER, WIRE_MSG_KV_REQUEST, WIRE_CLIENT_BASE + 1, 2, KV_PUT);
	/* the sender (payload offset 8 + 1) becomes node 3 */
	b.data[WIRE_HEADER + 10] = 0;
	put_patched("bad-kv-request-from-node", &b, 9, 3);
	wbuf_reset(&b);
	frame_kv(&b, WIRE_SEND, WIRE_MSG_KV_REPLY, WIRE_CLIENT_BASE + 1, 2, KV_GET);
	/* the receiver (payload offset 5) becomes node 1 */
	b.data[WIRE_HEADER + 6] = 0;
	put_patched("bad-kv-reply-to-node", &b, 5, 1);
	wbuf_reset(&b);
	frame_kv(&b, WIRE_SEND, WIRE_MSG_KV_REPLY, WIRE_CLIENT_BASE + 1, 2, KV_GET);
	/* client 0: WIRE_CLIENT_BASE itself */
	put_patched("bad-kv-client-0", &b, 5, (uint8_t)WIRE_CLIENT_BASE);
	wbuf_reset(&b);
	frame_kv(&b, WIRE_SEND, WIRE_MSG_KV_REPLY, WIRE_CLIENT_BASE + 1, 2, KV_GET);
	/* a reply with ErrMaybe (body offset 12, after the 13-byte header) */
	put_patched("bad-kv-reply-err", &b, 13 + 12, KV_ERR_MAYBE);
	wbuf_reset(&b);
	frame_kv(&b, WIRE_DELIVER, WIRE_MSG_KV_REQUEST, WIRE_CLIENT_BASE + 1, 2, KV_PUT);
	/* a local put (the local flag: body offset 1, after u64 now and the
	 * 13-byte header) */
	put_patched("bad-kv-local-put", &b, 8 + 13 + 1, 1);
	wbuf_reset(&b);
	sample_msg(&m, RAFT_APPEND_ENTRIES, 1);
	frame_msg(&b, WIRE_SEND, &m);
	/* n_entries (payload offset 41) becomes 0x7fffffff */
	b.data[WIRE_HEADER + 41] = 0xff;
	b.data[WIRE_HEADER + 42] = 0xff;
	b.data[WIRE_HEADER + 43] = 0xff;
	put_patched("bad-msg-huge-n-entries", &b, 44, 0x7f);
	wbuf_reset(&b);
	sample_msg(&m, RAFT_APPEND_ENTRIES, 1);
	frame_msg(&b, WIRE_SEND, &m);
	/* the entry's data length (offset 45 + 8) grows past the payload */
	put_patched("bad-msg-entry-len", &b, 53, 0x40);
	wbuf_reset(&b);
	{
		size_t at = wire_frame_begin(&b, WIRE_SEND);
		sample_msg(&m, RAFT_APPEND_ENTRIES_REPLY, 0);
		wire_put_raft_msg(&b, &m);
		wbuf_u8(&b, 0);                 /* one byte too many */
		wire_frame_end(&b, at);
	}
	put_buf("bad-msg-trailing", &b);
	wbuf_reset(&b);
	sample_mr(&mr, WIRE_MSG_MR_ORDER, 2, MR_DO_MAP);
	frame_mr(&b, WIRE_SEND, &mr);
	/* the order (payload offset 9) is past MR_EXIT */
	put_patched("bad-mr-order-4", &b, 9, MR_EXIT + 1);
	wbuf_reset(&b);
	frame_mr(&b, WIRE_SEND, &mr);
	/* the file's length (offset 22) grows past the payload */
	put_patched("bad-mr-file-len", &b, 23, 0x10);
	wbuf_reset(&b);
	frame_mr(&b, WIRE_SEND, &mr);
	/* the receiver (offset 5) becomes client 1 */
	wire_put_le(b.data + WIRE_HEADER + 5, WIRE_CLIENT_BASE + 1, 4);
	put_buf("bad-mr-order-to-client", &b);
	wbuf_reset(&b);
	sample_mr(&mr, WIRE_MSG_MR_DONE, 2, MR_REDUCE);
	frame_mr(&b, WIRE_DELIVER, &mr);
	/* the task type (offset 8 + 9) is neither map nor reduce */
	put_patched("bad-mr-task-type-2", &b, 8 + 9, 2);
	wbuf_reset(&b);
	frame_mr(&b, WIRE_SEND, &mr);
	put_patched("bad-mr-from-0", &b, 1, 0);
	wbuf_reset(&b);
	sample_mr(&mr, WIRE_MSG_MR_ASK, 2, 0);
	frame_mr(&b, WIRE_SEND, &mr);
	put_patched("bad-mr-to-10", &b, 5, RAFT_MAX_NODES + 1);
	wbuf_reset(&b);
	frame_mr(&b, WIRE_SEND, &mr);
	put_patched("bad-mr-type-21", &b, 0, WIRE_MSG_MR_DONE + 1);
	wbuf_reset(&b);
	{
		size_t at = wire_frame_begin(&b, WIRE_DELIVER);
		wbuf_u64(&b, 1234);
		wire_put_mr_msg(&b, &mr);
		wbuf_u8(&b, 0);                 /* an ask carries nothing more */
		wire_frame_end(&b, at);
	}
	put_buf("bad-mr-ask-trailing", &b);
	wbuf_reset(&b);
	sample_state(&s, true);
	frame_state(&b, &s);
	put_patched("bad-state-role", &b, 0, 3);
	wbuf_reset(&b);
	frame_state(&b, &s);
	put_patched("bad-state-n-peers", &b, 97, RAFT_MAX_NODES + 1);

	wbuf_free(&b);
	return 0;
}

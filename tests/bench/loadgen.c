/*
 * loadgen.c — a closed-loop load generator for `make bench`'s comparison with
 * etcd and Redis (tests/bench/compare.sh).  C11 + libuv, loopback only.
 *
 * It opens N connections to 127.0.0.1 (one port, or several: connections are
 * spread over them, and one that loses its server moves on to the next), each
 * with one request outstanding at a time, and for a duration (or a number of
 * operations) sends a fixed mix of writes and reads over a fixed key space
 * with values of a fixed size.  Two protocols:
 *
 *   resp   Redis's protocol: SET key value / GET key (termscope --resp, Redis)
 *   etcd   etcd v3's HTTP/JSON gateway over HTTP/1.1 keep-alive:
 *          POST /v3/kv/put {"key": b64, "value": b64}
 *          POST /v3/kv/range {"key": b64}
 *
 * Connecting is not timed: the clock starts once every connection is up (and
 * after --preload has written every key once).  At the end it prints one line
 * per operation and a total, as key=value fields:
 *
 *   loadgen op=set ops=41230 ops_s=13743.3 p50_ms=1.102 p99_ms=3.870 max_ms=9.912 errors=0 misses=0
 *   loadgen op=all ... errors=0 conn_errors=0 timeouts=0 max_write_gap_ms=4.1 gap_at_s=1.234
 *
 * errors: error replies (RESP "-ERR ...", HTTP status other than 200);
 * conn_errors: connections refused, reset or closed by the server (a lost
 * connection is made again, to the next port); timeouts: no reply within
 * --timeout (the connection is then dropped and made again).  The first few
 * problems are printed on stderr as they happen, and at the end one line per
 * kind, "loadgen: problems: N x what the server said".  misses: reads
 * that found no value.  max_write_gap_ms: the longest time between two
 * acknowledged writes, all connections together (from the start of the
 * measured run; gap_at_s: when that gap began) — with a server killed during
 * the run, the time the service was unavailable for writes.
 *
 *   loadgen --proto resp|etcd --port P[,P...] [--host 127.0.0.1] [--conns N]
 *           [--writes W --reads R] [--keys K] [--value-size B]
 *           [--duration S | --ops N] [--timeout S] [--preload] [--seed X]
 *           [--timeline S]
 *
 * --timeline S prints, every S seconds of the run, a line "loadgen timeline
 * t=... acks=N errors=N waiting=N ..." (replies and error replies in that
 * interval, requests outstanding at its end): what a failover looks like.
 *
 * Exit status: 0 when the run happened (errors are counted, not fatal), 1
 * when not a single operation succeeded or no connection could be made, 2 on
 * bad usage.
 */
#include <uv.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PORTS 16
#define MAX_CONNS 4096
#define MAX_REPLY (64u << 20)      /* a reply larger than this is a protocol error */
#define MAX_HTTP_HEAD (64u << 10)
#define MAX_DEPTH 8                /* RESP arrays nested deeper: protocol error */
#define REPORT_LIMIT 8             /* error messages printed in full */
#define CONNECT_GIVEUP_NS (10ULL * 1000000000ULL)

enum proto { P_RESP, P_ETCD };
enum op { OP_SET, OP_GET, OP_N };
static const char *op_name[OP_N] = { "set", "get" };

enum cstate { C_CONNECTING, C_IDLE, C_BUSY, C_CLOSING, C_WAIT_RECONNECT, C_DONE };
enum phase { PH_CONNECT, PH_PRELOAD, PH_RUN, PH_STOP };

struct conn {
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_write_t wreq;
	uv_timer_t timer;          /* request timeout, or the reconnect back-off */
	int id, ep;
	enum cstate st;
	bool ever_connected, write_pending, reply_ready, preload_done;
	char *rbuf;
	size_t rlen, rcap;
	char *wbuf;
	size_t wlen, wcap;
	uint64_t t_sent;
	enum op op;
	bool counted;              /* this request counts in the measured run */
	uint64_t rng;
	uint64_t preload_next;     /* next key this connection writes in the preload */
	unsigned backoff_ms;
	int fails_in_row;
};

struct samples {
	uint64_t *v;
	size_t n, cap;
	uint64_t errors, misses;
};

static struct {
	enum proto proto;
	struct sockaddr_in addr[MAX_PORTS];
	int port[MAX_PORTS];
	int nports;
	char host[64];
	int conns;
	unsigned writes, reads;
	uint64_t keys;
	size_t value_size;
	double duration;
	uint64_t max_ops;
	double timeout;
	bool preload;
	double timeline;           /* seconds between timeline lines; 0: none */
	uint64_t seed;
} cfg = {
	.proto = P_RESP, .nports = 0, .host = "127.0.0.1", .conns = 1, .writes = 100, .reads = 0,
	.keys = 1000, .value_size = 100, .duration = 5.0, .max_ops = 0, .timeout = 10.0,
	.preload = false, .seed = 1,
};

static uv_loop_t *loop;
static struct conn *conns;
static uv_timer_t deadline_timer, timeline_timer;
static uint64_t tl_acks, tl_errors;           /* since the last timeline line */
static uv_signal_t sigint_h, sigterm_h;
static enum phase phase = PH_CONNECT;
static int n_connected_once, n_preloaded, n_open_handles;
static uint64_t t_begin, t_start, t_end;      /* ns: program start, measured run start, end */
static uint64_t issued, finished;             /* measured run, for --ops */
static struct samples stats[OP_N];
static uint64_t conn_errors, timeouts, proto_errors;
static uint64_t last_write_ack, max_gap, gap_at;
static unsigned reports;
static char *value;                           /* the value written (value_size bytes) */
static char *value_b64;

/* ---- small helpers -------------------------------------------------------- */

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die("out of memory");
	return q;
}

/* the kinds of problem seen (the message without its connection), with counts */
#define MAX_KINDS 16
static struct {
	char text[120];
	uint64_t n;
} kinds[MAX_KINDS];
static int nkinds;
static uint64_t kinds_other;

static void count_kind(const char *msg)
{
	int skip = 0;
	unsigned id, port;
	/* "conn 3 (port 2379): what" -> "what" */
	if (sscanf(msg, "conn %u (port %u): %n", &id, &port, &skip) == 2 && skip > 0)
		msg += skip;
	char key[sizeof kinds[0].text];
	size_t n = strnlen(msg, sizeof key - 1);
	memcpy(key, msg, n);
	key[n] = '\0';
	for (int i = 0; i < nkinds; i++)
		if (strcmp(kinds[i].text, key) == 0) {
			kinds[i].n++;
			return;
		}
	if (nkinds == MAX_KINDS) {
		kinds_other++;
		return;
	}
	memcpy(kinds[nkinds].text, key, sizeof key);
	kinds[nkinds++].n = 1;
}

static void report(const char *fmt, ...)  /* a problem: counted by kind, the first few printed */
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	count_kind(msg);
	if (reports++ >= REPORT_LIMIT) {
		if (reports == REPORT_LIMIT + 1)
			fprintf(stderr, "loadgen: (further errors counted, not printed; a summary at the end)\n");
		return;
	}
	fprintf(stderr, "loadgen: %.3fs %s\n", (double)(uv_hrtime() - t_begin) / 1e9, msg);
}

static void note(const char *fmt, ...)  /* information: the first few only, while few problems were printed */
{
	static unsigned notes;
	if (reports >= REPORT_LIMIT || notes++ >= REPORT_LIMIT)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "loadgen: %.3fs ", (double)(uv_hrtime() - t_begin) / 1e9);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t rnd(uint64_t *s)  /* splitmix64 */
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void sample_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 65536;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double p)  /* nearest rank; v sorted */
{
	if (n == 0)
		return 0;
	size_t k = (size_t)(p * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1e6;
}

static size_t b64_encode(char *out, const unsigned char *in, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = t[v >> 6 & 63];
		out[o++] = t[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = t[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* ---- replies ------------------------------------------------------------- */

enum verdict { RV_OK, RV_MISS, RV_ERR };

struct reply {
	enum verdict v;
	char msg[160];             /* RV_ERR: what the server said */
};

/* a line ending in CRLF within [p, p+n): its length without CRLF, or -1 */
static long find_crlf(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		const char *r = memchr(p + i, '\r', n - 1 - i);
		if (!r)
			return -1;
		i = (size_t)(r - p);
		if (p[i + 1] == '\n')
			return (long)i;
	}
	return -1;
}

static bool parse_int(const char *p, size_t n, int64_t *out)  /* [-]digits, at most 18 */
{
	size_t i = 0;
	bool neg = false;
	if (n > 0 && p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == n || n - i > 18)
		return false;
	int64_t v = 0;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/*
 * One RESP value at p (n bytes available): the bytes it takes, 0 if it is not
 * all there yet, -1 if it is not RESP (err says why).  The top-level value's
 * kind is put in *r.
 */
static long resp_parse(const char *p, size_t n, int depth, struct reply *r, const char **err)
{
	if (n == 0)
		return 0;
	if (depth > MAX_DEPTH) {
		*err = "arrays nested too deep";
		return -1;
	}
	long l = find_crlf(p, n);
	if (l < 0) {
		if (n > 65536) {
			*err = "a line longer than 64 KiB";
			return -1;
		}
		return 0;
	}
	size_t line = (size_t)l, head = line + 2;
	int64_t len;
	switch (p[0]) {
	case '+':
		if (r)
			r->v = RV_OK;
		return (long)head;
	case '-':
		if (r) {
			r->v = RV_ERR;
			snprintf(r->msg, sizeof r->msg, "%.*s", (int)(line - 1 < 150 ? line - 1 : 150), p + 1);
		}
		return (long)head;
	case ':':
		if (!parse_int(p + 1, line - 1, &len)) {
			*err = "a bad integer";
			return -1;
		}
		if (r)
			r->v = RV_OK;
		return (long)head;
	case '$':
		if (!parse_int(p + 1, line - 1, &len) || len < -1 || len > (int64_t)MAX_REPLY) {
			*err = "a bad bulk length";
			return -1;
		}
		if (len == -1) {
			if (r)
				r->v = RV_MISS;
			return (long)head;
		}
		if (n < head + (size_t)len + 2)
			return 0;
		if (p[head + len] != '\r' || p[head + len + 1] != '\n') {
			*err = "a bulk string not ended by CRLF";
			return -1;
		}
		if (r)
			r->v = RV_OK;
		return (long)(head + (size_t)len + 2);
	case '*': {
		if (!parse_int(p + 1, line - 1, &len) || len < -1 || len > 1000000) {
			*err = "a bad array length";
			return -1;
		}
		if (r)
			r->v = len == -1 ? RV_MISS : RV_OK;
		size_t off = head;
		for (int64_t i = 0; i < len; i++) {
			long k = resp_parse(p + off, n - off, depth + 1, NULL, err);
			if (k <= 0)
				return k;
			off += (size_t)k;
		}
		return (long)off;
	}
	default:
		*err = "a reply that does not start with + - : $ or *";
		return -1;
	}
}

static bool hdr_is(const char *line, size_t n, const char *name, const char **val, size_t *vlen)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	size_t i = k + 1;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	size_t e = n;
	while (e > i && (line[e - 1] == ' ' || line[e - 1] == '\t'))
		e--;
	*val = line + i;
	*vlen = e - i;
	return true;
}

/*
 * One HTTP/1.1 response at p: bytes it takes, 0 if incomplete, -1 if it is
 * not one we can read.  The body is found with Content-Length or chunked
 * transfer encoding; *close is set when the server says it will close.
 */
static long http_parse(const char *p, size_t n, enum op op, struct reply *r, bool *close_after, const char **err)
{
	const char *end = NULL;
	size_t lim = n < MAX_HTTP_HEAD ? n : MAX_HTTP_HEAD;
	for (size_t i = 0; i + 3 < lim; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') {
			end = p + i;
			break;
		}
	if (!end) {
		if (n >= MAX_HTTP_HEAD) {
			*err = "response headers longer than 64 KiB";
			return -1;
		}
		return 0;
	}
	size_t hlen = (size_t)(end - p) + 4;
	long l0 = find_crlf(p, hlen);
	if (l0 < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') {
		*err = "not an HTTP/1.x status line";
		return -1;
	}
	int64_t status;
	if (!parse_int(p + 9, 3, &status)) {
		*err = "a bad HTTP status";
		return -1;
	}
	int64_t clen = -1;
	bool chunked = false;
	*close_after = p[7] == '0';
	size_t off = (size_t)l0 + 2;
	while (off < hlen - 2) {
		long l = find_crlf(p + off, hlen - off);
		if (l < 0)
			break;
		const char *v;
		size_t vl;
		if (hdr_is(p + off, (size_t)l, "Content-Length", &v, &vl)) {
			if (!parse_int(v, vl, &clen) || clen < 0 || clen > (int64_t)MAX_REPLY) {
				*err = "a bad Content-Length";
				return -1;
			}
		} else if (hdr_is(p + off, (size_t)l, "Transfer-Encoding", &v, &vl)) {
			chunked = vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0;
		} else if (hdr_is(p + off, (size_t)l, "Connection", &v, &vl)) {
			if (vl == 5 && strncasecmp(v, "close", 5) == 0)
				*close_after = true;
		}
		off += (size_t)l + 2;
	}
	const char *body = p + hlen;
	size_t blen, total;
	if (chunked) {
		/* walk the chunks; the body is not kept contiguous, only checked */
		size_t q = hlen;
		blen = 0;
		for (;;) {
			long l = find_crlf(p + q, n - q);
			if (l < 0) {
				if (n - q <= 1024)
					return 0;
				*err = "a bad chunk size line";
				return -1;
			}
			uint64_t sz = 0;
			long i = 0;
			for (; i < l && i < 16; i++) {
				char c = p[q + i];
				int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
				if (d < 0)
					break;
				sz = sz * 16 + (uint64_t)d;
			}
			if (i == 0 || sz > MAX_REPLY) {
				*err = "a bad chunk size";
				return -1;
			}
			q += (size_t)l + 2;
			if (sz == 0) {  /* trailers, then an empty line */
				for (;;) {
					long t = find_crlf(p + q, n - q);
					if (t < 0)
						return 0;
					q += (size_t)t + 2;
					if (t == 0)
						break;
				}
				total = q;
				break;
			}
			if (n - q < sz + 2)
				return 0;
			if (p[q + sz] != '\r' || p[q + sz + 1] != '\n') {
				*err = "a chunk not ended by CRLF";
				return -1;
			}
			if (blen == 0) {
				body = p + q;
				blen = sz;  /* the first chunk: enough to look at */
			}
			q += sz + 2;
		}
	} else if (clen >= 0) {
		if (n - hlen < (size_t)clen)
			return 0;
		blen = (size_t)clen;
		total = hlen + blen;
	} else if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
		blen = 0;
		total = hlen;
	} else {
		*err = "a response with neither Content-Length nor chunked encoding";
		return -1;
	}
	if (status != 200) {
		r->v = RV_ERR;
		snprintf(r->msg, sizeof r->msg, "HTTP %d: %.*s", (int)status, (int)(blen < 120 ? blen : 120), body);
		for (char *c = r->msg; *c; c++)
			if (*c == '\r' || *c == '\n')
				*c = ' ';
	} else if (op == OP_GET) {
		/* range: {"header":{...},"kvs":[...],"count":"1"}; no "kvs" when the key is missing */
		bool found = false;
		for (size_t i = 0; i + 5 <= blen; i++)
			if (memcmp(body + i, "\"kvs\"", 5) == 0) {
				found = true;
				break;
			}
		r->v = found ? RV_OK : RV_MISS;
	} else {
		r->v = RV_OK;
	}
	return (long)total;
}

/* ---- requests ------------------------------------------------------------ */

static void wput(struct conn *c, const char *s, size_t n)
{
	if (c->wlen + n > c->wcap) {
		while (c->wlen + n > c->wcap)
			c->wcap = c->wcap ? c->wcap * 2 : 1024;
		c->wbuf = xrealloc(c->wbuf, c->wcap);
	}
	memcpy(c->wbuf + c->wlen, s, n);
	c->wlen += n;
}

static void wprintf(struct conn *c, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof tmp)
		die("internal: request line too long");
	wput(c, tmp, (size_t)k);
}

static void build_request(struct conn *c, enum op op, uint64_t key)
{
	char k[32];
	int kl = snprintf(k, sizeof k, "key:%08" PRIu64, key);
	c->wlen = 0;
	if (cfg.proto == P_RESP) {
		if (op == OP_SET) {
			wprintf(c, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%zu\r\n", kl, k, cfg.value_size);
			wput(c, value, cfg.value_size);
			wput(c, "\r\n", 2);
		} else {
			wprintf(c, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", kl, k);
		}
		return;
	}
	char kb[48];
	b64_encode(kb, (const unsigned char *)k, (size_t)kl);
	size_t blen;
	if (op == OP_SET)
		blen = strlen("{\"key\":\"\",\"value\":\"\"}") + strlen(kb) + strlen(value_b64);
	else
		blen = strlen("{\"key\":\"\"}") + strlen(kb);
	wprintf(c, "POST /v3/kv/%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
		   "Content-Length: %zu\r\n\r\n", op == OP_SET ? "put" : "range", cfg.host, cfg.port[c->ep], blen);
	if (op == OP_SET) {
		wprintf(c, "{\"key\":\"%s\",\"value\":\"", kb);
		wput(c, value_b64, strlen(value_b64));
		wput(c, "\"}", 2);
	} else {
		wprintf(c, "{\"key\":\"%s\"}", kb);
	}
}

static void conn_drop(struct conn *c, const char *why, int uverr);
static void send_next(struct conn *c);
static void start_connect(struct conn *c);
static void begin_run(void);
static void stop_all(void);

static void on_timer_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;
	if (c->st != C_BUSY)
		return;
	if (c->counted)
		timeouts++;
	report("conn %d (port %d): no reply within %.1f s; dropping the connection", c->id, cfg.port[c->ep], cfg.timeout);
	conn_drop(c, NULL, 0);
}

static void on_write(uv_write_t *req, int status)
{
	struct conn *c = req->data;
	c->write_pending = false;
	if (status < 0) {
		if (status != UV_ECANCELED)
			conn_drop(c, "write failed", status);
		return;
	}
	if (c->reply_ready) {  /* the reply came before the write's callback */
		c->reply_ready = false;
		if (c->st == C_IDLE)
			send_next(c);
	}
}

static bool run_over(void)
{
	return phase == PH_STOP || (phase == PH_RUN && cfg.max_ops && issued >= cfg.max_ops);
}

static void send_next(struct conn *c)
{
	if (c->st != C_IDLE || c->write_pending)
		return;
	enum op op;
	uint64_t key;
	if (phase == PH_PRELOAD) {
		if (c->preload_next >= cfg.keys) {
			if (!c->preload_done) {
				c->preload_done = true;
				if (++n_preloaded == cfg.conns)
					begin_run();
			}
			return;
		}
		op = OP_SET;
		key = c->preload_next;
		c->counted = false;
	} else if (phase == PH_RUN) {
		if (run_over())
			return;
		uint64_t r = rnd(&c->rng);
		op = r % (cfg.writes + cfg.reads) < cfg.writes ? OP_SET : OP_GET;
		key = (r >> 20) % cfg.keys;
		c->counted = true;
		issued++;
	} else {
		return;
	}
	build_request(c, op, key);
	c->op = op;
	c->st = C_BUSY;
	c->t_sent = uv_hrtime();
	uv_timer_start(&c->timer, on_timer_timeout, (uint64_t)(cfg.timeout * 1000), 0);
	uv_buf_t b = uv_buf_init(c->wbuf, (unsigned)c->wlen);
	int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (w == (int)c->wlen)
		return;
	if (w < 0 && w != UV_EAGAIN) {
		conn_drop(c, "write failed", w);
		return;
	}
	if (w > 0) {
		b.base += w;
		b.len -= (unsigned)w;
	}
	c->write_pending = true;
	int e = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write);
	if (e < 0) {
		c->write_pending = false;
		conn_drop(c, "write failed", e);
	}
}

static void check_finished(void)
{
	if (phase == PH_RUN && cfg.max_ops && finished >= cfg.max_ops)
		stop_all();
}

static void got_reply(struct conn *c, const struct reply *r, bool then_close)
{
	uint64_t now = uv_hrtime();
	uv_timer_stop(&c->timer);
	c->st = C_IDLE;
	if (r->v == RV_ERR) {
		report("conn %d (port %d): %s error: %s", c->id, cfg.port[c->ep], op_name[c->op], r->msg);
		if (c->counted)
			stats[c->op].errors++;
		if (c->counted)
			tl_errors++;
		else
			c->preload_next += (uint64_t)cfg.conns;  /* the preload does not retry a refused write */
	} else if (c->counted) {
		sample_add(&stats[c->op], now - c->t_sent);
		tl_acks++;
		if (r->v == RV_MISS)
			stats[c->op].misses++;
		if (c->op == OP_SET) {
			if (now - last_write_ack > max_gap) {
				max_gap = now - last_write_ack;
				gap_at = last_write_ack;
			}
			last_write_ack = now;
		}
	} else {
		c->preload_next += (uint64_t)cfg.conns;
	}
	if (c->counted) {
		finished++;
		check_finished();
	}
	if (then_close) {  /* HTTP "Connection: close": not an error, but no keep-alive */
		note("conn %d (port %d): the server closes the connection after its reply (Connection: close)",
		     c->id, cfg.port[c->ep]);
		if (c->st == C_IDLE)
			conn_drop(c, NULL, 0);
		return;
	}
	if (c->write_pending)
		c->reply_ready = true;  /* send_next once the write's callback has run */
	else
		send_next(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;
	if (c->rcap - c->rlen < 16384) {
		c->rcap = c->rcap ? c->rcap * 2 : 65536;
		c->rbuf = xrealloc(c->rbuf, c->rcap);
	}
	*buf = uv_buf_init(c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	if (nread == 0)
		return;
	if (nread < 0) {
		if (c->st == C_BUSY)
			conn_drop(c, nread == UV_EOF ? "closed by the server with a request outstanding"
						     : "read failed with a request outstanding", nread == UV_EOF ? 0 : (int)nread);
		else
			conn_drop(c, nread == UV_EOF ? "closed by the server" : "read failed", nread == UV_EOF ? 0 : (int)nread);
		return;
	}
	c->rlen += (size_t)nread;
	if (c->st != C_BUSY) {
		proto_errors++;
		conn_drop(c, "the server sent bytes nobody asked for", 0);
		return;
	}
	struct reply r = { .v = RV_OK };
	const char *err = "?";
	bool close_after = false;
	long k = cfg.proto == P_RESP ? resp_parse(c->rbuf, c->rlen, 0, &r, &err)
				     : http_parse(c->rbuf, c->rlen, c->op, &r, &close_after, &err);
	if (k == 0) {  /* not all there yet */
		if (c->rlen > MAX_REPLY + MAX_HTTP_HEAD) {
			proto_errors++;
			conn_drop(c, "a reply larger than 64 MiB", 0);
		}
		return;
	}
	if (k < 0) {
		proto_errors++;
		char what[96];
		snprintf(what, sizeof what, "protocol error: %s", err);
		conn_drop(c, what, 0);
		return;
	}
	if ((size_t)k < c->rlen) {  /* one request outstanding: nothing may follow its reply */
		proto_errors++;
		conn_drop(c, "the server sent more than one reply to one request", 0);
		return;
	}
	c->rlen = 0;
	got_reply(c, &r, close_after);
}

static void on_reconnect_timer(uv_timer_t *t)
{
	struct conn *c = t->data;
	if (phase == PH_STOP)
		return;
	start_connect(c);
}

static void on_tcp_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	n_open_handles--;
	if (phase == PH_STOP) {
		c->st = C_DONE;
		return;
	}
	c->st = C_WAIT_RECONNECT;
	c->rlen = 0;
	c->write_pending = c->reply_ready = false;
	uv_timer_start(&c->timer, on_reconnect_timer, c->backoff_ms, 0);
	c->backoff_ms = c->backoff_ms < 200 ? c->backoff_ms * 2 : 200;
}

/* a connection lost (why: printed, or NULL when already reported): close it and, unless stopping, make it again */
static void conn_drop(struct conn *c, const char *why, int uverr)
{
	if (c->st == C_CLOSING || c->st == C_DONE || c->st == C_WAIT_RECONNECT)
		return;
	bool outstanding = c->st == C_BUSY;
	if (why) {
		if (phase != PH_STOP && (c->ever_connected || c->fails_in_row == 0))
			report("conn %d (port %d): %s%s%s", c->id, cfg.port[c->ep], why, uverr ? ": " : "",
			       uverr ? uv_strerror(uverr) : "");
		if (phase == PH_RUN)
			conn_errors++;
	}
	if (outstanding && c->counted && phase == PH_RUN)
		finished++;
	uv_timer_stop(&c->timer);
	c->st = C_CLOSING;
	/* the next connection goes to the next port (another member, for etcd) */
	c->ep = (c->ep + 1) % cfg.nports;
	uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
	check_finished();
}

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	if (status < 0) {
		if (status == UV_ECANCELED)
			return;
		if (phase == PH_CONNECT && uv_hrtime() - t_begin > CONNECT_GIVEUP_NS) {
			fprintf(stderr, "loadgen: cannot connect to %s port %d: %s\n", cfg.host, cfg.port[c->ep], uv_strerror(status));
			exit(1);
		}
		c->fails_in_row++;
		c->st = C_CONNECTING;  /* so conn_drop closes it */
		conn_drop(c, "connect failed", status);
		return;
	}
	if (c->ever_connected && phase != PH_STOP)
		note("conn %d: reconnected to port %d", c->id, cfg.port[c->ep]);
	c->fails_in_row = 0;
	c->backoff_ms = 10;
	uv_tcp_nodelay(&c->tcp, 1);
	int e = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (e < 0) {
		conn_drop(c, "read_start failed", e);
		return;
	}
	c->st = C_IDLE;
	if (!c->ever_connected) {
		c->ever_connected = true;
		if (++n_connected_once == cfg.conns) {
			if (cfg.preload) {
				phase = PH_PRELOAD;
				for (int i = 0; i < cfg.conns; i++)
					send_next(&conns[i]);
			} else {
				begin_run();
			}
		}
		return;
	}
	send_next(c);
}

static void start_connect(struct conn *c)
{
	int e = uv_tcp_init(loop, &c->tcp);
	if (e < 0)
		die("uv_tcp_init: %s", uv_strerror(e));
	n_open_handles++;
	c->tcp.data = c;
	c->creq.data = c;
	c->st = C_CONNECTING;
	e = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&cfg.addr[c->ep], on_connect);
	if (e < 0) {
		c->fails_in_row++;
		conn_drop(c, "connect failed", e);
	}
}

static void on_deadline(uv_timer_t *t)
{
	stop_all();
}

static void on_timeline(uv_timer_t *t)
{
	size_t busy = 0;
	for (int i = 0; i < cfg.conns; i++)
		busy += conns[i].st == C_BUSY;
	printf("loadgen timeline t=%.2f acks=%" PRIu64 " errors=%" PRIu64 " waiting=%zu conn_errors=%" PRIu64
	       " timeouts=%" PRIu64 "\n", (double)(uv_hrtime() - t_start) / 1e9, tl_acks, tl_errors, busy, conn_errors, timeouts);
	fflush(stdout);
	tl_acks = tl_errors = 0;
}

static void begin_run(void)
{
	phase = PH_RUN;
	t_start = uv_hrtime();
	last_write_ack = t_start;
	if (!cfg.max_ops)
		uv_timer_start(&deadline_timer, on_deadline, (uint64_t)(cfg.duration * 1000), 0);
	if (cfg.timeline > 0) {
		uint64_t ms = (uint64_t)(cfg.timeline * 1000);
		uv_timer_start(&timeline_timer, on_timeline, ms, ms);
	}
	for (int i = 0; i < cfg.conns; i++)
		send_next(&conns[i]);
}

static void on_signal(uv_signal_t *s, int signum)
{
	fprintf(stderr, "loadgen: stopped by signal %d\n", signum);
	stop_all();
}

static void stop_all(void)
{
	if (phase == PH_STOP)
		return;
	if (phase == PH_RUN)
		t_end = uv_hrtime();
	phase = PH_STOP;
	uv_timer_stop(&deadline_timer);
	uv_close((uv_handle_t *)&deadline_timer, NULL);
	uv_close((uv_handle_t *)&timeline_timer, NULL);
	uv_close((uv_handle_t *)&sigint_h, NULL);
	uv_close((uv_handle_t *)&sigterm_h, NULL);
	for (int i = 0; i < cfg.conns; i++) {
		struct conn *c = &conns[i];
		uv_timer_stop(&c->timer);
		uv_close((uv_handle_t *)&c->timer, NULL);
		if (c->st != C_CLOSING && c->st != C_WAIT_RECONNECT && c->st != C_DONE) {
			c->st = C_CLOSING;
			uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
		}
	}
}

/* ---- the command line ---------------------------------------------------- */

static void usage(const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		fputs("loadgen: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	fprintf(stderr,
		"usage: loadgen --proto resp|etcd --port P[,P...] [--host 127.0.0.1] [--conns N]\n"
		"               [--writes W --reads R] [--keys K] [--value-size B]\n"
		"               [--duration S | --ops N] [--timeout S] [--preload] [--seed X]\n"
		"               [--timeline S]\n"
		"  --writes/--reads  the op mix as weights (default 100 writes, 0 reads)\n"
		"  --port            several ports: connections are spread over them, and one that\n"
		"                    loses its server reconnects to the next\n"
		"  --preload         write every key once before the clock starts\n"
		"  --timeout S       a request unanswered for S seconds drops its connection (default 10)\n"
		"  --timeline S      every S seconds a line: replies, errors, requests waiting\n");
	exit(2);
}

static double num_arg(const char *name, const char *v, double lo, double hi)
{
	char *end;
	errno = 0;
	double d = v ? strtod(v, &end) : 0;
	if (!v || errno || end == v || *end || d < lo || d > hi)
		usage("%s takes a number from %g to %g, got '%s'", name, lo, hi, v ? v : "nothing");
	return d;
}

static void parse_ports(const char *v)
{
	if (!v)
		usage("--port takes a port or a comma-separated list");
	const char *p = v;
	while (*p) {
		if (cfg.nports == MAX_PORTS)
			usage("at most %d ports", MAX_PORTS);
		char *end;
		errno = 0;
		long port = strtol(p, &end, 10);
		if (errno || end == p || port < 1 || port > 65535 || (*end && *end != ','))
			usage("--port: '%s' is not a port list", v);
		cfg.port[cfg.nports++] = (int)port;
		p = *end ? end + 1 : end;
	}
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			usage(NULL);
		else if (strcmp(a, "--preload") == 0) {
			cfg.preload = true;
			continue;
		} else if (strcmp(a, "--proto") == 0) {
			if (v && strcmp(v, "resp") == 0)
				cfg.proto = P_RESP;
			else if (v && strcmp(v, "etcd") == 0)
				cfg.proto = P_ETCD;
			else
				usage("--proto is resp or etcd, got '%s'", v ? v : "nothing");
		} else if (strcmp(a, "--port") == 0)
			parse_ports(v);
		else if (strcmp(a, "--host") == 0) {
			if (!v || strlen(v) >= sizeof cfg.host)
				usage("--host takes an IPv4 address");
			snprintf(cfg.host, sizeof cfg.host, "%s", v);
		} else if (strcmp(a, "--conns") == 0)
			cfg.conns = (int)num_arg(a, v, 1, MAX_CONNS);
		else if (strcmp(a, "--writes") == 0)
			cfg.writes = (unsigned)num_arg(a, v, 0, 1000000);
		else if (strcmp(a, "--reads") == 0)
			cfg.reads = (unsigned)num_arg(a, v, 0, 1000000);
		else if (strcmp(a, "--keys") == 0)
			cfg.keys = (uint64_t)num_arg(a, v, 1, 1e8);
		else if (strcmp(a, "--value-size") == 0)
			cfg.value_size = (size_t)num_arg(a, v, 0, 1 << 20);
		else if (strcmp(a, "--timeline") == 0)
			cfg.timeline = num_arg(a, v, 0.01, 3600);
		else if (strcmp(a, "--duration") == 0)
			cfg.duration = num_arg(a, v, 0.01, 86400);
		else if (strcmp(a, "--ops") == 0)
			cfg.max_ops = (uint64_t)num_arg(a, v, 1, 1e12);
		else if (strcmp(a, "--timeout") == 0)
			cfg.timeout = num_arg(a, v, 0.001, 3600);
		else if (strcmp(a, "--seed") == 0)
			cfg.seed = (uint64_t)num_arg(a, v, 0, 1e15);
		else
			usage("unknown argument '%s'", a);
		i++;
	}
	if (cfg.nports == 0)
		usage("--port is required");
	if (cfg.writes + cfg.reads == 0)
		usage("--writes and --reads are both 0");
	for (int i = 0; i < cfg.nports; i++) {
		if (uv_ip4_addr(cfg.host, cfg.port[i], &cfg.addr[i]) != 0)
			usage("--host: '%s' is not an IPv4 address", cfg.host);
		/* this tool loads servers on this machine only */
		if ((ntohl(cfg.addr[i].sin_addr.s_addr) >> 24) != 127)
			usage("--host: %s is not a loopback address (127.0.0.0/8); loadgen targets this machine only", cfg.host);
	}

	value = xrealloc(NULL, cfg.value_size + 1);
	for (size_t i = 0; i < cfg.value_size; i++)
		value[i] = (char)('a' + i % 26);
	value[cfg.value_size] = '\0';
	value_b64 = xrealloc(NULL, (cfg.value_size + 2) / 3 * 4 + 1);
	b64_encode(value_b64, (const unsigned char *)value, cfg.value_size);

	loop = uv_default_loop();
	t_begin = uv_hrtime();
	uv_timer_init(loop, &deadline_timer);
	uv_timer_init(loop, &timeline_timer);
	uv_signal_init(loop, &sigint_h);
	uv_signal_init(loop, &sigterm_h);
	uv_signal_start(&sigint_h, on_signal, SIGINT);
	uv_signal_start(&sigterm_h, on_signal, SIGTERM);
	conns = calloc((size_t)cfg.conns, sizeof *conns);
	if (!conns)
		die("out of memory");
	for (int i = 0; i < cfg.conns; i++) {
		struct conn *c = &conns[i];
		c->id = i;
		c->ep = i % cfg.nports;
		c->rng = cfg.seed * 1000003ULL + (uint64_t)i;
		c->preload_next = (uint64_t)i;
		c->backoff_ms = 10;
		uv_timer_init(loop, &c->timer);
		c->timer.data = c;
		start_connect(c);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (uv_loop_close(loop) != 0)
		fprintf(stderr, "loadgen: (handles left open at exit)\n");

	if (t_start == 0) {
		fprintf(stderr, "loadgen: the run never started (connections or the preload did not complete)\n");
		return 1;
	}
	double secs = (double)(t_end - t_start) / 1e9;
	struct samples all = { 0 };
	for (int o = 0; o < OP_N; o++) {
		struct samples *s = &stats[o];
		for (size_t i = 0; i < s->n; i++)
			sample_add(&all, s->v[i]);
		all.errors += s->errors;
		all.misses += s->misses;
		if (s->n == 0 && s->errors == 0)
			continue;
		if (s->n)
			qsort(s->v, s->n, sizeof *s->v, cmp_u64);
		printf("loadgen op=%s ops=%zu ops_s=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%" PRIu64
		       " misses=%" PRIu64 "\n", op_name[o], s->n, (double)s->n / secs, pct_ms(s->v, s->n, 0.50),
		       pct_ms(s->v, s->n, 0.99), s->n ? (double)s->v[s->n - 1] / 1e6 : 0.0, s->errors, s->misses);
	}
	if (all.n)
		qsort(all.v, all.n, sizeof *all.v, cmp_u64);
	/* a gap still open at the end counts too */
	if (stats[OP_SET].n && t_end - last_write_ack > max_gap) {
		max_gap = t_end - last_write_ack;
		gap_at = last_write_ack;
	}
	printf("loadgen op=all ops=%zu ops_s=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%" PRIu64 " misses=%" PRIu64
	       " conn_errors=%" PRIu64 " timeouts=%" PRIu64 " protocol_errors=%" PRIu64
	       " max_write_gap_ms=%.1f gap_at_s=%.3f secs=%.2f conns=%d\n",
	       all.n, (double)all.n / secs, pct_ms(all.v, all.n, 0.50), pct_ms(all.v, all.n, 0.99),
	       all.n ? (double)all.v[all.n - 1] / 1e6 : 0.0, all.errors, all.misses, conn_errors, timeouts, proto_errors,
	       stats[OP_SET].n ? (double)max_gap / 1e6 : 0.0, stats[OP_SET].n ? (double)(gap_at - t_start) / 1e9 : 0.0,
	       secs, cfg.conns);
	for (int i = 0; i < nkinds; i++)
		fprintf(stderr, "loadgen: problems: %" PRIu64 " x %s\n", kinds[i].n, kinds[i].text);
	if (kinds_other)
		fprintf(stderr, "loadgen: problems: %" PRIu64 " x (of other kinds)\n", kinds_other);
	for (int o = 0; o < OP_N; o++)
		free(stats[o].v);
	free(all.v);
	for (int i = 0; i < cfg.conns; i++) {
		free(conns[i].rbuf);
		free(conns[i].wbuf);
	}
	free(conns);
	free(value);
	free(value_b64);
	return all.n ? 0 : 1;
}

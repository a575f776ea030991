/*
 * etcd_http.c — etcd's v3 HTTP/JSON gateway, as the hub speaks it.  See
 * etcd_http.h.
 *
 * What etcd 3.4.23 really sends (checked against a running member):
 * grpc-gateway's proto3 JSON, so 64-bit numbers are decimal strings and a
 * field holding its default (0, false, "", an empty list) is left out — no
 * "kvs" for a missing key, no "value" for an empty one, no "succeeded" for a
 * failed txn, no "deleted" when nothing was, no "leader" when there is
 * none.  A success is 200 with a Content-Length; an error is 4xx/5xx with
 * {"error": "...", "message": "...", "code": N}, sent chunked with a gRPC
 * trailer after the last chunk.  So both framings are read here, trailers
 * included, and every field is looked up as "absent means zero".
 *
 * The exchange owns one TCP handle and one timer, both inside struct
 * etcd_call, which is freed in the last close callback and nowhere else:
 * a connect or write cancelled by the close still finds it alive.  It never
 * calls back twice — `done` is set before the callback runs, and every later
 * event looks at it first — and it never blocks.
 */
#include "etcd_http.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define ANSWER_MAX (16u << 20)           /* the largest response body taken */
#define HEAD_MAX (64u << 10)             /* status line and headers */
#define CHUNK_LINE_MAX 1024              /* a chunk-size or trailer line */
#define READ_SIZE (64u << 10)            /* room offered to each read */
/* the buffer never needs more: headers, the body, one partial chunk line,
 * one read, a NUL */
#define BUF_MAX ((size_t)HEAD_MAX + ANSWER_MAX + CHUNK_LINE_MAX + READ_SIZE + 1)

/* ---- base64 (RFC 4648, standard alphabet, padded) ----------------------- */

static const char b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* n bytes of src into dst (b64_len(n) characters, not NUL-terminated). */
static void b64_encode(const uint8_t *src, size_t n, char *dst)
{
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
		*dst++ = b64_digits[v >> 18];
		*dst++ = b64_digits[v >> 12 & 63];
		*dst++ = b64_digits[v >> 6 & 63];
		*dst++ = b64_digits[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)src[i] << 16;
		*dst++ = b64_digits[v >> 18];
		*dst++ = b64_digits[v >> 12 & 63];
		*dst++ = '=';
		*dst++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
		*dst++ = b64_digits[v >> 18];
		*dst++ = b64_digits[v >> 12 & 63];
		*dst++ = b64_digits[v >> 6 & 63];
		*dst++ = '=';
	}
}

static int b64_digit(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/*
 * src[0..n) decoded into *out (malloc'd, NUL-terminated, *outlen bytes).
 * Only what an encoder makes is taken: whole quads, '=' only as the last
 * one or two characters, and no stray bits under the padding.  -1 if it is
 * not that (or out of memory, *oom set).
 */
static int b64_decode(const char *src, size_t n, uint8_t **out, size_t *outlen, bool *oom)
{
	if (n % 4)
		return -1;
	size_t pad = 0;
	if (n && src[n - 1] == '=')
		pad = n >= 2 && src[n - 2] == '=' ? 2 : 1;
	size_t len = n / 4 * 3 - pad, o = 0;
	uint8_t *b = malloc(len + 1);
	if (!b) {
		*oom = true;
		return -1;
	}
	uint32_t v = 0;
	for (size_t i = 0; i < n; i += 4) {
		v = 0;
		for (size_t k = 0; k < 4; k++) {
			int d = 0;
			if (i + k < n - pad && (d = b64_digit(src[i + k])) < 0)
				goto bad;
			v = v << 6 | (uint32_t)d;
		}
		/* len accounts for the padding, so only the last quad is cut short */
		b[o++] = (uint8_t)(v >> 16);
		if (o < len)
			b[o++] = (uint8_t)(v >> 8);
		if (o < len)
			b[o++] = (uint8_t)v;
	}
	if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
		goto bad;
	b[len] = '\0';
	*out = b;
	*outlen = len;
	return 0;
bad:
	free(b);
	return -1;
}

/* ---- request bodies ----------------------------------------------------- */

/* A string builder sized once, up front: base64 needs no JSON escaping, so
 * every byte of the body is known before it is written. */
struct sb {
	char *p;
	size_t n;
};

static void sb_lit(struct sb *s, const char *lit)
{
	size_t l = strlen(lit);
	memcpy(s->p + s->n, lit, l);
	s->n += l;
}

static void sb_b64(struct sb *s, const uint8_t *src, size_t n)
{
	b64_encode(src, n, s->p + s->n);
	s->n += b64_len(n);
}

static void sb_key(struct sb *s, const char *before, const uint8_t *key, uint32_t len, const char *after)
{
	sb_lit(s, before);
	sb_b64(s, key, len);
	sb_lit(s, after);
}

/* A write with a marker (etcd_request.marker): one txn.
 *   compare  version(marker) == seq - 1  [vput: and version(key) == v]
 *   success  the write, and a put of the marker (del: a nested txn that
 *            deletes the key if it is there and puts "1" in the marker,
 *            else puts "0")
 *   failure  range(marker), range(key): an earlier attempt, or the version */
static void build_once(struct sb *s, const struct etcd_request *req, const char **path)
{
	char num[32];
	const uint8_t *m = req->marker;
	uint32_t ml = req->marker_len;
	*path = "/v3/kv/txn";
	snprintf(num, sizeof num, "%" PRIu64, req->seq ? req->seq - 1 : 0);
	sb_key(s, "{\"compare\":[{\"result\":\"EQUAL\",\"target\":\"VERSION\",\"key\":\"", m, ml, "\",\"version\":\"");
	sb_lit(s, num);
	sb_lit(s, "\"}");
	if (req->op == ETCD_VPUT) {
		snprintf(num, sizeof num, "%" PRIu64, req->version);
		sb_key(s, ",{\"result\":\"EQUAL\",\"target\":\"VERSION\",\"key\":\"", req->key, req->key_len,
		       "\",\"version\":\"");
		sb_lit(s, num);
		sb_lit(s, "\"}");
	}
	sb_lit(s, "],\"success\":[");
	if (req->op == ETCD_DEL) {
		sb_key(s, "{\"request_txn\":{\"compare\":[{\"result\":\"GREATER\",\"target\":\"VERSION\",\"key\":\"",
		       req->key, req->key_len, "\",\"version\":\"0\"}],");
		sb_key(s, "\"success\":[{\"request_delete_range\":{\"key\":\"", req->key, req->key_len, "\"}},");
		sb_key(s, "{\"request_put\":{\"key\":\"", m, ml, "\",\"value\":\"MQ==\"}}],");   /* "1" */
		sb_key(s, "\"failure\":[{\"request_put\":{\"key\":\"", m, ml, "\",\"value\":\"MA==\"}}]}}");   /* "0" */
	} else {
		sb_key(s, "{\"request_put\":{\"key\":\"", req->key, req->key_len, "\",\"value\":\"");
		sb_b64(s, req->value, req->value_len);
		sb_key(s, "\"}},{\"request_put\":{\"key\":\"", m, ml, "\"}}");
	}
	sb_key(s, "],\"failure\":[{\"request_range\":{\"key\":\"", m, ml, "\"}},");
	sb_key(s, "{\"request_range\":{\"key\":\"", req->key, req->key_len, "\"}}]}");
}

int etcd_build(const struct etcd_request *req, const char **path, char **body)
{
	size_t k64 = b64_len(req->key_len), v64 = b64_len(req->value_len);
	size_t m64 = req->marker ? b64_len(req->marker_len) : 0;
	/* the longest fixed text (the txns', with 20-digit versions) is under
	 * 1024 bytes */
	size_t cap = 1024 + 4 * k64 + v64 + 5 * m64;
	struct sb s = {malloc(cap), 0};
	char num[32];
	if (!s.p)
		return -1;
	if (req->marker && req->op != ETCD_GET) {
		build_once(&s, req, path);
		goto out;
	}
	switch (req->op) {
	case ETCD_GET:
	case ETCD_DEL:
		*path = req->op == ETCD_GET ? "/v3/kv/range" : "/v3/kv/deleterange";
		sb_lit(&s, "{\"key\":\"");
		sb_b64(&s, req->key, req->key_len);
		/* serializable: the member answers from its own state, no
		 * ReadIndex round (possibly stale: the CAP lesson's weak read) */
		sb_lit(&s, req->op == ETCD_GET && req->serializable ? "\",\"serializable\":true}" : "\"}");
		break;
	case ETCD_PUT:
		*path = "/v3/kv/put";
		sb_lit(&s, "{\"key\":\"");
		sb_b64(&s, req->key, req->key_len);
		sb_lit(&s, "\",\"value\":\"");
		sb_b64(&s, req->value, req->value_len);
		sb_lit(&s, "\"}");
		break;
	case ETCD_VPUT:
		/*
		 * Compare, then put or read the key back, in one txn.  "EQUAL" is
		 * proto3's default and version 0 its zero, so etcd would take
		 * both left out; they are spelt out so the body reads as what it
		 * asks ("0" on a missing key succeeds, as etcd 3.4.23 confirms).
		 */
		*path = "/v3/kv/txn";
		snprintf(num, sizeof num, "%" PRIu64, req->version);
		sb_lit(&s, "{\"compare\":[{\"result\":\"EQUAL\",\"target\":\"VERSION\",\"key\":\"");
		sb_b64(&s, req->key, req->key_len);
		sb_lit(&s, "\",\"version\":\"");
		sb_lit(&s, num);
		sb_lit(&s, "\"}],\"success\":[{\"request_put\":{\"key\":\"");
		sb_b64(&s, req->key, req->key_len);
		sb_lit(&s, "\",\"value\":\"");
		sb_b64(&s, req->value, req->value_len);
		sb_lit(&s, "\"}}],\"failure\":[{\"request_range\":{\"key\":\"");
		sb_b64(&s, req->key, req->key_len);
		sb_lit(&s, "\"}}]}");
		break;
	}
out:
	assert(s.n < cap);
	s.p[s.n] = '\0';
	*body = s.p;
	return 0;
}

/* ---- response bodies ---------------------------------------------------- */

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A decimal of 1 to 20 digits that fits 64 bits. */
static bool parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

/* obj.name as a uint64: a decimal string as etcd sends it, or a plain
 * non-negative integer (proto3 JSON allows both); absent or null is 0. */
static int get_u64(json_t *obj, const char *where, const char *name, uint64_t *v, char *err,
		   size_t errlen)
{
	json_t *j = json_object_get(obj, name);
	*v = 0;
	if (!j || json_is_null(j))
		return 0;
	if (json_is_string(j) && parse_u64(json_string_value(j), json_string_length(j), v))
		return 0;
	if (json_is_integer(j) && json_integer_value(j) >= 0) {
		*v = (uint64_t)json_integer_value(j);
		return 0;
	}
	return bad(err, errlen, "etcd answer: %s%s is not a 64-bit number", where, name);
}

/* obj.name, which must be an object or an array (as type says) if it is
 * there.  *out NULL if it is not. */
static int get_kind(json_t *obj, const char *where, const char *name, json_type type,
		    json_t **out, char *err, size_t errlen)
{
	json_t *j = json_object_get(obj, name);
	*out = NULL;
	if (!j || json_is_null(j))
		return 0;
	if (json_typeof(j) != type)
		return bad(err, errlen, "etcd answer: %s%s is not an %s", where, name,
			   type == JSON_OBJECT ? "object" : "array");
	*out = j;
	return 0;
}

/* The words of an error answer: etcd's "error" ("etcdserver: no leader"),
 * else its "message", else the status and the first line of what came. */
static void error_words(int status, const char *body, size_t len, char *err, size_t errlen)
{
	static const char *const names[] = {"error", "message"};
	json_t *root = len ? json_loadb(body, len, 0, NULL) : NULL;
	for (size_t i = 0; i < 2; i++) {
		json_t *s = json_object_get(root, names[i]);
		if (json_is_string(s) && json_string_length(s) > 0) {
			snprintf(err, errlen, "%s", json_string_value(s));
			json_decref(root);
			return;
		}
	}
	json_decref(root);
	char line[101];
	size_t n = 0;
	for (; n < len && n + 1 < sizeof line && body[n] != '\r' && body[n] != '\n'; n++)
		line[n] = body[n] >= 0x20 && body[n] < 0x7f ? body[n] : '?';
	line[n] = '\0';
	snprintf(err, errlen, "HTTP %d%s%s", status, n ? ": " : "", line);
}

static json_t *load_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je);
	if (!root) {
		bad(err, errlen, "etcd answer: not JSON (%s at offset %d)", je.text, je.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		bad(err, errlen, "etcd answer: not a JSON object");
		return NULL;
	}
	return root;
}

/*
 * The first entry of a range answer's "kvs" (absent: the key is missing).
 * It must be about the key asked for; its value is taken if want_value.
 */
static int read_kv(json_t *rr, const char *where, const uint8_t *want_key, uint32_t want_len, bool want_value,
		   struct etcd_reply *out)
{
	char w[48];
	json_t *kvs, *kv;
	uint8_t *key = NULL;
	size_t key_len = 0;
	bool oom = false;
	if (get_kind(rr, where, "kvs", JSON_ARRAY, &kvs, out->err, sizeof out->err) < 0)
		return -1;
	if (!kvs || json_array_size(kvs) == 0)
		return 0;
	snprintf(w, sizeof w, "%skvs[0].", where);
	kv = json_array_get(kvs, 0);
	if (!json_is_object(kv))
		return bad(out->err, sizeof out->err, "etcd answer: %skvs[0] is not an object", where);
	json_t *k = json_object_get(kv, "key");
	if (!json_is_string(k) ||
	    b64_decode(json_string_value(k), json_string_length(k), &key, &key_len, &oom) < 0) {
		if (oom)
			return bad(out->err, sizeof out->err, "out of memory");
		return bad(out->err, sizeof out->err, "etcd answer: %skey is not a base64 string", w);
	}
	bool same = key_len == want_len && (key_len == 0 || memcmp(key, want_key, key_len) == 0);
	free(key);
	if (!same)
		return bad(out->err, sizeof out->err, "etcd answer: %skey is not the key asked for", w);
	if (get_u64(kv, w, "version", &out->version, out->err, sizeof out->err) < 0)
		return -1;
	out->found = true;
	if (!want_value)
		return 0;
	json_t *v = json_object_get(kv, "value");
	size_t vlen = 0;
	if (v && !json_is_string(v))
		return bad(out->err, sizeof out->err, "etcd answer: %svalue is not a string", w);
	/* an empty value is left out of the answer altogether */
	if (b64_decode(v ? json_string_value(v) : "", v ? json_string_length(v) : 0, &out->value,
		       &vlen, &oom) < 0) {
		if (oom)
			return bad(out->err, sizeof out->err, "out of memory");
		return bad(out->err, sizeof out->err, "etcd answer: %svalue is not base64", w);
	}
	if (vlen > UINT32_MAX) {
		free(out->value);
		out->value = NULL;
		return bad(out->err, sizeof out->err, "etcd answer: %svalue is too long", w);
	}
	out->value_len = (uint32_t)vlen;
	return 0;
}

static int parse_txn(json_t *root, const struct etcd_request *req, struct etcd_reply *out)
{
	json_t *ok = json_object_get(root, "succeeded");
	json_t *rs, *rr;
	if (ok && !json_is_boolean(ok))
		return bad(out->err, sizeof out->err, "etcd answer: succeeded is not a boolean");
	if (json_is_true(ok)) {
		out->outcome = ETCD_OK;
		return 0;
	}
	/* false is the default, so a failed compare says nothing of it: what
	 * it says is the failure branch's range */
	out->outcome = ETCD_FAILED_COMPARE;
	if (get_kind(root, "", "responses", JSON_ARRAY, &rs, out->err, sizeof out->err) < 0)
		return -1;
	if (!rs || json_array_size(rs) != 1)
		return bad(out->err, sizeof out->err, "etcd answer: a failed txn without its one response");
	if (!json_is_object(json_array_get(rs, 0)) ||
	    get_kind(json_array_get(rs, 0), "responses[0].", "response_range", JSON_OBJECT, &rr,
		     out->err, sizeof out->err) < 0)
		return bad(out->err, sizeof out->err, "etcd answer: responses[0] is not a range response");
	if (!rr)
		return bad(out->err, sizeof out->err, "etcd answer: a failed txn without its range");
	return read_kv(rr, "responses[0].response_range.", req->key, req->key_len, false, out);
}

/* responses[i], which must be an object holding `kind` (an object). */
static json_t *response(json_t *rs, size_t i, const char *kind, struct etcd_reply *out)
{
	json_t *r = json_array_get(rs, i), *x = NULL;
	char w[32];
	snprintf(w, sizeof w, "responses[%zu].", i);
	if (!json_is_object(r) || get_kind(r, w, kind, JSON_OBJECT, &x, out->err, sizeof out->err) < 0 || !x) {
		if (!out->err[0])
			bad(out->err, sizeof out->err, "etcd answer: %s is not a %s", w, kind);
		return NULL;
	}
	return x;
}

/* The answer to a write with a marker (build_once). */
static int parse_once(json_t *root, const struct etcd_request *req, struct etcd_reply *out)
{
	json_t *ok = json_object_get(root, "succeeded");
	json_t *rs, *x;
	if (ok && !json_is_boolean(ok))
		return bad(out->err, sizeof out->err, "etcd answer: succeeded is not a boolean");
	if (get_kind(root, "", "responses", JSON_ARRAY, &rs, out->err, sizeof out->err) < 0)
		return -1;
	size_t want = json_is_true(ok) ? (req->op == ETCD_DEL ? 1 : 2) : 2;
	if (!rs || json_array_size(rs) != want)
		return bad(out->err, sizeof out->err, "etcd answer: a txn with %zu responses, not %zu",
			   rs ? json_array_size(rs) : 0, want);
	if (json_is_true(ok)) {
		out->outcome = ETCD_OK;
		if (req->op == ETCD_DEL) {
			/* the nested txn: it deleted the key if it was there */
			if (!(x = response(rs, 0, "response_txn", out)))
				return -1;
			json_t *inner = json_object_get(x, "succeeded");
			if (inner && !json_is_boolean(inner))
				return bad(out->err, sizeof out->err, "etcd answer: the inner txn's succeeded is not a boolean");
			out->deleted = json_is_true(inner) ? 1 : 0;
		}
		return 0;
	}
	/* the marker first: did an earlier attempt take effect? */
	struct etcd_reply mk;
	memset(&mk, 0, sizeof mk);
	if (!(x = response(rs, 0, "response_range", out)))
		return -1;
	if (read_kv(x, "responses[0].response_range.", req->marker, req->marker_len, req->op == ETCD_DEL, &mk) < 0) {
		memcpy(out->err, mk.err, sizeof out->err);
		etcd_reply_free(&mk);
		return -1;
	}
	bool done = mk.version >= req->seq;
	bool removed = mk.value && mk.value_len == 1 && mk.value[0] == '1';
	etcd_reply_free(&mk);
	if (done) {
		out->outcome = ETCD_ALREADY;
		out->deleted = req->op == ETCD_DEL && removed ? 1 : 0;
		return 0;
	}
	if (req->op != ETCD_VPUT)
		return bad(out->err, sizeof out->err, "etcd answer: the marker is behind this operation (version %" PRIu64
			   ", operation %" PRIu64 "): another clerk uses it", mk.version, req->seq);
	/* a vput whose version did not match: what the key holds */
	out->outcome = ETCD_FAILED_COMPARE;
	if (!(x = response(rs, 1, "response_range", out)))
		return -1;
	return read_kv(x, "responses[1].response_range.", req->key, req->key_len, false, out);
}

void etcd_reply_free(struct etcd_reply *r)
{
	free(r->value);
	r->value = NULL;
	r->value_len = 0;
}

int etcd_parse(const struct etcd_request *req, int http_status, const char *body, size_t len,
	       struct etcd_reply *out)
{
	json_t *root, *header;
	int rc = -1;
	memset(out, 0, sizeof *out);
	if (http_status <= 0)
		return bad(out->err, sizeof out->err, "no answer from etcd");
	if (http_status != 200) {
		out->outcome = ETCD_ERROR;
		error_words(http_status, body, len, out->err, sizeof out->err);
		return 0;
	}
	root = load_object(body, len, out->err, sizeof out->err);
	if (!root)
		return -1;
	if (get_kind(root, "", "header", JSON_OBJECT, &header, out->err, sizeof out->err) < 0 ||
	    get_u64(header, "header.", "revision", &out->revision, out->err, sizeof out->err) < 0)
		goto done;
	out->outcome = ETCD_OK;
	if (req->marker && req->op != ETCD_GET) {
		rc = parse_once(root, req, out);
		goto done;
	}
	switch (req->op) {
	case ETCD_GET:
		rc = read_kv(root, "", req->key, req->key_len, true, out);
		break;
	case ETCD_PUT:
		rc = 0;
		break;
	case ETCD_DEL:
		rc = get_u64(root, "", "deleted", &out->deleted, out->err, sizeof out->err);
		break;
	case ETCD_VPUT:
		rc = parse_txn(root, req, out);
		break;
	}
done:
	json_decref(root);
	if (rc < 0) {
		/* nothing half-read is handed back */
		char why[sizeof out->err];
		memcpy(why, out->err, sizeof why);
		etcd_reply_free(out);
		memset(out, 0, sizeof *out);
		memcpy(out->err, why, sizeof why);
	}
	return rc;
}

static int hex_digit(char ch);

/* A member id as /debug/vars writes it: hex text ("0" for none). */
static int get_hex(json_t *obj, const char *name, uint64_t *v, char *err, size_t errlen)
{
	json_t *j = json_object_get(obj, name);
	*v = 0;
	if (!j || json_is_null(j))
		return 0;
	const char *t = json_is_string(j) ? json_string_value(j) : NULL;
	size_t n = t ? json_string_length(j) : 0;
	if (!t || n == 0 || n > 16)
		return bad(err, errlen, "etcd raft.status: %s is not a member id", name);
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(t[i]);
		if (d < 0)
			return bad(err, errlen, "etcd raft.status: %s is not a member id", name);
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return 0;
}

int etcd_parse_raft(int http_status, const char *body, size_t len, struct etcd_raft *out, char *err,
		    size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (errlen)
		err[0] = 0;
	if (http_status <= 0)
		return bad(err, errlen, "no answer from etcd");
	if (http_status != 200) {
		error_words(http_status, body, len, err, errlen);
		return -1;
	}
	json_t *root = load_object(body, len, err, errlen);
	if (!root)
		return -1;
	int rc = -1;
	json_t *st, *progress, *state;
	if (get_kind(root, "", "raft.status", JSON_OBJECT, &st, err, errlen) < 0)
		goto done;
	if (!st) {
		bad(err, errlen, "etcd /debug/vars has no raft.status");
		goto done;
	}
	if (get_hex(st, "id", &out->id, err, errlen) < 0 || get_hex(st, "vote", &out->vote, err, errlen) < 0 ||
	    get_hex(st, "lead", &out->lead, err, errlen) < 0 ||
	    get_u64(st, "raft.status.", "term", &out->term, err, errlen) < 0 ||
	    get_u64(st, "raft.status.", "commit", &out->commit, err, errlen) < 0 ||
	    get_u64(st, "raft.status.", "applied", &out->applied, err, errlen) < 0 ||
	    get_kind(st, "raft.status.", "progress", JSON_OBJECT, &progress, err, errlen) < 0)
		goto done;
	state = json_object_get(st, "raftState");
	if (!json_is_string(state)) {
		bad(err, errlen, "etcd raft.status: raftState is not a string");
		goto done;
	}
	snprintf(out->state, sizeof out->state, "%s", json_string_value(state));
	/* a leader's view of each follower: match and next index */
	const char *key;
	json_t *pr;
	json_object_foreach(progress, key, pr) {
		if (out->n_progress >= ETCD_MAX_PROGRESS)
			break;
		struct etcd_progress *p = &out->progress[out->n_progress];
		json_t *wrap = json_pack("{s:s}", "id", key);
		int bad_id = !wrap || get_hex(wrap, "id", &p->id, err, errlen) < 0;
		json_decref(wrap);
		if (bad_id || !json_is_object(pr) ||
		    get_u64(pr, "progress.", "match", &p->match, err, errlen) < 0 ||
		    get_u64(pr, "progress.", "next", &p->next, err, errlen) < 0) {
			if (!err[0])
				bad(err, errlen, "etcd raft.status: a bad progress entry");
			goto done;
		}
		out->n_progress++;
	}
	rc = 0;
done:
	json_decref(root);
	if (rc < 0)
		memset(out, 0, sizeof *out);
	return rc;
}

/* ---- the exchange ------------------------------------------------------- */

enum framing {
	BODY_LENGTH,                         /* Content-Length */
	BODY_CHUNKED,                        /* Transfer-Encoding: chunked */
	BODY_CLOSE,                          /* neither: the body ends when the server closes */
};

enum chunk_state {
	CH_SIZE,                             /* at a chunk-size line */
	CH_DATA,                             /* inside a chunk's data (chunk_left to go) */
	CH_DATA_END,                         /* at the CRLF after a chunk's data */
	CH_TRAILER,                          /* after the last chunk: trailer lines, then an empty one */
};

struct etcd_call {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	uv_write_t write;
	etcd_call_cb cb;
	void *ud;
	uint64_t timeout_ms;
	int handles;                         /* not yet closed; freed when it reaches 0 */
	bool done;                           /* answered or cancelled: nothing more happens */
	bool oom;                            /* the read buffer could not grow */
	char start_err[64];                  /* the connect failed at once; told from the timer */
	char *req;                           /* the request, until its write completes */
	size_t req_len;

	char *buf;                           /* the answer as read (chunked: decoded in place) */
	size_t len, cap;
	size_t scanned;                      /* bytes searched for the end of the headers */
	size_t head;                         /* length of status line and headers; 0: not seen */
	int status;
	enum framing framing;
	size_t clen;                         /* BODY_LENGTH */
	enum chunk_state cstate;             /* BODY_CHUNKED: */
	size_t rd, wr;                       /* next raw byte, end of the decoded body (wr <= rd) */
	uint64_t chunk_left;
};

static void on_closed(uv_handle_t *h)
{
	struct etcd_call *c = h->data;
	if (--c->handles > 0)
		return;
	free(c->req);
	free(c->buf);
	free(c);
}

/* Close both handles.  c stays alive until their callbacks, so the body
 * handed to cb and any connect or write libuv cancels still find it. */
static void close_handles(struct etcd_call *c)
{
	uv_close((uv_handle_t *)&c->tcp, on_closed);
	uv_close((uv_handle_t *)&c->timer, on_closed);
}

static void finish(struct etcd_call *c, int status, char *body, size_t len, const char *err)
{
	if (c->done)
		return;
	c->done = true;
	close_handles(c);
	if (body)
		body[len] = '\0';
	c->cb(c, status, body ? body : "", len, err, c->ud);
}

static void fail(struct etcd_call *c, const char *err)
{
	finish(c, 0, NULL, 0, err);
}

static bool header_is(const char *line, size_t n, const char *name, const char **val, size_t *vlen)
{
	size_t k = strlen(name), i, e;
	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	for (i = k + 1; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (e = n; e > i && (line[e - 1] == ' ' || line[e - 1] == '\t'); e--)
		;
	*val = line + i;
	*vlen = e - i;
	return true;
}

/* Status line and headers, once they are all there.  0 (c->head still 0
 * if they are not), or -1 with *why. */
static int read_head(struct etcd_call *c, const char **why)
{
	size_t from = c->scanned >= 3 ? c->scanned - 3 : 0;
	const char *end = memmem(c->buf + from, c->len - from, "\r\n\r\n", 4);
	c->scanned = c->len;
	if (!end) {
		if (c->len > HEAD_MAX) {
			*why = "malformed HTTP answer: headers longer than 64 KiB";
			return -1;
		}
		return 0;
	}
	size_t head = (size_t)(end - c->buf) + 4;
	const char *p = c->buf;
	const char *eol = memmem(p, head, "\r\n", 2);
	size_t l0 = (size_t)(eol - p);
	uint64_t status;
	/* "HTTP/1.1 200 OK" (the reason may be empty, even absent) */
	if (l0 < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || !parse_u64(p + 9, 3, &status) ||
	    status < 100 || (l0 > 12 && p[12] != ' ')) {
		*why = "malformed HTTP answer: not an HTTP/1.x status line";
		return -1;
	}
	c->status = (int)status;
	c->framing = BODY_CLOSE;
	bool have_len = false;
	for (size_t off = l0 + 2; off + 2 < head;) {
		const char *line = p + off, *v;
		size_t n = (size_t)((const char *)memmem(line, head - off, "\r\n", 2) - line), vl;
		uint64_t x;
		if (header_is(line, n, "Transfer-Encoding", &v, &vl)) {
			if (vl < 7 || strncasecmp(v + vl - 7, "chunked", 7) != 0) {
				*why = "malformed HTTP answer: a transfer encoding other than chunked";
				return -1;
			}
			c->framing = BODY_CHUNKED;
		} else if (header_is(line, n, "Content-Length", &v, &vl)) {
			if (!parse_u64(v, vl, &x) || (have_len && x != c->clen)) {
				*why = "malformed HTTP answer: a bad Content-Length";
				return -1;
			}
			if (x > ANSWER_MAX) {
				*why = "answer too large (over 16 MiB)";
				return -1;
			}
			have_len = true;
			c->clen = (size_t)x;
		}
		off += n + 2;
	}
	/* chunked wins over a Content-Length (RFC 9112, 6.3) */
	if (have_len && c->framing != BODY_CHUNKED)
		c->framing = BODY_LENGTH;
	c->head = head;
	c->rd = c->wr = head;
	return 0;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Decode what has come of a chunked body, in place: chunk data moves down
 * to c->wr, which never passes c->rd, and the raw bytes not yet understood
 * then move down behind it, so the buffer holds the body and little more.
 * 1: the body is complete (buf[head..wr)), 0: more is needed, -1: *why.
 */
static int dechunk(struct etcd_call *c, const char **why)
{
	for (;;) {
		char *p = c->buf + c->rd;
		size_t avail = c->len - c->rd;
		if (c->cstate == CH_DATA) {
			size_t n = avail < c->chunk_left ? avail : (size_t)c->chunk_left;
			if (n == 0)
				break;
			memmove(c->buf + c->wr, p, n);
			c->wr += n;
			c->rd += n;
			c->chunk_left -= n;
			if (c->chunk_left == 0)
				c->cstate = CH_DATA_END;
			continue;
		}
		if (c->cstate == CH_DATA_END) {
			if (avail < 2)
				break;
			if (p[0] != '\r' || p[1] != '\n') {
				*why = "malformed HTTP answer: a chunk not ended by CRLF";
				return -1;
			}
			c->rd += 2;
			c->cstate = CH_SIZE;
			continue;
		}
		/* a line: a chunk size (hex, maybe ";extension") or a trailer */
		size_t look = avail < CHUNK_LINE_MAX ? avail : CHUNK_LINE_MAX;
		const char *nl = look ? memchr(p, '\n', look) : NULL;
		if (!nl) {
			if (avail >= CHUNK_LINE_MAX) {
				*why = "malformed HTTP answer: a chunk line longer than 1 KiB";
				return -1;
			}
			break;
		}
		size_t n = (size_t)(nl - p);
		if (n == 0 || p[n - 1] != '\r') {
			*why = "malformed HTTP answer: a chunk line not ended by CRLF";
			return -1;
		}
		n--;
		c->rd += n + 2;
		if (c->cstate == CH_TRAILER) {
			if (n == 0)
				return 1;
			continue;                    /* a trailer field: nothing we need */
		}
		uint64_t size = 0;
		size_t i = 0;
		for (int d; i < n && i < 16 && (d = hex_digit(p[i])) >= 0; i++)
			size = size << 4 | (uint64_t)d;
		if (i == 0 || i == 16 || (i < n && p[i] != ';' && p[i] != ' ' && p[i] != '\t')) {
			*why = "malformed HTTP answer: a bad chunk size";
			return -1;
		}
		if (size == 0) {
			c->cstate = CH_TRAILER;
		} else if (size > ANSWER_MAX - (c->wr - c->head)) {
			*why = "answer too large (over 16 MiB)";
			return -1;
		} else {
			c->chunk_left = size;
			c->cstate = CH_DATA;
		}
	}
	memmove(c->buf + c->wr, c->buf + c->rd, c->len - c->rd);
	c->len -= c->rd - c->wr;
	c->rd = c->wr;
	return 0;
}

/* Look at what has come; answer if it is the whole response. */
static void advance(struct etcd_call *c)
{
	const char *why = NULL;
	int r;
	if (!c->head) {
		if (read_head(c, &why) < 0) {
			fail(c, why);
			return;
		}
		if (!c->head)
			return;
	}
	switch (c->framing) {
	case BODY_LENGTH:
		if (c->len - c->head >= c->clen)
			finish(c, c->status, c->buf + c->head, c->clen, NULL);
		break;
	case BODY_CHUNKED:
		r = dechunk(c, &why);
		if (r < 0)
			fail(c, why);
		else if (r > 0)
			finish(c, c->status, c->buf + c->head, c->wr - c->head, NULL);
		break;
	case BODY_CLOSE:
		if (c->len - c->head > ANSWER_MAX)
			fail(c, "answer too large (over 16 MiB)");
		break;
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct etcd_call *c = h->data;
	/* one byte always stays spare, for the NUL after the body */
	if (c->cap - c->len < READ_SIZE + 1 && c->cap < BUF_MAX) {
		size_t cap = c->cap * 2 > c->len + READ_SIZE + 1 ? c->cap * 2 : c->len + READ_SIZE + 1;
		if (cap > BUF_MAX)
			cap = BUF_MAX;
		char *p = realloc(c->buf, cap);
		if (p) {
			c->buf = p;
			c->cap = cap;
		} else {
			c->oom = true;
		}
	}
	/* nothing offered: libuv answers UV_ENOBUFS */
	if (c->oom || c->cap <= c->len)
		*b = uv_buf_init(NULL, 0);
	else
		*b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len - 1));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct etcd_call *c = s->data;
	if (c->done)
		return;
	if (n > 0) {
		c->len += (size_t)n;
		advance(c);
	} else if (n == UV_EOF) {
		if (c->head && c->framing == BODY_CLOSE)
			finish(c, c->status, c->buf + c->head, c->len - c->head, NULL);
		else
			fail(c, c->len ? "connection closed before the answer was complete"
				       : "connection closed without an answer");
	} else if (n == UV_ENOBUFS) {
		fail(c, c->oom ? "out of memory" : "answer too large (over 16 MiB)");
	} else if (n < 0) {
		fail(c, uv_strerror((int)n));
	}
}

static void on_written(uv_write_t *w, int status)
{
	struct etcd_call *c = w->data;
	free(c->req);
	c->req = NULL;
	if (c->done)
		return;
	if (status < 0)
		fail(c, uv_strerror(status));
}

static void on_connect(uv_connect_t *req, int status)
{
	struct etcd_call *c = req->data;
	uv_buf_t b;
	int r;
	if (c->done)
		return;                          /* cancelled: libuv says UV_ECANCELED */
	if (status < 0) {
		fail(c, uv_strerror(status));
		return;
	}
	b = uv_buf_init(c->req, (unsigned)c->req_len);
	r = uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written);
	if (r == 0)
		r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (r < 0)
		fail(c, uv_strerror(r));
}

static void on_timer(uv_timer_t *t)
{
	struct etcd_call *c = t->data;
	char msg[64];
	if (c->start_err[0]) {
		fail(c, c->start_err);
		return;
	}
	snprintf(msg, sizeof msg, "timed out after %" PRIu64 " ms", c->timeout_ms);
	fail(c, msg);
}

/* one request per connection: the server closes after answering */
#define REQUEST_HEAD \
	"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n" \
	"Content-Length: %zu\r\nConnection: close\r\n\r\n"
#define GET_HEAD "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"

struct etcd_call *etcd_call(uv_loop_t *loop, int port, const char *path, const char *body,
			    uint64_t timeout_ms, etcd_call_cb cb, void *ud)
{
	struct etcd_call *c = calloc(1, sizeof *c);
	struct sockaddr_in sa;
	size_t blen = body ? strlen(body) : 0;
	int hlen, r = 0;
	if (!c)
		return NULL;
	hlen = body ? snprintf(NULL, 0, REQUEST_HEAD, path, port, blen) : snprintf(NULL, 0, GET_HEAD, path, port);
	if (hlen >= 0) {
		c->req_len = (size_t)hlen + blen;
		c->req = malloc(c->req_len + 1);
	}
	if (!c->req || uv_tcp_init(loop, &c->tcp) < 0) {
		free(c->req);
		free(c);
		return NULL;
	}
	if (body) {
		snprintf(c->req, (size_t)hlen + 1, REQUEST_HEAD, path, port, blen);
		memcpy(c->req + hlen, body, blen + 1);
	} else {
		snprintf(c->req, (size_t)hlen + 1, GET_HEAD, path, port);
	}
	uv_timer_init(loop, &c->timer);
	c->handles = 2;
	c->tcp.data = c->timer.data = c->connect.data = c->write.data = c;
	c->cb = cb;
	c->ud = ud;
	c->timeout_ms = timeout_ms;

	if (port < 1 || port > 65535)
		snprintf(c->start_err, sizeof c->start_err, "bad port %d", port);
	else if ((r = uv_ip4_addr("127.0.0.1", port, &sa)) < 0 ||
		 (r = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&sa, on_connect)) < 0)
		snprintf(c->start_err, sizeof c->start_err, "%s", uv_strerror(r));
	/* a connect that failed at once is still told through cb, from the
	 * loop, so the caller sees one way of failing and not two */
	uv_timer_start(&c->timer, on_timer, c->start_err[0] ? 0 : timeout_ms, 0);
	return c;
}

void etcd_cancel(struct etcd_call *c)
{
	if (!c || c->done)
		return;
	c->done = true;
	close_handles(c);
}

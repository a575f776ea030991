/*
 * test_etcd_http.c — unit tests of the etcd v3 HTTP/JSON client
 * (src/hub/etcd_http.c).
 *
 * Request bodies for each operation, read back with jansson; base64 pinned
 * to RFC 4648's vectors and carried through a full round trip (every byte
 * value, empty values); answers as etcd 3.4.23 really writes them (copied
 * from a running member) with their left-out defaults — no "kvs", no
 * "value", no "succeeded", no "deleted", no "leader" — and its error bodies;
 * malformed JSON, numbers and base64 refused with words, and corrupted
 * answers never crashing.  Then the exchange itself, against a small HTTP
 * server run on the same libuv loop: Content-Length, chunked with a trailer
 * (dripped a few bytes at a time), body-until-close, refused, reset,
 * silence (the deadline), an answer too large, and cancelling — before the
 * answer, and from inside another call's callback.  No etcd needed.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <uv.h>

#include "../../src/hub/etcd_http.h"

/* LeakSanitizer's report at exit does not fail a Criterion test: the
 * exchange tests ask it themselves, while the test is still running. */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#define S(lit) lit, sizeof(lit) - 1

/* what etcd 3.4.23 puts in front of every answer */
#define HEADER(rev) \
	"\"header\":{\"cluster_id\":\"17953654596774702974\",\"member_id\":\"975050037397374526\"," \
	"\"revision\":\"" rev "\",\"raft_term\":\"21\"}"

/* ---- building ------------------------------------------------------------ */

static struct etcd_request request(enum etcd_op op, const char *key, const void *value, size_t vlen,
				   uint64_t version)
{
	return (struct etcd_request){
		.op = op,
		.key = (const uint8_t *)key,
		.key_len = (uint32_t)strlen(key),
		.value = value,
		.value_len = (uint32_t)vlen,
		.version = version,
	};
}

/* The body etcd_build makes for req, as JSON; *path set. */
static json_t *build(const struct etcd_request *req, const char **path)
{
	char *body = NULL;
	json_error_t je;
	cr_assert_eq(etcd_build(req, path, &body), 0);
	cr_assert_not_null(body);
	json_t *root = json_loads(body, JSON_REJECT_DUPLICATES, &je);
	cr_assert_not_null(root, "not JSON (%s): %s", je.text, body);
	cr_assert(json_is_object(root), "%s", body);
	free(body);
	return root;
}

static void str_is(json_t *obj, const char *name, const char *want)
{
	json_t *s = json_object_get(obj, name);
	cr_assert(json_is_string(s), "%s is not a string", name);
	cr_assert_str_eq(json_string_value(s), want, "%s", name);
}

/* obj.name[0].inner, an object */
static json_t *first(json_t *obj, const char *name, const char *inner)
{
	json_t *a = json_object_get(obj, name);
	cr_assert(json_is_array(a) && json_array_size(a) == 1, "%s is not a one-element array", name);
	json_t *o = json_array_get(a, 0);
	if (inner)
		o = json_object_get(o, inner);
	cr_assert(json_is_object(o), "%s[0].%s is not an object", name, inner ? inner : "");
	return o;
}

Test(etcd_build, get_put_del)
{
	const char *path;
	struct etcd_request r = request(ETCD_GET, "foo", NULL, 0, 0);
	json_t *j = build(&r, &path);
	cr_assert_str_eq(path, "/v3/kv/range");
	str_is(j, "key", "Zm9v");
	/* linearizable is the default: nothing asks for a serializable read */
	cr_assert_eq(json_object_size(j), 1);
	json_decref(j);

	r = request(ETCD_PUT, "foo", "bar", 3, 0);
	j = build(&r, &path);
	cr_assert_str_eq(path, "/v3/kv/put");
	str_is(j, "key", "Zm9v");
	str_is(j, "value", "YmFy");
	cr_assert_eq(json_object_size(j), 2);
	json_decref(j);

	r = request(ETCD_DEL, "foo", NULL, 0, 0);
	j = build(&r, &path);
	cr_assert_str_eq(path, "/v3/kv/deleterange");
	str_is(j, "key", "Zm9v");
	cr_assert_eq(json_object_size(j), 1);
	json_decref(j);
}

static void vput_is(uint64_t version, const char *want)
{
	const char *path;
	struct etcd_request r = request(ETCD_VPUT, "k1", "v1", 2, version);
	json_t *j = build(&r, &path);
	cr_assert_str_eq(path, "/v3/kv/txn");
	json_t *cmp = first(j, "compare", NULL);
	str_is(cmp, "result", "EQUAL");
	str_is(cmp, "target", "VERSION");
	str_is(cmp, "key", "azE=");
	str_is(cmp, "version", want);
	json_t *put = first(j, "success", "request_put");
	str_is(put, "key", "azE=");
	str_is(put, "value", "djE=");
	json_t *rng = first(j, "failure", "request_range");
	str_is(rng, "key", "azE=");
	cr_assert_eq(json_object_size(rng), 1);
	json_decref(j);
}

Test(etcd_build, vput)
{
	/* version 0 spelt out: etcd 3.4.23 takes "0" as "the key must not exist" */
	vput_is(0, "0");
	vput_is(7, "7");
	vput_is(UINT64_MAX, "18446744073709551615");
}

/* RFC 4648, section 10 */
Test(etcd_build, base64_vectors)
{
	static const char *vec[][2] = {
		{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},     {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		const char *path;
		struct etcd_request r = request(ETCD_PUT, "k", vec[i][0], strlen(vec[i][0]), 0);
		json_t *j = build(&r, &path);
		str_is(j, "value", vec[i][1]);
		json_decref(j);
	}
	/* the two characters that differ between alphabets: + and /, not - and _ */
	uint8_t hi[] = {0xfb, 0xff, 0xbf};
	const char *path;
	struct etcd_request r = request(ETCD_PUT, "k", hi, sizeof hi, 0);
	json_t *j = build(&r, &path);
	str_is(j, "value", "+/+/");
	json_decref(j);
}

/* Put value, take the base64 etcd_build wrote, hand it back as a range
 * answer, and expect the same bytes. */
static void round_trip(const uint8_t *value, size_t len)
{
	const char *path;
	struct etcd_request put = request(ETCD_PUT, "bin", value, len, 0);
	json_t *j = build(&put, &path);
	json_t *ans = json_pack("{s:{s:s}, s:[{s:s, s:s, s:O}], s:s}", "header", "revision", "9", "kvs",
				"key", "Ymlu", "version", "4", "value", json_object_get(j, "value"), "count", "1");
	cr_assert_not_null(ans);
	char *text = json_dumps(ans, JSON_COMPACT);
	struct etcd_request get = request(ETCD_GET, "bin", NULL, 0, 0);
	struct etcd_reply out;
	cr_assert_eq(etcd_parse(&get, 200, text, strlen(text), &out), 0, "%s: %s", text, out.err);
	cr_assert(out.found);
	cr_assert_eq(out.value_len, len);
	cr_assert(len == 0 || memcmp(out.value, value, len) == 0, "%zu bytes changed on the way", len);
	cr_assert_eq(out.value[len], 0, "not NUL-terminated");
	cr_assert_eq(out.version, 4);
	etcd_reply_free(&out);
	cr_assert_null(out.value);
	free(text);
	json_decref(ans);
	json_decref(j);
}

Test(etcd_build, base64_round_trip)
{
	uint8_t all[256 * 3 + 2];
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (uint8_t)(i * 7 + 3);
	for (size_t n = 0; n <= 9; n++)
		round_trip(all, n);
	for (size_t i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	round_trip(all, 256);
	round_trip(all, sizeof all);
	round_trip((const uint8_t *)"\0\r\n\"\\", 5);
}

Test(etcd_build, empty_and_binary_keys)
{
	const char *path;
	struct etcd_request r = request(ETCD_PUT, "", "", 0, 0);
	json_t *j = build(&r, &path);
	str_is(j, "key", "");
	str_is(j, "value", "");
	json_decref(j);
	static const uint8_t key[] = {0, 0xff, '"'};
	r = (struct etcd_request){.op = ETCD_VPUT, .key = key, .key_len = 3, .version = 1};
	j = build(&r, &path);
	str_is(first(j, "compare", NULL), "key", "AP8i");
	str_is(first(j, "success", "request_put"), "value", "");
	json_decref(j);
}

/* ---- reading answers ----------------------------------------------------- */

static void parse_ok(const struct etcd_request *req, int status, const char *body,
		     struct etcd_reply *out)
{
	memset(out, 0x5a, sizeof *out);      /* etcd_parse must not depend on what was there */
	int rc = etcd_parse(req, status, body, strlen(body), out);
	cr_assert_eq(rc, 0, "refused (%s): %s", out->err, body);
}

static void parse_bad(const struct etcd_request *req, const char *body, size_t len,
		      const char *why_part)
{
	struct etcd_reply out;
	memset(&out, 0x5a, sizeof out);
	cr_assert_eq(etcd_parse(req, 200, body, len, &out), -1, "accepted: %.*s", (int)len, body);
	cr_assert_null(out.value);
	cr_assert(strstr(out.err, why_part), "\"%s\", expected \"%s\", for %.*s", out.err, why_part,
		  (int)len, body);
}

Test(etcd_parse, get)
{
	struct etcd_request get = request(ETCD_GET, "k1", NULL, 0, 0);
	struct etcd_reply r;
	parse_ok(&get, 200,
		 "{" HEADER("3") ",\"kvs\":[{\"key\":\"azE=\",\"create_revision\":\"2\",\"mod_revision\":\"3\","
		 "\"version\":\"2\",\"value\":\"djI=\"}],\"count\":\"1\"}",
		 &r);
	cr_assert_eq(r.outcome, ETCD_OK);
	cr_assert(r.found);
	cr_assert_eq(r.value_len, 2);
	cr_assert_str_eq((char *)r.value, "v2");
	cr_assert_eq(r.version, 2);
	cr_assert_eq(r.revision, 3);
	etcd_reply_free(&r);

	/* a missing key: no "kvs", no "count" */
	parse_ok(&get, 200, "{" HEADER("1") "}", &r);
	cr_assert_eq(r.outcome, ETCD_OK);
	cr_assert_not(r.found);
	cr_assert_null(r.value);
	cr_assert_eq(r.version, 0);
	cr_assert_eq(r.revision, 1);
	etcd_reply_free(&r);

	/* an empty value: no "value" */
	parse_ok(&get, 200,
		 "{" HEADER("4") ",\"kvs\":[{\"key\":\"azE=\",\"create_revision\":\"2\",\"mod_revision\":\"4\","
		 "\"version\":\"3\"}],\"count\":\"1\"}",
		 &r);
	cr_assert(r.found);
	cr_assert_not_null(r.value);
	cr_assert_eq(r.value_len, 0);
	cr_assert_str_eq((char *)r.value, "");
	cr_assert_eq(r.version, 3);
	etcd_reply_free(&r);

	/* proto3 JSON readers take plain numbers too; and no header at all is a revision 0 */
	parse_ok(&get, 200, "{\"kvs\":[{\"key\":\"azE=\",\"version\":5,\"value\":\"\"}]}", &r);
	cr_assert(r.found);
	cr_assert_eq(r.version, 5);
	cr_assert_eq(r.revision, 0);
	etcd_reply_free(&r);
}

Test(etcd_parse, put_and_del)
{
	struct etcd_request put = request(ETCD_PUT, "k1", "v", 1, 0);
	struct etcd_request del = request(ETCD_DEL, "k1", NULL, 0, 0);
	struct etcd_reply r;
	parse_ok(&put, 200, "{" HEADER("18446744073709551615") "}", &r);
	cr_assert_eq(r.outcome, ETCD_OK);
	cr_assert_eq(r.revision, UINT64_MAX);
	cr_assert_null(r.value);
	cr_assert_eq(r.version, 0);

	parse_ok(&del, 200, "{" HEADER("6") ",\"deleted\":\"1\"}", &r);
	cr_assert_eq(r.outcome, ETCD_OK);
	cr_assert_eq(r.deleted, 1);
	cr_assert_eq(r.revision, 6);
	/* nothing deleted: no "deleted" */
	parse_ok(&del, 200, "{" HEADER("6") "}", &r);
	cr_assert_eq(r.outcome, ETCD_OK);
	cr_assert_eq(r.deleted, 0);
}

Test(etcd_parse, vput)
{
	struct etcd_request vput = request(ETCD_VPUT, "k1", "v3", 2, 7);
	struct etcd_reply r;
	parse_ok(&vput, 200,
		 "{" HEADER("3") ",\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":"
		 "{\"revision\":\"3\"}}}]}",
		 &r);
	cr_assert_eq(r.outcome, ETCD_OK);
	cr_assert_eq(r.revision, 3);
	cr_assert_null(r.value);

	/* failed: no "succeeded"; what the key is comes from the failure branch */
	parse_ok(&vput, 200,
		 "{" HEADER("3") ",\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"3\"},"
		 "\"kvs\":[{\"key\":\"azE=\",\"create_revision\":\"2\",\"mod_revision\":\"3\",\"version\":\"2\","
		 "\"value\":\"djI=\"}],\"count\":\"1\"}}]}",
		 &r);
	cr_assert_eq(r.outcome, ETCD_FAILED_COMPARE);
	cr_assert(r.found);
	cr_assert_eq(r.version, 2);
	cr_assert_null(r.value, "a failed vput reports no value");
	cr_assert_eq(r.revision, 3);

	/* failed on a key that does not exist */
	parse_ok(&vput, 200,
		 "{" HEADER("7") ",\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"7\"}}}]}",
		 &r);
	cr_assert_eq(r.outcome, ETCD_FAILED_COMPARE);
	cr_assert_not(r.found);
	cr_assert_eq(r.version, 0);

	/* "succeeded": false, written out, means the same */
	parse_ok(&vput, 200, "{\"succeeded\":false,\"responses\":[{\"response_range\":{}}]}", &r);
	cr_assert_eq(r.outcome, ETCD_FAILED_COMPARE);
	cr_assert_not(r.found);
}

Test(etcd_parse, errors)
{
	struct etcd_request put = request(ETCD_PUT, "k1", "v", 1, 0);
	struct etcd_request get = request(ETCD_GET, "k1", NULL, 0, 0);
	struct etcd_reply r;
	/* what etcd said with no quorum: 503 first, then 500 */
	parse_ok(&put, 503,
		 "{\"error\":\"etcdserver: request timed out\",\"message\":\"etcdserver: request timed out\",\"code\":14}",
		 &r);
	cr_assert_eq(r.outcome, ETCD_ERROR);
	cr_assert_str_eq(r.err, "etcdserver: request timed out");
	cr_assert_null(r.value);
	parse_ok(&get, 500, "{\"error\":\"context deadline exceeded\",\"message\":\"context deadline exceeded\",\"code\":2}",
		 &r);
	cr_assert_eq(r.outcome, ETCD_ERROR);
	cr_assert_str_eq(r.err, "context deadline exceeded");
	parse_ok(&put, 400, "{\"message\":\"etcdserver: key is not provided\",\"code\":3}", &r);
	cr_assert_str_eq(r.err, "etcdserver: key is not provided");
	/* not etcd's JSON: the status and the first line */
	parse_ok(&get, 404, "Not Found\n", &r);
	cr_assert_eq(r.outcome, ETCD_ERROR);
	cr_assert_str_eq(r.err, "HTTP 404: Not Found");
	parse_ok(&get, 502, "", &r);
	cr_assert_str_eq(r.err, "HTTP 502");
	parse_ok(&get, 500, "{\"error\":\"\",\"code\":13}", &r);
	cr_assert_str_eq(r.err, "HTTP 500: {\"error\":\"\",\"code\":13}");
	parse_ok(&get, 500, "\x01\xff<html>\r\nmore", &r);
	cr_assert_str_eq(r.err, "HTTP 500: ?\?<html>");
	/* no answer at all is not something to read */
	memset(&r, 0, sizeof r);
	cr_assert_eq(etcd_parse(&get, 0, "", 0, &r), -1);
	cr_assert_str_eq(r.err, "no answer from etcd");
}

Test(etcd_parse, malformed)
{
	struct etcd_request get = request(ETCD_GET, "k1", NULL, 0, 0);
	struct etcd_request del = request(ETCD_DEL, "k1", NULL, 0, 0);
	struct etcd_request vput = request(ETCD_VPUT, "k1", "v", 1, 1);
	parse_bad(&get, S("{\"header\":"), "not JSON");
	parse_bad(&get, S(""), "not JSON");
	parse_bad(&get, S("[1,2]"), "not a JSON object");
	parse_bad(&get, S("{\"header\":[]}"), "header is not an object");
	parse_bad(&get, S("{\"header\":{\"revision\":\"abc\"}}"), "header.revision is not a 64-bit number");
	parse_bad(&get, S("{\"header\":{\"revision\":\"-1\"}}"), "header.revision");
	parse_bad(&get, S("{\"header\":{\"revision\":-1}}"), "header.revision");
	parse_bad(&get, S("{\"header\":{\"revision\":\"\"}}"), "header.revision");
	parse_bad(&get, S("{\"header\":{\"revision\":\"18446744073709551616\"}}"), "header.revision");
	parse_bad(&get, S("{\"header\":{\"revision\":\"1.5\"}}"), "header.revision");
	parse_bad(&get, S("{\"kvs\":{}}"), "kvs is not an array");
	parse_bad(&get, S("{\"kvs\":[7]}"), "kvs[0] is not an object");
	parse_bad(&get, S("{\"kvs\":[{\"value\":\"djI=\"}]}"), "kvs[0].key is not a base64 string");
	parse_bad(&get, S("{\"kvs\":[{\"key\":\"azI=\",\"value\":\"djI=\"}]}"), "not the key asked for");
	parse_bad(&get, S("{\"kvs\":[{\"key\":\"azE=\",\"version\":\"x\"}]}"), "kvs[0].version");
	parse_bad(&get, S("{\"kvs\":[{\"key\":\"azE=\",\"value\":12}]}"), "kvs[0].value is not a string");
	parse_bad(&del, S("{\"deleted\":true}"), "deleted");
	parse_bad(&vput, S("{\"succeeded\":\"yes\"}"), "succeeded is not a boolean");
	parse_bad(&vput, S("{}"), "a failed txn without its one response");
	parse_bad(&vput, S("{\"responses\":[]}"), "a failed txn without its one response");
	parse_bad(&vput, S("{\"responses\":[{\"response_put\":{}}]}"), "a failed txn without its range");
	parse_bad(&vput, S("{\"responses\":[{\"response_range\":[]}]}"), "not a range response");
	parse_bad(&vput, S("{\"responses\":[{\"response_range\":{\"kvs\":[{\"key\":\"eA==\"}]}}]}"),
		  "responses[0].response_range.kvs[0].key is not the key asked for");
}

Test(etcd_parse, bad_base64)
{
	/* whole quads only, '=' only at the end, no bits under the padding */
	static const char *bad[] = {
		"djI", "d", "djI==", "dj=I", "d===", "====", "=djI", "djI!", "dj I", "dj\\nI", "djI=djI=",
		"djJ=", "dh==", "Zm9=", "-_-_",
	};
	struct etcd_request get = request(ETCD_GET, "k1", NULL, 0, 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char body[160];
		int n = snprintf(body, sizeof body, "{\"kvs\":[{\"key\":\"azE=\",\"value\":\"%s\"}]}", bad[i]);
		parse_bad(&get, body, (size_t)n, "kvs[0].value is not base64");
	}
	/* a NUL inside the string is not JSON jansson takes, let alone base64 */
	parse_bad(&get, S("{\"kvs\":[{\"key\":\"azE=\",\"value\":\"dj\\u0000I\"}]}"), "not JSON");
}

/* Every prefix of a good answer, and the answer with bytes changed: -1 or
 * 0, never a crash, never a read past the end (ASan watches). */
Test(etcd_parse, corrupted_answers)
{
	static const char good[] =
		"{" HEADER("3") ",\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"3\"},"
		"\"kvs\":[{\"key\":\"azE=\",\"create_revision\":\"2\",\"mod_revision\":\"3\",\"version\":\"2\","
		"\"value\":\"djI=\"}],\"count\":\"1\"}}]}";
	struct etcd_request reqs[] = {
		request(ETCD_GET, "k1", NULL, 0, 0),
		request(ETCD_VPUT, "k1", "v", 1, 1),
		request(ETCD_DEL, "k1", NULL, 0, 0),
	};
	size_t len = sizeof good - 1;
	char *copy = malloc(len);
	uint64_t x = 88172645463325252ull;
	for (size_t q = 0; q < 3; q++) {
		for (size_t n = 0; n < len; n++) {
			struct etcd_reply r;
			memcpy(copy, good, n);
			cr_assert_eq(etcd_parse(&reqs[q], 200, copy, n, &r), -1, "a prefix of %zu accepted", n);
			cr_assert_null(r.value);
		}
		for (int round = 0; round < 3000; round++) {
			struct etcd_reply r;
			memcpy(copy, good, len);
			for (int k = 0; k < 3; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				copy[x % len] = (char)(x >> 32);
			}
			int rc = etcd_parse(&reqs[q], 200, copy, len, &r);
			cr_assert(rc == 0 || rc == -1);
			if (rc < 0)
				cr_assert_null(r.value);
			etcd_reply_free(&r);
		}
	}
	free(copy);
}

/* ---- a member's Raft status (/debug/vars) ---------------------------------- */

/* As etcd 3.4.23 writes it (memstats and cmdline cut short). */
#define VARS(status) \
	"{\"cmdline\": [\"etcd\"],\n\"file_descriptor_limit\": 1048576,\n\"memstats\": {\"Alloc\":1}," \
	"\n\"raft.status\": " status "\n}\n"

Test(etcd_raft, leader_follower_candidate)
{
	static const char leader[] = VARS(
		"{\"id\":\"f4a457008d1441f2\",\"term\":2,\"vote\":\"f4a457008d1441f2\",\"commit\":4,"
		"\"lead\":\"f4a457008d1441f2\",\"raftState\":\"StateLeader\",\"applied\":4,\"progress\":"
		"{\"f4a457008d1441f2\":{\"match\":4,\"next\":5,\"state\":\"StateReplicate\"},"
		"\"8211f1d0f64f3269\":{\"match\":3,\"next\":4,\"state\":\"StateProbe\"}},\"leadtransferee\":\"0\"}");
	struct etcd_raft r;
	char err[160];
	cr_assert_eq(etcd_parse_raft(200, S(leader), &r, err, sizeof err), 0, "%s", err);
	cr_assert_eq(r.id, 0xf4a457008d1441f2ull);
	cr_assert_eq(r.lead, r.id);
	cr_assert_eq(r.vote, r.id);
	cr_assert_eq(r.term, 2);
	cr_assert_eq(r.commit, 4);
	cr_assert_eq(r.applied, 4);
	cr_assert_str_eq(r.state, "StateLeader");
	cr_assert_eq(r.n_progress, 2);
	bool seen = false;
	for (uint32_t i = 0; i < r.n_progress; i++)
		if (r.progress[i].id == 0x8211f1d0f64f3269ull) {
			seen = true;
			cr_assert_eq(r.progress[i].match, 3);
			cr_assert_eq(r.progress[i].next, 4);
		}
	cr_assert(seen, "the follower's progress");

	/* a candidate: no leader ("0"), a vote for itself, no progress */
	static const char cand[] = VARS(
		"{\"id\":\"8211f1d0f64f3269\",\"term\":7,\"vote\":\"8211f1d0f64f3269\",\"commit\":9,"
		"\"lead\":\"0\",\"raftState\":\"StateCandidate\",\"applied\":9,\"progress\":{},"
		"\"leadtransferee\":\"0\"}");
	cr_assert_eq(etcd_parse_raft(200, S(cand), &r, err, sizeof err), 0, "%s", err);
	cr_assert_eq(r.lead, 0);
	cr_assert_eq(r.term, 7);
	cr_assert_str_eq(r.state, "StateCandidate");
	cr_assert_eq(r.n_progress, 0);
}

Test(etcd_raft, refused)
{
	struct etcd_raft r;
	char err[160];
	cr_assert_eq(etcd_parse_raft(0, S(""), &r, err, sizeof err), -1);
	cr_assert_str_eq(err, "no answer from etcd");
	cr_assert_eq(etcd_parse_raft(404, S("404 page not found"), &r, err, sizeof err), -1);
	cr_assert_eq(etcd_parse_raft(200, S("{\"cmdline\":[]}"), &r, err, sizeof err), -1);
	cr_assert(strstr(err, "no raft.status"), "%s", err);
	cr_assert_eq(etcd_parse_raft(200, S(VARS("{\"id\":\"xyz\",\"raftState\":\"StateFollower\"}")), &r, err,
				     sizeof err), -1);
	cr_assert(strstr(err, "not a member id"), "%s", err);
	cr_assert_eq(etcd_parse_raft(200, S(VARS("{\"id\":\"1\",\"term\":\"2\"}")), &r, err, sizeof err), -1);
	cr_assert(strstr(err, "raftState"), "%s", err);
	cr_assert_eq(etcd_parse_raft(200, S(VARS("{\"id\":\"1\",\"term\":-1,\"raftState\":\"StateFollower\"}")),
				     &r, err, sizeof err), -1);
	cr_assert_eq(etcd_parse_raft(200, S(VARS("{\"id\":\"1\",\"raftState\":\"StateLeader\",\"progress\":"
						"{\"zz\":{\"match\":1,\"next\":2}}}")), &r, err, sizeof err), -1);
	cr_assert_eq(etcd_parse_raft(200, S("{\"raft.status\": {\"id\""), &r, err, sizeof err), -1);
	cr_assert_eq(r.id, 0, "nothing half-read is handed back");
}


/* ---- the exchange, against a server on the same loop --------------------- */

enum srv_mode {
	SRV_ANSWER,                          /* read the request, write the answer, close */
	SRV_DRIP,                            /* the same, a few bytes each millisecond */
	SRV_SILENT,                          /* read the request, say nothing */
	SRV_HANGUP,                          /* close as soon as the connection is accepted */
};

#define SRV_CONNS 32

struct srv_conn {
	uv_tcp_t tcp;
	uv_timer_t drip;
	uv_write_t w;
	struct srv *s;
	char req[8192];
	size_t req_len;
	size_t sent;
	int open;                            /* handles not yet closed */
	bool answering;
};

struct srv {
	uv_loop_t *loop;
	uv_tcp_t listener;
	int port;
	enum srv_mode mode;
	const char *answer;
	size_t answer_len;
	struct srv_conn *conns[SRV_CONNS];
	char last_req[8192];                 /* the last complete request read */
	size_t last_req_len;
	bool closed;
};

static uv_loop_t loop;

static void conn_closed(uv_handle_t *h)
{
	struct srv_conn *k = h->data;
	if (--k->open > 0)
		return;
	for (size_t i = 0; i < SRV_CONNS; i++)
		if (k->s->conns[i] == k)
			k->s->conns[i] = NULL;
	free(k);
}

static void conn_close(struct srv_conn *k)
{
	if (uv_is_closing((uv_handle_t *)&k->tcp))
		return;
	uv_close((uv_handle_t *)&k->tcp, conn_closed);
	uv_close((uv_handle_t *)&k->drip, conn_closed);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct srv_conn *k = h->data;
	*b = uv_buf_init(k->req + k->req_len, (unsigned)(sizeof k->req - k->req_len));
}

static void conn_written(uv_write_t *w, int status)
{
	conn_close(w->data);
}

static void conn_drip(uv_timer_t *t)
{
	struct srv_conn *k = t->data;
	size_t n = k->s->answer_len - k->sent < 3 ? k->s->answer_len - k->sent : 3;
	uv_buf_t b = uv_buf_init((char *)k->s->answer + k->sent, (unsigned)n);
	int r = uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
	if (r > 0)
		k->sent += (size_t)r;
	if (k->sent == k->s->answer_len || (r < 0 && r != UV_EAGAIN))
		conn_close(k);
}

/* The request is whole once the headers and Content-Length bytes are in. */
static bool request_whole(const char *p, size_t n)
{
	const char *end = memmem(p, n, "\r\n\r\n", 4);
	const char *cl = memmem(p, n, "Content-Length: ", 16);
	if (!end || !cl)
		return false;
	return (size_t)(end + 4 - p) + strtoul(cl + 16, NULL, 10) <= n;
}

static void conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct srv_conn *k = st->data;
	struct srv *s = k->s;
	if (n < 0) {
		conn_close(k);
		return;
	}
	k->req_len += (size_t)n;
	if (k->answering || !request_whole(k->req, k->req_len))
		return;
	k->answering = true;
	memcpy(s->last_req, k->req, k->req_len);
	s->last_req_len = k->req_len;
	if (s->mode == SRV_ANSWER) {
		uv_buf_t out = uv_buf_init((char *)s->answer, (unsigned)s->answer_len);
		k->w.data = k;
		cr_assert_eq(uv_write(&k->w, st, &out, 1, conn_written), 0);
	} else if (s->mode == SRV_DRIP) {
		uv_timer_start(&k->drip, conn_drip, 1, 1);
	}
}

static void srv_accept(uv_stream_t *l, int status)
{
	struct srv *s = l->data;
	struct srv_conn *k = calloc(1, sizeof *k);
	cr_assert_eq(status, 0);
	k->s = s;
	uv_tcp_init(s->loop, &k->tcp);
	uv_timer_init(s->loop, &k->drip);
	k->tcp.data = k->drip.data = k;
	k->open = 2;
	cr_assert_eq(uv_accept(l, (uv_stream_t *)&k->tcp), 0);
	for (size_t i = 0; i < SRV_CONNS; i++)
		if (!s->conns[i]) {
			s->conns[i] = k;
			break;
		}
	if (s->mode == SRV_HANGUP)
		conn_close(k);
	else
		uv_read_start((uv_stream_t *)&k->tcp, conn_alloc, conn_read);
}

static void srv_start(struct srv *s, enum srv_mode mode, const char *answer, size_t len)
{
	struct sockaddr_in sa;
	struct sockaddr_storage name;
	int namelen = sizeof name;
	memset(s, 0, sizeof *s);
	s->loop = &loop;
	s->mode = mode;
	s->answer = answer;
	s->answer_len = len;
	uv_tcp_init(&loop, &s->listener);
	s->listener.data = s;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	cr_assert_eq(uv_tcp_bind(&s->listener, (const struct sockaddr *)&sa, 0), 0);
	cr_assert_eq(uv_listen((uv_stream_t *)&s->listener, 64, srv_accept), 0);
	uv_tcp_getsockname(&s->listener, (struct sockaddr *)&name, &namelen);
	s->port = ntohs(((struct sockaddr_in *)&name)->sin_port);
}

static void srv_close(struct srv *s)
{
	if (s->closed)
		return;
	s->closed = true;
	uv_close((uv_handle_t *)&s->listener, NULL);
	for (size_t i = 0; i < SRV_CONNS; i++)
		if (s->conns[i])
			conn_close(s->conns[i]);
}

/* What the calls of one test saw. */
struct seen {
	int calls;                           /* callbacks */
	int status;
	char *body;                          /* malloc'd copy */
	size_t len;
	char err[160];
	bool had_err;
};

static struct seen *seen;
static struct srv srv, quiet;                /* quiet: a second server, when one is needed */
static uv_timer_t guard, cancel_timer;
static struct etcd_call *victim;             /* the call a test cancels */
static int expected;                         /* callbacks after which the server closes */

static void on_answer(struct etcd_call *c, int status, const char *body, size_t len, const char *err,
		      void *ud)
{
	struct seen *w = ud;
	w->calls++;
	w->status = status;
	cr_assert_not_null(body);
	free(w->body);
	w->body = malloc(len + 1);
	memcpy(w->body, body, len);
	w->len = len;
	w->had_err = err != NULL;
	snprintf(w->err, sizeof w->err, "%s", err ? err : "");
	if (status == 0)
		cr_assert(err && err[0], "no answer and no words for it");
	else
		cr_assert_null(err);
	if (--expected == 0)
		srv_close(&srv);
}

static void setup(void)
{
	cr_assert_eq(uv_loop_init(&loop), 0);
	seen = calloc(2, sizeof *seen);
	expected = 1;
	memset(&srv, 0, sizeof srv);
	memset(&quiet, 0, sizeof quiet);
	srv.closed = quiet.closed = true;    /* nothing to close until srv_start */
}

/*
 * Close every handle — ours, and each one etcd_call made — and expect all
 * memory back.  Each exchange test ends with it: Criterion does not fail a
 * test on an assertion in .fini, nor on LeakSanitizer's report at exit.
 */
static void wind_down(void)
{
	if (!seen)
		return;
	srv_close(&srv);
	srv_close(&quiet);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0, "handles left open");
	/* A closed handle keeps its stale queue links, which may point into a
	 * call's memory and hide its leak from LeakSanitizer: wipe them. */
	memset(&loop, 0, sizeof loop);
	memset(&srv, 0, sizeof srv);
	memset(&quiet, 0, sizeof quiet);
	memset(&guard, 0, sizeof guard);
	memset(&cancel_timer, 0, sizeof cancel_timer);
	victim = NULL;
	for (int i = 0; i < 2; i++)
		free(seen[i].body);
	free(seen);
	seen = NULL;
#ifdef HAVE_LSAN
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (see LeakSanitizer's report)");
#endif
}

/* for a test stopped by a failed assertion */
static void teardown(void)
{
	wind_down();
}

static void run_call(const char *path, const char *body, uint64_t timeout_ms)
{
	cr_assert_not_null(etcd_call(&loop, srv.port, path, body, timeout_ms, on_answer, &seen[0]));
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(seen[0].calls, 1, "called back %d times", seen[0].calls);
}

static const char put_answer[] =
	"HTTP/1.1 200 OK\r\n"
	"Access-Control-Allow-Origin: *\r\n"
	"Content-Type: application/json\r\n"
	"Grpc-Metadata-Content-Type: application/grpc\r\n"
	"Date: Sun, 22 Nov 2026 09:39:26 GMT\r\n"
	"Content-Length: 114\r\n"
	"\r\n"
	"{\"header\":{\"cluster_id\":\"15118495548433857066\",\"member_id\":\"13668033151171901709\","
	"\"revision\":\"2\",\"raft_term\":\"2\"}}";

/* etcd's error answers, byte for byte: chunked, then a gRPC trailer */
static const char chunked_answer[] =
	"HTTP/1.1 400 Bad Request\r\n"
	"Content-Type: application/json\r\n"
	"Trailer: Grpc-Trailer-Content-Type\r\n"
	"Date: Sun, 22 Nov 2026 09:39:33 GMT\r\n"
	"Connection: close\r\n"
	"Transfer-Encoding: chunked\r\n"
	"\r\n"
	"60\r\n"
	"{\"error\":\"etcdserver: key is not provided\",\"message\":\"etcdserver: key is not provided\",\"code\":3}\r\n"
	"0\r\n"
	"Grpc-Trailer-Content-Type: application/grpc\r\n"
	"\r\n";

Test(etcd_call, content_length, .init = setup, .fini = teardown, .timeout = 10)
{
	static const char body[] = "{\"key\":\"Zm9v\",\"value\":\"YmFy\"}";
	srv_start(&srv, SRV_ANSWER, S(put_answer));
	run_call("/v3/kv/put", body, 2000);
	cr_assert_eq(seen[0].status, 200);
	cr_assert_not(seen[0].had_err);
	cr_assert_eq(seen[0].len, 114);
	cr_assert(memcmp(seen[0].body, put_answer + sizeof put_answer - 1 - 114, 114) == 0);

	/* what went out */
	char want[512];
	int n = snprintf(want, sizeof want,
			 "POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 srv.port, sizeof body - 1, body);
	cr_assert_eq(srv.last_req_len, (size_t)n, "%.*s", (int)srv.last_req_len, srv.last_req);
	cr_assert(memcmp(srv.last_req, want, (size_t)n) == 0, "%.*s", (int)srv.last_req_len, srv.last_req);
	wind_down();
}

Test(etcd_call, chunked_dripped, .init = setup, .fini = teardown, .timeout = 10)
{
	/* three bytes a millisecond: every line and CRLF split somewhere */
	srv_start(&srv, SRV_DRIP, S(chunked_answer));
	run_call("/v3/kv/put", "{\"key\":\"\"}", 5000);
	cr_assert_eq(seen[0].status, 400, "%s", seen[0].err);
	cr_assert_eq(seen[0].len, 0x60);
	cr_assert(memcmp(seen[0].body, "{\"error\":\"etcdserver: key is not provided\"", 41) == 0);
	struct etcd_request put = request(ETCD_PUT, "", "x", 1, 0);
	struct etcd_reply r;
	cr_assert_eq(etcd_parse(&put, seen[0].status, seen[0].body, seen[0].len, &r), 0);
	cr_assert_eq(r.outcome, ETCD_ERROR);
	cr_assert_str_eq(r.err, "etcdserver: key is not provided");
	wind_down();
}

Test(etcd_call, chunks_with_extensions, .init = setup, .fini = teardown, .timeout = 10)
{
	static const char answer[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3;name=value\r\n{\"h\r\n"
		"A\r\neader\":{\"r\r\n"
		"00e \r\nevision\":\"3\"}}\r\n"
		"000\r\n\r\n";
	srv_start(&srv, SRV_DRIP, S(answer));
	run_call("/v3/kv/put", "{}", 5000);
	cr_assert_eq(seen[0].status, 200, "%s", seen[0].err);
	cr_assert_eq(seen[0].len, 27);
	cr_assert(memcmp(seen[0].body, "{\"header\":{\"revision\":\"3\"}}", 27) == 0, "%.*s", (int)seen[0].len,
		  seen[0].body);
	wind_down();
}

/* etcd chunks any answer past a few KiB: a large value, many chunks */
Test(etcd_call, chunked_large, .init = setup, .fini = teardown, .timeout = 10)
{
	size_t body_len = 1 << 20, at = 0;
	char *answer = malloc(body_len + (body_len / 1000 + 2) * 16 + 128);
	at += (size_t)sprintf(answer, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (size_t off = 0; off < body_len;) {
		size_t n = body_len - off < 1000 ? body_len - off : 1000;
		at += (size_t)sprintf(answer + at, "%zx\r\n", n);
		for (size_t i = 0; i < n; i++)
			answer[at++] = (char)('a' + (off + i) % 26);
		at += (size_t)sprintf(answer + at, "\r\n");
		off += n;
	}
	at += (size_t)sprintf(answer + at, "0\r\n\r\n");
	srv_start(&srv, SRV_ANSWER, answer, at);
	run_call("/v3/kv/range", "{}", 5000);
	cr_assert_eq(seen[0].status, 200, "%s", seen[0].err);
	cr_assert_eq(seen[0].len, body_len);
	for (size_t i = 0; i < body_len; i++)
		cr_assert_eq(seen[0].body[i], 'a' + i % 26, "byte %zu", i);
	free(answer);
	wind_down();
}

Test(etcd_call, body_until_close, .init = setup, .fini = teardown, .timeout = 10)
{
	static const char answer[] = "HTTP/1.0 503 Service Unavailable\r\n\r\nno quorum";
	srv_start(&srv, SRV_ANSWER, S(answer));
	run_call("/v3/kv/put", "{}", 2000);
	cr_assert_eq(seen[0].status, 503, "%s", seen[0].err);
	cr_assert_eq(seen[0].len, 9);
	cr_assert(memcmp(seen[0].body, "no quorum", 9) == 0);
	wind_down();
}

static void expect_failure(enum srv_mode mode, const char *answer, size_t len, uint64_t timeout_ms,
			   const char *err_part)
{
	srv_start(&srv, mode, answer, len);
	run_call("/v3/kv/put", "{}", timeout_ms);
	cr_assert_eq(seen[0].status, 0);
	cr_assert(strstr(seen[0].err, err_part), "\"%s\", expected \"%s\"", seen[0].err, err_part);
	cr_assert_eq(seen[0].len, 0);
}

Test(etcd_call, silence_times_out, .init = setup, .fini = teardown, .timeout = 10)
{
	expect_failure(SRV_SILENT, NULL, 0, 50, "timed out after 50 ms");
	wind_down();
}

Test(etcd_call, hangup, .init = setup, .fini = teardown, .timeout = 10)
{
	/* an EOF, a reset or a broken pipe, as the kernel's timing has it */
	srv_start(&srv, SRV_HANGUP, NULL, 0);
	run_call("/v3/kv/put", "{}", 2000);
	cr_assert_eq(seen[0].status, 0);
	cr_assert_neq(seen[0].err[0], '\0');
	wind_down();
}

Test(etcd_call, cut_short, .init = setup, .fini = teardown, .timeout = 10)
{
	expect_failure(SRV_ANSWER, S("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"a\":"), 2000,
		       "connection closed before the answer was complete");
	wind_down();
}

Test(etcd_call, not_http, .init = setup, .fini = teardown, .timeout = 10)
{
	expect_failure(SRV_ANSWER, S("+OK\r\n\r\n"), 2000, "malformed HTTP answer: not an HTTP/1.x status line");
	wind_down();
}

Test(etcd_call, bad_chunk, .init = setup, .fini = teardown, .timeout = 10)
{
	expect_failure(SRV_ANSWER, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), 2000,
		       "a bad chunk size");
	wind_down();
}

Test(etcd_call, other_encoding, .init = setup, .fini = teardown, .timeout = 10)
{
	expect_failure(SRV_ANSWER, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), 2000,
		       "a transfer encoding other than chunked");
	wind_down();
}

Test(etcd_call, too_large, .init = setup, .fini = teardown, .timeout = 10)
{
	expect_failure(SRV_ANSWER, S("HTTP/1.1 200 OK\r\nContent-Length: 16777217\r\n\r\n"), 2000,
		       "answer too large");
	wind_down();
}

Test(etcd_call, chunk_too_large, .init = setup, .fini = teardown, .timeout = 10)
{
	expect_failure(SRV_ANSWER, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000001\r\n"), 2000,
		       "answer too large");
	wind_down();
}

Test(etcd_call, refused, .init = setup, .fini = teardown, .timeout = 10)
{
	/* a port that was listened on a moment ago, and is no more */
	srv_start(&srv, SRV_SILENT, NULL, 0);
	srv_close(&srv);
	uv_run(&loop, UV_RUN_DEFAULT);
	run_call("/v3/kv/put", "{}", 2000);
	cr_assert_eq(seen[0].status, 0);
	cr_assert_str_eq(seen[0].err, "connection refused");
	wind_down();
}

Test(etcd_call, bad_port, .init = setup, .fini = teardown, .timeout = 10)
{
	srv.closed = true;
	cr_assert_not_null(etcd_call(&loop, 0, "/v3/kv/put", "{}", 2000, on_answer, &seen[0]));
	cr_assert_eq(seen[0].calls, 0, "a call that starts never answers at once");
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(seen[0].calls, 1);
	cr_assert_str_eq(seen[0].err, "bad port 0");
	wind_down();
}

static void guard_fired(uv_timer_t *t)
{
	srv_close(&srv);
	uv_close((uv_handle_t *)t, NULL);
}

/* Close the server after ms whatever happened: a cancelled call never
 * calls back, so nothing else would. */
static void guard_start(uint64_t ms)
{
	uv_timer_init(&loop, &guard);
	uv_timer_start(&guard, guard_fired, ms, 0);
}

Test(etcd_call, cancel_at_once, .init = setup, .fini = teardown, .timeout = 10)
{
	srv_start(&srv, SRV_ANSWER, S(put_answer));
	victim = etcd_call(&loop, srv.port, "/v3/kv/put", "{}", 50, on_answer, &seen[0]);
	cr_assert_not_null(victim);
	etcd_cancel(victim);
	guard_start(100);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(seen[0].calls, 0);
	wind_down();
}

static void cancel_it(uv_timer_t *t)
{
	etcd_cancel(victim);
	uv_close((uv_handle_t *)t, NULL);
}

Test(etcd_call, cancel_before_the_answer, .init = setup, .fini = teardown, .timeout = 10)
{
	/* connected, request written, the answer dripping in: cancelled in the middle */
	uv_timer_t *t = &cancel_timer;
	srv_start(&srv, SRV_DRIP, S(chunked_answer));
	victim = etcd_call(&loop, srv.port, "/v3/kv/put", "{}", 150, on_answer, &seen[0]);
	cr_assert_not_null(victim);
	uv_timer_init(&loop, t);
	uv_timer_start(t, cancel_it, 30, 0);
	guard_start(300);                    /* past the call's own deadline */
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(seen[0].calls, 0);
	cr_assert_gt(srv.last_req_len, 0, "the request never arrived");
	wind_down();
}

static void cancel_other_and_stop(struct etcd_call *c, int status, const char *body, size_t len,
				  const char *err, void *ud)
{
	struct seen *w = ud;
	w->calls++;
	w->status = status;
	etcd_cancel(victim);
	etcd_cancel(c);                      /* its own, already answered: nothing */
	uv_stop(&loop);
}

Test(etcd_call, cancel_from_a_callback, .init = setup, .fini = teardown, .timeout = 10)
{
	srv_start(&srv, SRV_ANSWER, S(put_answer));
	/* the victim talks to a server that never answers */
	srv_start(&quiet, SRV_SILENT, NULL, 0);
	victim = etcd_call(&loop, quiet.port, "/v3/kv/range", "{}", 200, on_answer, &seen[1]);
	cr_assert_not_null(etcd_call(&loop, srv.port, "/v3/kv/put", "{}", 2000, cancel_other_and_stop,
				     &seen[0]));
	uv_run(&loop, UV_RUN_DEFAULT);
	/* stopped from the callback: the closes are still to run */
	cr_assert_eq(seen[0].calls, 1);
	cr_assert_eq(seen[0].status, 200);
	srv_close(&quiet);
	guard_start(300);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(seen[1].calls, 0, "a cancelled call answered");
	wind_down();
}

Test(etcd_call, many_at_once, .init = setup, .fini = teardown, .timeout = 10)
{
	srv_start(&srv, SRV_ANSWER, S(put_answer));
	struct seen *many = calloc(20, sizeof *many);
	expected = 20;
	for (int i = 0; i < 20; i++)
		cr_assert_not_null(etcd_call(&loop, srv.port, "/v3/kv/put", "{}", 5000, on_answer, &many[i]));
	uv_run(&loop, UV_RUN_DEFAULT);
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(many[i].calls, 1, "call %d: %d callbacks", i, many[i].calls);
		cr_assert_eq(many[i].status, 200, "call %d: %s", i, many[i].err);
		free(many[i].body);
	}
	free(many);
	wind_down();
}

/* ---- exactly once: writes that carry the clerk's marker -------------------- */

static struct etcd_request once(enum etcd_op op, const char *key, const char *value, uint64_t version,
				uint64_t seq)
{
	struct etcd_request r = request(op, key, value, value ? strlen(value) : 0, version);
	r.marker = (const uint8_t *)"m";      /* "bQ==" */
	r.marker_len = 1;
	r.seq = seq;
	return r;
}

/* obj.name[i], an object holding `inner` */
static json_t *nth(json_t *obj, const char *name, size_t i, const char *inner)
{
	json_t *a = json_object_get(obj, name);
	cr_assert(json_is_array(a) && json_array_size(a) > i, "%s has no element %zu", name, i);
	json_t *o = json_object_get(json_array_get(a, i), inner);
	cr_assert(json_is_object(o), "%s[%zu].%s is not an object", name, i, inner);
	return o;
}

Test(etcd_build, once_put_vput_del)
{
	const char *path;
	/* put number 5: only if the marker has version 4; the put and the
	 * marker's, else read both back */
	struct etcd_request r = once(ETCD_PUT, "k1", "v1", 0, 5);
	json_t *j = build(&r, &path);
	cr_assert_str_eq(path, "/v3/kv/txn");
	json_t *cmp = first(j, "compare", NULL);
	str_is(cmp, "key", "bQ==");
	str_is(cmp, "target", "VERSION");
	str_is(cmp, "version", "4");
	str_is(nth(j, "success", 0, "request_put"), "key", "azE=");
	str_is(nth(j, "success", 0, "request_put"), "value", "djE=");
	str_is(nth(j, "success", 1, "request_put"), "key", "bQ==");
	str_is(nth(j, "failure", 0, "request_range"), "key", "bQ==");
	str_is(nth(j, "failure", 1, "request_range"), "key", "azE=");
	json_decref(j);

	/* vput: both versions compared */
	r = once(ETCD_VPUT, "k1", "v1", 3, 1);
	j = build(&r, &path);
	json_t *cmps = json_object_get(j, "compare");
	cr_assert_eq(json_array_size(cmps), 2);
	str_is(json_array_get(cmps, 0), "version", "0");
	str_is(json_array_get(cmps, 1), "key", "azE=");
	str_is(json_array_get(cmps, 1), "version", "3");
	json_decref(j);

	/* del: a nested txn that records in the marker whether it removed the key */
	r = once(ETCD_DEL, "k1", NULL, 0, 2);
	j = build(&r, &path);
	json_t *inner = nth(j, "success", 0, "request_txn");
	str_is(first(inner, "compare", NULL), "result", "GREATER");
	str_is(nth(inner, "success", 0, "request_delete_range"), "key", "azE=");
	str_is(nth(inner, "success", 1, "request_put"), "value", "MQ==");
	str_is(first(inner, "failure", "request_put"), "value", "MA==");
	json_decref(j);

	/* a get carries no marker */
	r = once(ETCD_GET, "k1", NULL, 0, 9);
	j = build(&r, &path);
	cr_assert_str_eq(path, "/v3/kv/range");
	json_decref(j);
}

Test(etcd_parse, once)
{
	struct etcd_reply r;
	struct etcd_request put = once(ETCD_PUT, "k1", "v1", 0, 5);
	parse_ok(&put, 200, "{\"succeeded\":true,\"responses\":[{\"response_put\":{}},{\"response_put\":{}}]}", &r);
	cr_assert_eq(r.outcome, ETCD_OK);
	/* the marker is at 5 already: an earlier attempt took effect */
	parse_ok(&put, 200,
		 "{\"responses\":[{\"response_range\":{\"kvs\":[{\"key\":\"bQ==\",\"version\":\"5\"}]}},"
		 "{\"response_range\":{}}]}", &r);
	cr_assert_eq(r.outcome, ETCD_ALREADY);
	/* the marker behind the operation: someone else's, an error in words */
	char body[] = "{\"responses\":[{\"response_range\":{\"kvs\":[{\"key\":\"bQ==\",\"version\":\"2\"}]}},"
		      "{\"response_range\":{}}]}";
	cr_assert_eq(etcd_parse(&put, 200, body, strlen(body), &r), -1);
	cr_assert(strstr(r.err, "marker is behind"), "%s", r.err);

	/* vput: the marker where it was, the key's version not the one asked */
	struct etcd_request vput = once(ETCD_VPUT, "k1", "v1", 3, 5);
	parse_ok(&vput, 200,
		 "{\"responses\":[{\"response_range\":{\"kvs\":[{\"key\":\"bQ==\",\"version\":\"4\"}]}},"
		 "{\"response_range\":{\"kvs\":[{\"key\":\"azE=\",\"version\":\"6\",\"value\":\"eA==\"}]}}]}", &r);
	cr_assert_eq(r.outcome, ETCD_FAILED_COMPARE);
	cr_assert(r.found);
	cr_assert_eq(r.version, 6);

	/* del: the nested txn says whether the key was there; a retry reads it
	 * from the marker's value */
	struct etcd_request del = once(ETCD_DEL, "k1", NULL, 0, 5);
	parse_ok(&del, 200, "{\"succeeded\":true,\"responses\":[{\"response_txn\":{\"succeeded\":true}}]}", &r);
	cr_assert_eq(r.outcome, ETCD_OK);
	cr_assert_eq(r.deleted, 1);
	parse_ok(&del, 200, "{\"succeeded\":true,\"responses\":[{\"response_txn\":{}}]}", &r);
	cr_assert_eq(r.deleted, 0);
	parse_ok(&del, 200,
		 "{\"responses\":[{\"response_range\":{\"kvs\":[{\"key\":\"bQ==\",\"version\":\"5\",\"value\":\"MQ==\"}]}},"
		 "{\"response_range\":{}}]}", &r);
	cr_assert_eq(r.outcome, ETCD_ALREADY);
	cr_assert_eq(r.deleted, 1);
	/* malformed: a success without its nested answer */
	char bad_body[] = "{\"succeeded\":true,\"responses\":[{\"response_put\":{}}]}";
	cr_assert_eq(etcd_parse(&del, 200, bad_body, strlen(bad_body), &r), -1);
}

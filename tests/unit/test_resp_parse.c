/*
 * test_resp_parse.c — unit tests of the RESP2 parser and reply encoders
 * (src/gateway/resp_parse.c).
 *
 * Arrays of bulk strings (binary-safe, empty, the most arguments), inline
 * commands with Redis's quoting, several requests back to back (what a
 * pipelining client sends), every prefix of a request asking for more and
 * consuming nothing, every kind of malformed input refused in Redis's
 * words, the bounds (bulk length, argument count, inline length), random
 * garbage never crashing or reading past the end, and the encoders' exact
 * bytes.  Deterministic: a fixed seed.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/rng.h"
#include "../../src/gateway/resp_parse.h"

static struct resp_request req;

/* Parse text (a copy: inline parsing writes); expect a request of `argc`
 * arguments using all of it. */
static uint8_t *parse_all(const char *text, size_t len, size_t argc)
{
	uint8_t *buf = malloc(len + 1);
	memcpy(buf, text, len);
	size_t used = 0;
	const char *why = NULL;
	enum resp_parse_result r = resp_parse(buf, len, &req, &used, &why);
	cr_assert_eq(r, RESP_REQUEST, "\"%.*s\": %d (%s)", (int)len, text, r, why ? why : "");
	cr_assert_eq(used, len, "used %zu of %zu", used, len);
	cr_assert_eq(req.argc, argc, "%zu arguments, expected %zu", req.argc, argc);
	return buf;
}

static void arg_is(size_t i, const char *want, size_t len)
{
	cr_assert_eq(req.argl[i], len, "argument %zu: %zu bytes, expected %zu", i, req.argl[i], len);
	cr_assert(memcmp(req.argv[i], want, len) == 0, "argument %zu: \"%.*s\"", i, (int)len,
		  (const char *)req.argv[i]);
}

static void expect_bad(const char *text, size_t len, const char *why_part)
{
	uint8_t *buf = malloc(len + 1);
	memcpy(buf, text, len);
	size_t used = 0;
	const char *why = NULL;
	cr_assert_eq(resp_parse(buf, len, &req, &used, &why), RESP_BAD, "accepted: %.*s", (int)len, text);
	cr_assert_not_null(why);
	cr_assert(strstr(why, why_part), "\"%s\", expected \"%s\"", why, why_part);
	cr_assert(strncmp(why, "Protocol error: ", 16) == 0, "%s", why);
	free(buf);
}

static void expect_more(const char *text, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	memcpy(buf, text, len);
	size_t used = 12345;
	const char *why = NULL;
	cr_assert_eq(resp_parse(buf, len, &req, &used, &why), RESP_MORE, "%zu bytes of \"%s\"", len, text);
	cr_assert_eq(used, 12345, "RESP_MORE consumed something");
	free(buf);
}

#define S(lit) lit, sizeof(lit) - 1

Test(resp, arrays_of_bulk_strings)
{
	uint8_t *b = parse_all(S("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhello\r\n"), 3);
	arg_is(0, "SET", 3);
	arg_is(1, "a", 1);
	arg_is(2, "hello", 5);
	free(b);
	/* binary-safe: CR, LF and NUL inside a bulk string */
	b = parse_all(S("*2\r\n$3\r\nGET\r\n$5\r\na\r\n\0b\r\n"), 2);
	arg_is(1, "a\r\n\0b", 5);
	free(b);
	/* the empty string */
	b = parse_all(S("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), 2);
	arg_is(1, "", 0);
	free(b);
	/* *0 and *-1: nothing to do, consumed */
	b = parse_all(S("*0\r\n"), 0);
	free(b);
	b = parse_all(S("*-1\r\n"), 0);
	free(b);
}

Test(resp, the_most_arguments)
{
	size_t cap = 16 + RESP_MAX_ARGS * 8;
	char *text = malloc(cap);
	size_t n = (size_t)snprintf(text, cap, "*%d\r\n", RESP_MAX_ARGS);
	for (int i = 0; i < RESP_MAX_ARGS; i++)
		n += (size_t)snprintf(text + n, cap - n, "$1\r\nk\r\n");
	uint8_t *b = parse_all(text, n, RESP_MAX_ARGS);
	free(b);
	n = (size_t)snprintf(text, cap, "*%d\r\n", RESP_MAX_ARGS + 1);
	expect_bad(text, n, "invalid multibulk length");
	free(text);
}

Test(resp, inline_commands)
{
	uint8_t *b = parse_all(S("SET a 1\r\n"), 3);
	arg_is(0, "SET", 3);
	arg_is(2, "1", 1);
	free(b);
	/* a bare LF ends the line too; runs of blanks separate */
	b = parse_all(S("  get\t \tkey  \n"), 2);
	arg_is(0, "get", 3);
	arg_is(1, "key", 3);
	free(b);
	/* Redis's quoting */
	b = parse_all(S("SET \"a b\" 'c d'\r\n"), 3);
	arg_is(1, "a b", 3);
	arg_is(2, "c d", 3);
	free(b);
	b = parse_all(S("SET k \"\\x41\\n\\t\\\"q\\\\\"\r\n"), 3);
	arg_is(2, "A\n\t\"q\\", 6);
	free(b);
	b = parse_all(S("SET k 'it\\'s'\r\n"), 3);
	arg_is(2, "it's", 4);
	free(b);
	b = parse_all(S("SET k \"\"\r\n"), 3);
	arg_is(2, "", 0);
	free(b);
	/* an empty line: nothing to do */
	b = parse_all(S("\r\n"), 0);
	free(b);
	b = parse_all(S("   \n"), 0);
	free(b);
}

Test(resp, pipelined_requests_one_at_a_time)
{
	char text[] = "*1\r\n$4\r\nPING\r\nGET a\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n\r\nQUIT\r\n";
	size_t len = sizeof(text) - 1, at = 0;
	const char *names[] = { "PING", "GET", "INCR", NULL, "QUIT" };
	for (size_t i = 0; i < 5; i++) {
		size_t used = 0;
		const char *why;
		cr_assert_eq(resp_parse((uint8_t *)text + at, len - at, &req, &used, &why), RESP_REQUEST);
		if (names[i])
			arg_is(0, names[i], strlen(names[i]));
		else
			cr_assert_eq(req.argc, 0);
		at += used;
	}
	cr_assert_eq(at, len);
	size_t used;
	const char *why;
	cr_assert_eq(resp_parse((uint8_t *)text + at, 0, &req, &used, &why), RESP_MORE);
}

Test(resp, every_prefix_asks_for_more)
{
	static const char *const whole[] = {
		"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$10\r\n0123456789\r\n",
		"SET \"quoted\" value\r\n",
		"*1\r\n$0\r\n\r\n",
	};
	for (size_t w = 0; w < sizeof(whole) / sizeof(whole[0]); w++) {
		size_t len = strlen(whole[w]);
		for (size_t n = 0; n < len; n++) {
			/* an inline line is whole at its LF: only the CR before it may be missing */
			if (whole[w][0] != '*' && n == len - 1)
				continue;
			expect_more(whole[w], n);
		}
		static const size_t argc[] = { 3, 3, 1 };
		free(parse_all(whole[w], len, argc[w]));
	}
}

Test(resp, malformed_input_in_redis_words)
{
	expect_bad(S("*x\r\n"), "invalid multibulk length");
	expect_bad(S("*1x\r\n"), "invalid multibulk length");
	expect_bad(S("*1\rx"), "invalid multibulk length");
	expect_bad(S("*\r\n"), "invalid multibulk length");
	expect_bad(S("*2\r\n:1\r\n"), "expected '$', got ':'");
	expect_bad(S("*1\r\n\x01"), "expected '$', got '\\x01'");
	expect_bad(S("*1\r\n$x\r\n"), "invalid bulk length");
	expect_bad(S("*1\r\n$-1\r\n"), "invalid bulk length");
	expect_bad(S("*1\r\n$3\r\nabcXY"), "expected CRLF after a bulk string");
	expect_bad(S("GET \"abc\r\n"), "unbalanced quotes");
	expect_bad(S("GET 'abc\r\n"), "unbalanced quotes");
	expect_bad(S("GET \"a\"b\r\n"), "unbalanced quotes");
	/* a count line that never ends */
	char many[64];
	memset(many, '1', sizeof(many));
	many[0] = '*';
	expect_bad(many, sizeof(many), "invalid multibulk length");
	many[0] = '$';
	char arr[80] = "*1\r\n";
	memcpy(arr + 4, many, sizeof(many));
	expect_bad(arr, 4 + sizeof(many), "invalid bulk length");
}

Test(resp, bounds)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "*1\r\n$%u\r\n", RESP_MAX_BULK + 1);
	expect_bad(text, (size_t)n, "invalid bulk length");
	n = snprintf(text, sizeof(text), "*1\r\n$%u\r\n", RESP_MAX_BULK);
	expect_more(text, (size_t)n);                    /* allowed: waiting for the bytes */
	n = snprintf(text, sizeof(text), "*1\r\n$99999999999999999999\r\n");
	expect_bad(text, (size_t)n, "invalid bulk length");
	/* an inline line longer than RESP_MAX_INLINE, with or without its end */
	size_t big = RESP_MAX_INLINE + 2;
	char *line = malloc(big + 2);
	memset(line, 'a', big);
	expect_bad(line, big, "too big inline request");
	line[big] = '\n';
	expect_bad(line, big + 1, "too big inline request");
	free(line);
}

Test(resp, garbage_never_crashes)
{
	/* random bytes, biased towards the protocol's own characters: the
	 * parser answers, within the buffer (ASan watches the bounds) */
	static const char alphabet[] = "*$\r\n0123456789-\"' \\xab";
	struct rng g;
	rng_seed(&g, 6379);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)rng_range(&g, 0, 48);
		uint8_t *buf = malloc(n ? n : 1);
		for (size_t j = 0; j < n; j++)
			buf[j] = rng_range(&g, 0, 4) ? (uint8_t)alphabet[rng_range(&g, 0, sizeof(alphabet) - 1)]
						     : (uint8_t)rng_next(&g);
		size_t used = 0;
		const char *why = NULL;
		enum resp_parse_result r = resp_parse(buf, n, &req, &used, &why);
		if (r == RESP_REQUEST) {
			cr_assert(used >= 1 && used <= n);
			for (size_t a = 0; a < req.argc; a++)
				cr_assert(req.argv[a] >= buf && req.argv[a] + req.argl[a] <= buf + n);
		} else if (r == RESP_BAD) {
			cr_assert_not_null(why);
		}
		free(buf);
	}
}

/* ---- replies --------------------------------------------------------------- */

static void expect_bytes(struct resp_buf *b, const char *want, size_t len)
{
	cr_assert(!b->failed);
	cr_assert_eq(b->len, len, "%zu bytes, expected %zu: \"%.*s\"", b->len, len, (int)b->len, b->p);
	cr_assert(memcmp(b->p, want, len) == 0, "\"%.*s\"", (int)b->len, b->p);
	b->len = 0;
}

Test(resp, replies)
{
	struct resp_buf b = { 0 };
	resp_simple(&b, "OK");
	expect_bytes(&b, S("+OK\r\n"));
	resp_error(&b, "ERR unknown command '%s'", "FOO");
	expect_bytes(&b, S("-ERR unknown command 'FOO'\r\n"));
	resp_error(&b, "ERR a\r\nb");                    /* a line break would end the reply */
	expect_bytes(&b, S("-ERR a  b\r\n"));
	resp_int(&b, -42);
	expect_bytes(&b, S(":-42\r\n"));
	resp_int(&b, INT64_MIN);
	expect_bytes(&b, S(":-9223372036854775808\r\n"));
	resp_bulk(&b, "a\r\nb", 4);
	expect_bytes(&b, S("$4\r\na\r\nb\r\n"));
	resp_bulk(&b, NULL, 0);
	expect_bytes(&b, S("$0\r\n\r\n"));
	resp_nil(&b);
	expect_bytes(&b, S("$-1\r\n"));
	resp_array(&b, 2);
	resp_bulk(&b, "save", 4);
	resp_bulk(&b, "", 0);
	expect_bytes(&b, S("*2\r\n$4\r\nsave\r\n$0\r\n\r\n"));
	/* growth across many replies */
	for (int i = 0; i < 10000; i++)
		resp_simple(&b, "PONG");
	cr_assert_eq(b.len, 10000 * 7);
	resp_buf_free(&b);
	cr_assert_null(b.p);
}

Test(resp, quote)
{
	char out[32];
	resp_quote(out, sizeof(out), (const uint8_t *)"ab'c\n", 5, 100);
	cr_assert_str_eq(out, "ab\\x27c\\x0a");
	resp_quote(out, sizeof(out), (const uint8_t *)"abcdef", 6, 3);
	cr_assert_str_eq(out, "abc");
	resp_quote(out, 4, (const uint8_t *)"abcdef", 6, 100);
	cr_assert_str_eq(out, "abc");
	resp_quote(out, 6, (const uint8_t *)"\x01\x02", 2, 100);
	cr_assert_str_eq(out, "\\x01");
}

/*
 * resp_parse.c — RESP2 requests and replies.  See resp_parse.h.
 *
 * The parser looks at a whole request or at nothing: it returns RESP_MORE
 * without consuming anything until every byte of the request is there, so
 * the caller simply parses again from the same place when more arrives.
 * Every length is checked against what is left before anything is read.
 * The error words are Redis's (networking.c), so clients that know them
 * show them as they would for Redis.
 */
#include "resp_parse.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_LINE_MAX 32                    /* "*N\r\n" / "$N\r\n": a number, a sign, CRLF */

/* ---- parsing ------------------------------------------------------------- */

static const uint8_t *find(const uint8_t *p, size_t n, uint8_t ch)
{
	return n ? memchr(p, ch, n) : NULL;
}

/* A decimal in p[0..n): optional '-', 1 to 18 digits.  False if not. */
static bool parse_count(const uint8_t *p, size_t n, int64_t *v)
{
	size_t i = 0;
	bool neg = false;
	int64_t x = 0;
	if (n && p[0] == '-')
		neg = true, i = 1;
	if (i == n || n - i > 18)
		return false;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		x = x * 10 + (p[i] - '0');
	}
	*v = neg ? -x : x;
	return true;
}

/* The line "<prefix>N\r\n" at p: RESP_REQUEST with *v and *line_len (CRLF
 * included), RESP_MORE, or RESP_BAD with why. */
static int count_line(const uint8_t *p, size_t n, int64_t *v, size_t *line_len,
		      const char *bad, const char **why)
{
	size_t look = n < COUNT_LINE_MAX ? n : COUNT_LINE_MAX;
	const uint8_t *cr = find(p, look, '\r');
	if (!cr) {
		if (n >= COUNT_LINE_MAX) {
			*why = bad;
			return RESP_BAD;
		}
		return RESP_MORE;
	}
	size_t at = (size_t)(cr - p);
	if (at + 1 == n)
		return RESP_MORE;
	if (p[at + 1] != '\n' || !parse_count(p + 1, at - 1, v)) {
		*why = bad;
		return RESP_BAD;
	}
	*line_len = at + 2;
	return RESP_REQUEST;
}

static enum resp_parse_result parse_multibulk(uint8_t *buf, size_t len, struct resp_request *req,
					      size_t *used, const char **why)
{
	int64_t n, blen;
	size_t at, line;
	int r = count_line(buf, len, &n, &line, "Protocol error: invalid multibulk length", why);
	if (r != RESP_REQUEST)
		return (enum resp_parse_result)r;
	if (n > RESP_MAX_ARGS) {
		*why = "Protocol error: invalid multibulk length";
		return RESP_BAD;
	}
	at = line;
	req->argc = 0;
	for (int64_t i = 0; i < n; i++) {
		if (at == len)
			return RESP_MORE;
		if (buf[at] != '$') {
			uint8_t ch = buf[at];
			if (ch >= 0x20 && ch < 0x7f)
				snprintf(req->why, sizeof req->why, "Protocol error: expected '$', got '%c'", ch);
			else
				snprintf(req->why, sizeof req->why, "Protocol error: expected '$', got '\\x%02x'", ch);
			*why = req->why;
			return RESP_BAD;
		}
		r = count_line(buf + at, len - at, &blen, &line, "Protocol error: invalid bulk length", why);
		if (r != RESP_REQUEST)
			return (enum resp_parse_result)r;
		if (blen < 0 || blen > (int64_t)RESP_MAX_BULK) {
			*why = "Protocol error: invalid bulk length";
			return RESP_BAD;
		}
		at += line;
		if (len - at < (size_t)blen + 2)
			return RESP_MORE;
		if (buf[at + blen] != '\r' || buf[at + blen + 1] != '\n') {
			*why = "Protocol error: expected CRLF after a bulk string";
			return RESP_BAD;
		}
		req->argv[req->argc] = buf + at;
		req->argl[req->argc] = (size_t)blen;
		req->argc++;
		at += (size_t)blen + 2;
	}
	*used = at;
	return RESP_REQUEST;
}

static bool is_space(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int hex_digit(uint8_t ch)
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
 * Split one line into words as Redis's sdssplitargs does, unquoting in
 * place: the write position never passes the read position, so each word
 * is rewritten over its own bytes.  False on unbalanced quotes (or a
 * closing quote not followed by a space).
 */
static bool split_line(uint8_t *p, size_t n, struct resp_request *req, const char **why)
{
	size_t r = 0, w = 0;
	req->argc = 0;
	for (;;) {
		while (r < n && is_space(p[r]))
			r++;
		if (r == n)
			return true;
		if (req->argc == RESP_MAX_ARGS) {
			*why = "Protocol error: too many arguments in an inline request";
			return false;
		}
		size_t start = w;
		uint8_t quote = 0;
		if (p[r] == '"' || p[r] == '\'')
			quote = p[r++];
		for (;;) {
			if (r == n) {
				if (quote) {
					*why = "Protocol error: unbalanced quotes in request";
					return false;
				}
				break;
			}
			uint8_t ch = p[r];
			if (!quote) {
				if (is_space(ch))
					break;
				p[w++] = ch, r++;
			} else if (ch == quote) {
				r++;
				if (r < n && !is_space(p[r])) {
					*why = "Protocol error: unbalanced quotes in request";
					return false;
				}
				break;
			} else if (ch == '\\' && quote == '"' && r + 3 < n && p[r + 1] == 'x' &&
				   hex_digit(p[r + 2]) >= 0 && hex_digit(p[r + 3]) >= 0) {
				p[w++] = (uint8_t)(hex_digit(p[r + 2]) * 16 + hex_digit(p[r + 3]));
				r += 4;
			} else if (ch == '\\' && r + 1 < n && quote == '"') {
				uint8_t e = p[r + 1];
				p[w++] = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' :
					 e == 'b' ? '\b' : e == 'a' ? '\a' : e;
				r += 2;
			} else if (ch == '\\' && r + 1 < n && quote == '\'' && p[r + 1] == '\'') {
				p[w++] = '\'';
				r += 2;
			} else {
				p[w++] = ch, r++;
			}
		}
		req->argv[req->argc] = p + start;
		req->argl[req->argc] = w - start;
		req->argc++;
	}
}

static enum resp_parse_result parse_inline(uint8_t *buf, size_t len, struct resp_request *req,
					   size_t *used, const char **why)
{
	const uint8_t *nl = find(buf, len, '\n');
	if (!nl) {
		if (len > RESP_MAX_INLINE) {
			*why = "Protocol error: too big inline request";
			return RESP_BAD;
		}
		return RESP_MORE;
	}
	size_t n = (size_t)(nl - buf);
	if (n > RESP_MAX_INLINE) {
		*why = "Protocol error: too big inline request";
		return RESP_BAD;
	}
	*used = n + 1;
	if (n && buf[n - 1] == '\r')
		n--;
	if (!split_line(buf, n, req, why))
		return RESP_BAD;
	return RESP_REQUEST;
}

enum resp_parse_result resp_parse(uint8_t *buf, size_t len, struct resp_request *req,
				  size_t *used, const char **why)
{
	*why = NULL;
	req->argc = 0;
	if (len == 0)
		return RESP_MORE;
	if (buf[0] == '*')
		return parse_multibulk(buf, len, req, used, why);
	return parse_inline(buf, len, req, used, why);
}

/* ---- replies ------------------------------------------------------------- */

void resp_buf_free(struct resp_buf *b)
{
	free(b->p);
	*b = (struct resp_buf){ 0 };
}

static bool reserve(struct resp_buf *b, size_t more)
{
	if (b->failed)
		return false;
	if (more <= b->cap - b->len)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < more) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		cap *= 2;
	}
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void resp_add(struct resp_buf *b, const void *p, size_t n)
{
	if (!n || !reserve(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void add_line(struct resp_buf *b, char type, const char *text, size_t n)
{
	if (!reserve(b, n + 3))
		return;
	b->p[b->len++] = (uint8_t)type;
	for (size_t i = 0; i < n; i++)
		b->p[b->len++] = text[i] == '\r' || text[i] == '\n' ? ' ' : (uint8_t)text[i];
	b->p[b->len++] = '\r';
	b->p[b->len++] = '\n';
}

void resp_simple(struct resp_buf *b, const char *s)
{
	add_line(b, '+', s, strlen(s));
}

void resp_error(struct resp_buf *b, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	add_line(b, '-', text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

void resp_int(struct resp_buf *b, int64_t v)
{
	char text[32];
	int n = snprintf(text, sizeof text, "%" PRId64, v);
	add_line(b, ':', text, (size_t)n);
}

void resp_bulk(struct resp_buf *b, const void *p, size_t n)
{
	char head[32];
	int h = snprintf(head, sizeof head, "$%zu\r\n", n);
	if (!reserve(b, (size_t)h + n + 2))
		return;
	resp_add(b, head, (size_t)h);
	resp_add(b, p, n);
	resp_add(b, "\r\n", 2);
}

void resp_nil(struct resp_buf *b)
{
	resp_add(b, "$-1\r\n", 5);
}

void resp_array(struct resp_buf *b, size_t n)
{
	char head[32];
	int h = snprintf(head, sizeof head, "*%zu\r\n", n);
	resp_add(b, head, (size_t)h);
}

void resp_quote(char *out, size_t len, const uint8_t *p, size_t n, size_t max)
{
	size_t at = 0;
	if (!len)
		return;
	for (size_t i = 0; i < n && i < max; i++) {
		uint8_t ch = p[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\') {
			if (at + 1 >= len)
				break;
			out[at++] = (char)ch;
		} else {
			if (at + 4 >= len)
				break;
			at += (size_t)snprintf(out + at, len - at, "\\x%02x", ch);
		}
	}
	out[at] = 0;
}

/*
 * resp_parse.h — the Redis protocol (RESP2) as pure functions: requests
 * parsed out of a client's bytes, replies encoded into a growable buffer.
 *
 * A request is either an array of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\na\r\n",
 * what every client library and redis-cli send) or an inline command, one
 * line of words ("GET a\r\n", what a person types into nc), with Redis's
 * quoting: "double quotes" with \n \r \t \b \a \\ \" \xHH escapes, 'single
 * quotes' with \' only.  Bad input is never guessed at: the parser says
 * "Protocol error: ..." in Redis's words and the caller closes the
 * connection, as Redis does.
 *
 * Everything is bounded: RESP_MAX_ARGS arguments, bulk strings of at most
 * RESP_MAX_BULK bytes, inline lines of at most RESP_MAX_INLINE.  The caller
 * bounds its buffer too (a request must fit in it).
 *
 * Pure: no I/O, no clock, no global state; the encoders only allocate.
 */
#ifndef TERMSCOPE_RESP_PARSE_H
#define TERMSCOPE_RESP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESP_MAX_ARGS 1024
#define RESP_MAX_BULK (512u << 10)           /* bytes in one argument */
#define RESP_MAX_INLINE (64u << 10)          /* bytes in one inline line */

/* One request: its arguments point into the parsed buffer. */
struct resp_request {
	size_t argc;                         /* 0: an empty line or "*0": nothing to do */
	const uint8_t *argv[RESP_MAX_ARGS];
	size_t argl[RESP_MAX_ARGS];
	char why[64];                        /* room for an error's words */
};

enum resp_parse_result {
	RESP_BAD = -1,                       /* *why: "Protocol error: ..."; close the connection */
	RESP_MORE = 0,                       /* not a whole request yet: read more, nothing consumed */
	RESP_REQUEST = 1,                    /* *req filled from the first *used bytes */
};

/* Parse the request at the start of buf[0..len).  An inline request's
 * arguments are unquoted in place, so buf is written (only within the
 * bytes consumed). */
enum resp_parse_result resp_parse(uint8_t *buf, size_t len, struct resp_request *req,
				  size_t *used, const char **why);

/* Replies, appended to a growable buffer.  A failed allocation sets
 * `failed` and leaves the buffer as it was: check it once at the end. */
struct resp_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

void resp_buf_free(struct resp_buf *b);
void resp_add(struct resp_buf *b, const void *p, size_t n);          /* raw bytes */
void resp_simple(struct resp_buf *b, const char *s);                 /* +s */
/* -text: "ERR ..." etc.  CR and LF (which would end the line) become spaces. */
void resp_error(struct resp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void resp_int(struct resp_buf *b, int64_t v);                        /* :v */
void resp_bulk(struct resp_buf *b, const void *p, size_t n);         /* $n then the bytes */
void resp_nil(struct resp_buf *b);                                   /* $-1 */
void resp_array(struct resp_buf *b, size_t n);                       /* *n: n replies follow */

/* Text for an error message: at most max bytes of p, printable ASCII kept,
 * anything else as \xHH (Redis's quoting in "unknown command" errors).
 * Always NUL-terminated when len > 0. */
void resp_quote(char *out, size_t len, const uint8_t *p, size_t n, size_t max);

#endif

/*
 * test_proxy.c — unit tests of the hub's TCP proxy ports (src/hub/proxy.c).
 *
 * Each test runs a libuv loop of its own with an echo server on
 * 127.0.0.1:0 as the target and a proxy listener for endpoint 2 in front of
 * it; clients are libuv sockets of this same process, so registering
 * getpid() as endpoint 1 makes them endpoint 1's connections.  The loop is
 * run until a condition holds or a uv timer says the time is up (never
 * sleep), so "nothing arrived" means nothing arrived within that bound.
 *
 * Covered: who connected (the `from` allow() is asked about), bytes both
 * ways, a cut link stalling bytes and the heal delivering them intact and
 * in order (also when allow() changed before anyone called proxy_recheck),
 * several megabytes byte-exact in both directions and across a cut reply
 * path, a cut pushing back on the sender (the proxy does not buffer), a
 * half-close passing through, a target that is down or reset mid-transfer
 * (no SIGPIPE), proxy_drop_node, proxy_free with connections open and a
 * connect still pending, the counters, and proxy_owner on sockets of this
 * process (IPv4 and v4-mapped IPv6).  Every test ends in finish(), which
 * checks that done was called, the loop closes, and (under ASan) that
 * nothing leaked.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "../../src/hub/proxy.h"

static uv_loop_t loop;
static uv_timer_t timer;
static bool timed_out;
static struct proxy *px;
static bool px_done;

/* ---- the network model the proxy asks ---------------------------------- */

static bool cut[PROXY_MAX_NODES + 1][PROXY_MAX_NODES + 1];
static unsigned asked[PROXY_MAX_NODES + 1][PROXY_MAX_NODES + 1];

static bool allow(void *ud, uint32_t from, uint32_t to)
{
	cr_assert(from <= PROXY_MAX_NODES && to <= PROXY_MAX_NODES, "allow(%u, %u)", from, to);
	asked[from][to]++;
	return !cut[from][to];
}

/* ---- growing byte buffers ---------------------------------------------- */

struct bytes {
	char *p;
	size_t len, cap;
};

static void bytes_add(struct bytes *b, const char *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		cr_assert_not_null(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	*buf = uv_buf_init(malloc(65536), 65536);
}

/* ---- the echo server (the target) ---------------------------------------- */

#define MAX_ECHO 16

struct echo_conn {
	uv_tcp_t tcp;
	bool open;
};

static uv_tcp_t echo_srv;
static int echo_port;
static struct echo_conn echo_conns[MAX_ECHO];
static int n_echo;
static struct bytes echo_got;                    /* what reached the target */

struct echo_write {
	uv_write_t req;
	char *data;
};

static void echo_closed(uv_handle_t *h)
{
	((struct echo_conn *)h->data)->open = false;
}

static void echo_written(uv_write_t *req, int status)
{
	struct echo_write *w = req->data;
	free(w->data);
	free(w);
}

static void echo_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	if (nread > 0) {
		bytes_add(&echo_got, buf->base, (size_t)nread);
		struct echo_write *w = malloc(sizeof *w);
		w->data = buf->base;
		w->req.data = w;
		uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
		cr_assert_eq(uv_write(&w->req, s, &b, 1, echo_written), 0);
		return;
	}
	free(buf->base);
	if (nread < 0 && !uv_is_closing((uv_handle_t *)s))
		uv_close((uv_handle_t *)s, echo_closed);
}

static void echo_accept(uv_stream_t *server, int status)
{
	cr_assert_eq(status, 0);
	cr_assert_lt(n_echo, MAX_ECHO);
	struct echo_conn *e = &echo_conns[n_echo++];
	uv_tcp_init(&loop, &e->tcp);
	e->tcp.data = e;
	e->open = true;
	cr_assert_eq(uv_accept(server, (uv_stream_t *)&e->tcp), 0);
	cr_assert_eq(uv_read_start((uv_stream_t *)&e->tcp, alloc_cb, echo_read), 0);
}

/* ---- clients --------------------------------------------------------------- */

struct client {
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	bool inited, connected, wrote, write_done, ended, closed;
	int end;                                 /* UV_EOF or the error that ended reading */
	int write_status;                        /* of the last write done */
	struct bytes got;
};

static struct client clients[4];

static void client_closed(uv_handle_t *h)
{
	((struct client *)h->data)->closed = true;
}

static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client *k = s->data;
	if (nread > 0)
		bytes_add(&k->got, buf->base, (size_t)nread);
	free(buf->base);
	if (nread < 0) {
		k->ended = true;
		k->end = (int)nread;
		uv_read_stop(s);
	}
}

static void client_connected(uv_connect_t *req, int status)
{
	struct client *k = req->data;
	cr_assert_eq(status, 0, "connect: %s", uv_strerror(status));
	k->connected = true;
	cr_assert_eq(uv_read_start((uv_stream_t *)&k->tcp, alloc_cb, client_read), 0);
}

static void client_open(struct client *k, int port)
{
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", port, &addr);
	uv_tcp_init(&loop, &k->tcp);
	k->tcp.data = k;
	k->connect.data = k;
	k->inited = true;
	cr_assert_eq(uv_tcp_connect(&k->connect, &k->tcp, (const struct sockaddr *)&addr, client_connected), 0);
}

static void client_wrote(uv_write_t *req, int status)
{
	struct client *k = req->data;
	k->wrote = status == 0;
	k->write_done = true;
	k->write_status = status;
}

/* data must outlive the write. */
static void client_send(struct client *k, const char *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	k->write.data = k;
	k->wrote = k->write_done = false;
	cr_assert_eq(uv_write(&k->write, (uv_stream_t *)&k->tcp, &b, 1, client_wrote), 0);
}

/* ---- running the loop -------------------------------------------------------- */

static uint64_t deadline;

static void on_tick(uv_timer_t *t)
{
	if (uv_now(&loop) >= deadline)
		timed_out = true;
}

/* A repeating tick rather than one timeout: UV_RUN_ONCE runs due timers
 * before it polls, and a lone timer that fired there would leave the poll
 * waiting for I/O that may never come. */
static void arm(uint64_t ms)
{
	timed_out = false;
	uv_update_time(&loop);
	deadline = uv_now(&loop) + ms;
	uv_timer_start(&timer, on_tick, 10, 10);
}

static bool spin(void)
{
	if (timed_out)
		return false;
	uv_run(&loop, UV_RUN_ONCE);
	return true;
}

/* Run the loop until cond holds or ms have passed. */
#define RUN_UNTIL(cond, ms)                      \
	do {                                     \
		arm(ms);                         \
		while (!(cond) && spin()) {      \
		}                                \
		uv_timer_stop(&timer);           \
	} while (0)

static void on_px_done(void *ud)
{
	cr_assert_eq(ud, &px_done);
	px_done = true;
}

/* A deterministic, non-repeating-looking pattern. */
static char *pattern(size_t len, uint32_t seed)
{
	char *p = malloc(len);
	cr_assert_not_null(p);
	uint32_t x = seed;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (char)(x >> 16);
	}
	return p;
}

/* ---- fixture ------------------------------------------------------------------ */

static int pport;                                 /* the proxy's port for endpoint 2 */

static void setup(void)
{
	cr_assert_eq(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &timer);
	memset(cut, 0, sizeof cut);
	memset(asked, 0, sizeof asked);
	memset(clients, 0, sizeof clients);
	memset(echo_conns, 0, sizeof echo_conns);
	memset(&echo_got, 0, sizeof echo_got);
	n_echo = 0;
	px_done = false;

	struct sockaddr_in addr;
	struct sockaddr_storage ss;
	int len = sizeof ss;
	uv_ip4_addr("127.0.0.1", 0, &addr);
	uv_tcp_init(&loop, &echo_srv);
	cr_assert_eq(uv_tcp_bind(&echo_srv, (const struct sockaddr *)&addr, 0), 0);
	cr_assert_eq(uv_listen((uv_stream_t *)&echo_srv, 128, echo_accept), 0);
	cr_assert_eq(uv_tcp_getsockname(&echo_srv, (struct sockaddr *)&ss, &len), 0);
	echo_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);

	px = proxy_new(&loop, allow, NULL);
	cr_assert_not_null(px);
	cr_assert_eq(proxy_listen(px, 2, echo_port, &pport), 0);
	cr_assert_gt(pport, 0);
}

static void close_if_open(uv_handle_t *h, uv_close_cb cb)
{
	if (!uv_is_closing(h))
		uv_close(h, cb);
}

/* The end of every test: close everything, and check that the proxy
 * called done, left no handle on the loop and no memory behind.  Called
 * from the test's body, as a failed assertion in a .fini does not fail the
 * test. */
static void finish(void)
{
	if (px && !px_done)
		proxy_free(px, on_px_done, &px_done);
	for (int i = 0; i < 4; i++)
		if (clients[i].inited)
			close_if_open((uv_handle_t *)&clients[i].tcp, client_closed);
	for (int i = 0; i < n_echo; i++)
		close_if_open((uv_handle_t *)&echo_conns[i].tcp, echo_closed);
	uv_close((uv_handle_t *)&echo_srv, NULL);
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert(px_done, "proxy_free never called done");
	/* Every handle closed: the proxy left nothing behind on the loop. */
	cr_assert_eq(uv_loop_close(&loop), 0);
	for (int i = 0; i < 4; i++)
		free(clients[i].got.p);
	free(echo_got.p);
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer's own report at a worker's exit fails no test. */
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "leaks (see above)");
#endif
}

TestSuite(proxy, .init = setup, .timeout = 60);

/* ---- attribution ------------------------------------------------------------ */

Test(proxy, a_registered_process_is_its_endpoint)
{
	proxy_set_pid(px, 1, getpid());
	client_open(&clients[0], pport);
	RUN_UNTIL(proxy_conns(px, 1, 2) == 1, 5000);
	cr_assert_eq(proxy_conns(px, 1, 2), 1);
	cr_assert_eq(proxy_conns(px, 0, 2), 0);
	cr_assert_gt(asked[1][2], 0, "allow(1, 2) never asked");
	cr_assert_gt(asked[2][1], 0, "allow(2, 1) never asked");
	for (uint32_t f = 0; f <= PROXY_MAX_NODES; f++)
		for (uint32_t t = 0; t <= PROXY_MAX_NODES; t++)
			if (!((f == 1 && t == 2) || (f == 2 && t == 1)))
				cr_assert_eq(asked[f][t], 0, "allow(%u, %u) asked", f, t);
	finish();
}

Test(proxy, an_unknown_process_is_endpoint_0)
{
	/* Registered, but not us: the parent (the test runner). */
	proxy_set_pid(px, 1, getppid());
	client_open(&clients[0], pport);
	RUN_UNTIL(proxy_conns(px, 0, 2) == 1, 5000);
	cr_assert_eq(proxy_conns(px, 0, 2), 1);
	cr_assert_eq(proxy_conns(px, 1, 2), 0);
	cr_assert_gt(asked[0][2], 0);
	cr_assert_gt(asked[2][0], 0);
	cr_assert_eq(asked[1][2], 0);
	finish();
}

Test(proxy, a_pid_cleared_is_forgotten)
{
	proxy_set_pid(px, 1, getpid());
	proxy_set_pid(px, 1, 0);
	client_open(&clients[0], pport);
	RUN_UNTIL(proxy_conns(px, 0, 2) == 1, 5000);
	cr_assert_eq(proxy_conns(px, 0, 2), 1);
	finish();
}

/* ---- bytes ---------------------------------------------------------------------- */

Test(proxy, bytes_round_trip)
{
	static const char msg[] = "hello, etcd";
	size_t n = sizeof msg - 1;
	client_open(&clients[0], pport);
	RUN_UNTIL(clients[0].connected, 5000);
	client_send(&clients[0], msg, n);
	RUN_UNTIL(clients[0].got.len >= n, 5000);
	cr_assert_eq(clients[0].got.len, n);
	cr_assert(memcmp(clients[0].got.p, msg, n) == 0);
	cr_assert_eq(echo_got.len, n);
	cr_assert_eq(proxy_bytes(px, 0, 2), n);
	cr_assert_eq(proxy_bytes(px, 2, 0), n);
	cr_assert_eq(proxy_bytes(px, 1, 2), 0);
	cr_assert_eq(proxy_bytes(px, 99, 2), 0, "out of range is 0");
	cr_assert_eq(proxy_conns(px, 0, 99), 0, "out of range is 0");
	finish();
}

Test(proxy, a_cut_link_stalls_bytes_until_the_heal)
{
	proxy_set_pid(px, 1, getpid());
	cut[1][2] = true;
	client_open(&clients[0], pport);
	RUN_UNTIL(clients[0].connected && proxy_conns(px, 1, 2) == 1, 5000);
	cr_assert_eq(proxy_conns(px, 1, 2), 1);

	/* Several writes, so that order is tested across reads. */
	size_t n = 3000;
	char *data = pattern(n, 7);
	client_send(&clients[0], data, 1000);
	RUN_UNTIL(clients[0].wrote, 5000);
	client_send(&clients[0], data + 1000, 1000);
	RUN_UNTIL(clients[0].wrote, 5000);
	client_send(&clients[0], data + 2000, 1000);
	RUN_UNTIL(false, 300);
	cr_assert_eq(echo_got.len, 0, "%zu bytes crossed a cut link", echo_got.len);
	cr_assert_eq(clients[0].got.len, 0);
	cr_assert_eq(proxy_bytes(px, 1, 2), 0);

	/* Still cut after a recheck that changes nothing. */
	proxy_recheck(px);
	RUN_UNTIL(false, 100);
	cr_assert_eq(echo_got.len, 0);

	cut[1][2] = false;
	proxy_recheck(px);
	RUN_UNTIL(clients[0].got.len >= n, 5000);
	cr_assert_eq(echo_got.len, n);
	cr_assert(memcmp(echo_got.p, data, n) == 0, "bytes reached the target out of order");
	cr_assert_eq(clients[0].got.len, n);
	cr_assert(memcmp(clients[0].got.p, data, n) == 0);
	cr_assert_eq(proxy_bytes(px, 1, 2), n);
	cr_assert_eq(proxy_bytes(px, 2, 1), n);
	free(data);
	finish();
}

Test(proxy, a_cut_reply_path_stalls_only_the_replies)
{
	proxy_set_pid(px, 1, getpid());
	cut[2][1] = true;
	client_open(&clients[0], pport);
	RUN_UNTIL(clients[0].connected && proxy_conns(px, 1, 2) == 1, 5000);
	size_t n = 4 << 20;
	char *data = pattern(n, 11);
	client_send(&clients[0], data, n);
	RUN_UNTIL(echo_got.len >= n, 20000);
	cr_assert_eq(echo_got.len, n, "the open direction stalled too");
	RUN_UNTIL(false, 100);
	cr_assert_eq(clients[0].got.len, 0);
	cr_assert_eq(proxy_bytes(px, 2, 1), 0);

	cut[2][1] = false;
	proxy_recheck(px);
	RUN_UNTIL(clients[0].got.len >= n, 20000);
	cr_assert_eq(clients[0].got.len, n);
	cr_assert(memcmp(clients[0].got.p, data, n) == 0);
	cr_assert_eq(proxy_bytes(px, 2, 1), n);
	free(data);
	finish();
}

Test(proxy, megabytes_round_trip_byte_exact)
{
	size_t n = 8 << 20;
	char *data = pattern(n, 3);
	client_open(&clients[0], pport);
	RUN_UNTIL(clients[0].connected, 5000);
	client_send(&clients[0], data, n);
	RUN_UNTIL(clients[0].got.len >= n, 30000);
	cr_assert(clients[0].wrote);
	cr_assert_eq(clients[0].got.len, n);
	cr_assert(memcmp(clients[0].got.p, data, n) == 0, "the echo differs");
	cr_assert(memcmp(echo_got.p, data, n) == 0, "the target got other bytes");
	cr_assert_eq(proxy_bytes(px, 0, 2), n);
	cr_assert_eq(proxy_bytes(px, 2, 0), n);
	free(data);
	finish();
}

/* allow() changed and nobody called proxy_recheck yet: the bytes already
 * on their way in are held, not forwarded. */
Test(proxy, a_cut_without_a_recheck_still_holds_the_bytes)
{
	proxy_set_pid(px, 1, getpid());
	client_open(&clients[0], pport);
	RUN_UNTIL(clients[0].connected && proxy_conns(px, 1, 2) == 1, 5000);
	client_send(&clients[0], "one", 3);
	RUN_UNTIL(clients[0].got.len == 3, 5000);
	cr_assert_eq(clients[0].got.len, 3);

	cut[1][2] = true;
	client_send(&clients[0], "two", 3);
	RUN_UNTIL(false, 200);
	cr_assert_eq(echo_got.len, 3, "bytes crossed a cut link");
	cr_assert_eq(proxy_bytes(px, 1, 2), 3);

	cut[1][2] = false;
	proxy_recheck(px);
	RUN_UNTIL(clients[0].got.len == 6, 5000);
	cr_assert_eq(clients[0].got.len, 6);
	cr_assert(memcmp(clients[0].got.p, "onetwo", 6) == 0);
	finish();
}

/* The proxy reads nothing while cut, so the sender's kernel buffers fill
 * and its writes stop completing: the bytes wait there, not in the proxy. */
Test(proxy, a_cut_pushes_back_on_the_sender)
{
	proxy_set_pid(px, 1, getpid());
	cut[1][2] = true;
	client_open(&clients[0], pport);
	RUN_UNTIL(clients[0].connected && proxy_conns(px, 1, 2) == 1, 5000);
	size_t n = 32 << 20;
	char *data = pattern(n, 5);
	client_send(&clients[0], data, n);
	RUN_UNTIL(false, 300);
	cr_assert(!clients[0].wrote, "32 MiB written into a cut link");
	cr_assert_gt(uv_stream_get_write_queue_size((uv_stream_t *)&clients[0].tcp), 0);
	cr_assert_eq(echo_got.len, 0);

	cut[1][2] = false;
	proxy_recheck(px);
	RUN_UNTIL(clients[0].got.len >= n, 60000);
	cr_assert(clients[0].wrote);
	cr_assert_eq(clients[0].got.len, n);
	cr_assert(memcmp(clients[0].got.p, data, n) == 0);
	free(data);
	finish();
}

/* ---- ends ------------------------------------------------------------------------ */

/* The client's EOF reaches the target, the target's close comes back, and
 * the pair goes. */
Test(proxy, a_half_close_passes_through)
{
	client_open(&clients[0], pport);
	RUN_UNTIL(clients[0].connected && proxy_conns(px, 0, 2) == 1, 5000);
	client_send(&clients[0], "bye", 3);
	RUN_UNTIL(clients[0].got.len == 3, 5000);
	static uv_shutdown_t sreq;
	cr_assert_eq(uv_shutdown(&sreq, (uv_stream_t *)&clients[0].tcp, NULL), 0);
	RUN_UNTIL(clients[0].ended, 5000);
	cr_assert_eq(clients[0].end, UV_EOF, "%s", uv_strerror(clients[0].end));
	RUN_UNTIL(proxy_conns(px, 0, 2) == 0, 5000);
	cr_assert_eq(proxy_conns(px, 0, 2), 0);
	cr_assert_eq(memcmp(clients[0].got.p, "bye", 3), 0);
	finish();
}

/* The target's process dies in the middle of a transfer: the source sees
 * a reset, and the proxy's writes into the dead socket (EPIPE) do not take
 * the process down with SIGPIPE. */
Test(proxy, a_target_reset_mid_transfer_resets_the_source)
{
	struct sigaction sa;
	cr_assert_eq(sigaction(SIGPIPE, NULL, &sa), 0);
	cr_assert(sa.sa_handler == SIG_IGN, "proxy_new left SIGPIPE fatal");

	size_t n = 32 << 20;
	char *data = pattern(n, 13);
	client_open(&clients[0], pport);
	RUN_UNTIL(clients[0].connected && n_echo == 1, 5000);
	client_send(&clients[0], data, n);
	RUN_UNTIL(echo_got.len > (1 << 20), 10000);
	cr_assert_gt(echo_got.len, 1 << 20);
	cr_assert_eq(uv_tcp_close_reset(&echo_conns[0].tcp, echo_closed), 0);
	RUN_UNTIL(clients[0].ended && clients[0].write_done && proxy_conns(px, 0, 2) == 0, 10000);
	cr_assert(clients[0].ended && clients[0].write_done);
	/* The kernel reports a reset once: to the read, or to the write that
	 * was still going (and then the read sees the end). */
	cr_assert(clients[0].end == UV_ECONNRESET ||
		  (clients[0].end == UV_EOF && clients[0].write_status == UV_ECONNRESET),
		  "read: %s, write: %s", uv_strerror(clients[0].end), uv_strerror(clients[0].write_status));
	cr_assert_eq(proxy_conns(px, 0, 2), 0);
	cr_assert_lt(proxy_bytes(px, 0, 2), n);
	free(data);
	finish();
}

static int dead_port(void)
{
	uv_tcp_t t;
	struct sockaddr_in addr;
	struct sockaddr_storage ss;
	int len = sizeof ss;
	uv_ip4_addr("127.0.0.1", 0, &addr);
	uv_tcp_init(&loop, &t);
	cr_assert_eq(uv_tcp_bind(&t, (const struct sockaddr *)&addr, 0), 0);
	cr_assert_eq(uv_listen((uv_stream_t *)&t, 1, echo_accept), 0);
	cr_assert_eq(uv_tcp_getsockname(&t, (struct sockaddr *)&ss, &len), 0);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

Test(proxy, a_target_that_is_down_closes_the_connection)
{
	int port3;
	cr_assert_eq(proxy_listen(px, 3, dead_port(), &port3), 0);
	client_open(&clients[0], port3);
	RUN_UNTIL(clients[0].ended, 5000);
	cr_assert(clients[0].ended, "the connection to a dead target stayed open");
	cr_assert(clients[0].end == UV_ECONNRESET || clients[0].end == UV_EOF, "%s", uv_strerror(clients[0].end));
	cr_assert_eq(proxy_conns(px, 0, 3), 0);
	/* The listener still works for the live target. */
	client_open(&clients[1], pport);
	RUN_UNTIL(proxy_conns(px, 0, 2) == 1, 5000);
	cr_assert_eq(proxy_conns(px, 0, 2), 1);
	finish();
}

Test(proxy, bad_listen_arguments)
{
	int port;
	cr_assert_eq(proxy_listen(px, PROXY_MAX_NODES + 1, echo_port, &port), UV_EINVAL);
	cr_assert_eq(proxy_listen(px, 2, 0, &port), UV_EINVAL);
	cr_assert_eq(proxy_listen(px, 2, 70000, &port), UV_EINVAL);
	finish();
}

Test(proxy, drop_node_closes_its_connections)
{
	int port3;
	cr_assert_eq(proxy_listen(px, 3, echo_port, &port3), 0);
	proxy_set_pid(px, 1, getpid());
	client_open(&clients[0], pport);
	client_open(&clients[1], pport);
	client_open(&clients[2], port3);
	RUN_UNTIL(proxy_conns(px, 1, 2) == 2 && proxy_conns(px, 1, 3) == 1, 5000);
	cr_assert_eq(proxy_conns(px, 1, 2), 2);
	cr_assert_eq(proxy_conns(px, 1, 3), 1);

	/* Endpoint 2's links stalled: nothing would tell the clients. */
	cut[1][2] = cut[2][1] = true;
	proxy_recheck(px);
	proxy_drop_node(px, 4);                       /* none of its business */
	proxy_drop_node(px, 2);
	cr_assert_eq(proxy_conns(px, 1, 2), 0, "still counted after the drop");
	RUN_UNTIL(clients[0].ended && clients[1].ended, 5000);
	cr_assert(clients[0].ended && clients[1].ended);
	cr_assert_eq(clients[0].end, UV_ECONNRESET, "%s", uv_strerror(clients[0].end));
	cr_assert(!clients[2].ended);
	cr_assert_eq(proxy_conns(px, 1, 3), 1);

	client_send(&clients[2], "still", 5);
	RUN_UNTIL(clients[2].got.len == 5, 5000);
	cr_assert_eq(clients[2].got.len, 5);
	cr_assert_eq(proxy_bytes(px, 1, 3), 5);
	cr_assert_eq(proxy_bytes(px, 3, 1), 5);

	/* From the source's side too. */
	proxy_drop_node(px, 1);
	RUN_UNTIL(clients[2].ended, 5000);
	cr_assert(clients[2].ended);
	cr_assert_eq(proxy_conns(px, 1, 3), 0);
	finish();
}

/* ---- proxy_free ------------------------------------------------------------------- */

Test(proxy, free_with_connections_open)
{
	/* A target that never answers: a backlog of 0 with its one slot
	 * taken, so the proxy's connect stays in SYN_SENT. */
	int lfd = socket(AF_INET, SOCK_STREAM, 0), filler = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(lfd >= 0 && filler >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(lfd, 0), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	cr_assert_eq(connect(filler, (struct sockaddr *)&a, sizeof a), 0);
	int stuck;
	cr_assert_eq(proxy_listen(px, 3, ntohs(a.sin_port), &stuck), 0);

	/* One transfer in the middle, one idle, one waiting for its target. */
	size_t n = 8 << 20;
	char *data = pattern(n, 9);
	client_open(&clients[0], pport);
	client_open(&clients[1], pport);
	client_open(&clients[2], stuck);
	RUN_UNTIL(proxy_conns(px, 0, 2) == 2 && clients[2].connected, 5000);
	client_send(&clients[0], data, n);
	client_send(&clients[2], "waiting", 7);
	RUN_UNTIL(clients[0].got.len > 0, 5000);
	cr_assert_gt(clients[0].got.len, 0);
	cr_assert_eq(proxy_conns(px, 0, 3), 0, "the stuck connect completed");

	proxy_free(px, on_px_done, &px_done);
	RUN_UNTIL(px_done, 5000);
	cr_assert(px_done);
	RUN_UNTIL(clients[0].ended && clients[1].ended && clients[2].ended, 5000);
	cr_assert(clients[0].ended && clients[1].ended && clients[2].ended);
	close(filler);
	close(lfd);
	free(data);
	finish();
}

Test(proxy, free_with_nothing_open_still_calls_done_later)
{
	proxy_free(px, on_px_done, &px_done);
	cr_assert(!px_done, "done called from inside proxy_free");
	RUN_UNTIL(px_done, 5000);
	cr_assert(px_done);
	finish();
}

/* ---- proxy_owner ------------------------------------------------------------------- */

/* A connected pair of this process: the connecting end's port in *port,
 * the listener's in *peer.  Returns the three fds (listener, connecting,
 * accepted) in fds. */
static bool socket_pair(int family, int fds[3], uint16_t *port, uint16_t *peer)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fds[0] >= 0);
	cr_assert_eq(bind(fds[0], (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(fds[0], 4), 0);
	cr_assert_eq(getsockname(fds[0], (struct sockaddr *)&a, &alen), 0);
	*peer = ntohs(a.sin_port);
	fds[1] = socket(family, SOCK_STREAM, 0);
	if (fds[1] < 0) {
		close(fds[0]);
		return false;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = a.sin_port };
		inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
		if (connect(fds[1], (struct sockaddr *)&a6, sizeof a6) != 0) {
			close(fds[1]);
			close(fds[0]);
			return false;
		}
		socklen_t l6 = sizeof a6;
		cr_assert_eq(getsockname(fds[1], (struct sockaddr *)&a6, &l6), 0);
		*port = ntohs(a6.sin6_port);
	} else {
		cr_assert_eq(connect(fds[1], (struct sockaddr *)&a, sizeof a), 0);
		struct sockaddr_in me;
		socklen_t mlen = sizeof me;
		cr_assert_eq(getsockname(fds[1], (struct sockaddr *)&me, &mlen), 0);
		*port = ntohs(me.sin_port);
	}
	fds[2] = accept(fds[0], NULL, NULL);
	cr_assert(fds[2] >= 0);
	return true;
}

Test(proxy, owner_finds_the_process)
{
	int fds[3];
	uint16_t port, peer;
	cr_assert(socket_pair(AF_INET, fds, &port, &peer));
	int pids[] = { getppid(), 0, getpid() };
	cr_assert_eq(proxy_owner(port, peer, pids, 3), 2);
	cr_assert_eq(proxy_owner(port, peer, pids, 2), -1, "found in the wrong process");
	/* The accepted end is ours too: the lookup is by (local, remote). */
	cr_assert_eq(proxy_owner(peer, port, pids, 3), 2);
	cr_assert_eq(proxy_owner(port, (uint16_t)(peer + 1), pids, 3), -1);
	/* A port nothing uses. */
	int dead = dead_port();
	cr_assert_eq(proxy_owner((uint16_t)dead, peer, pids, 3), -1);
	cr_assert_eq(proxy_owner(port, peer, pids, 0), -1);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	finish();
}

Test(proxy, owner_finds_a_v4_mapped_socket)
{
	int fds[3];
	uint16_t port, peer;
	if (!socket_pair(AF_INET6, fds, &port, &peer))
		cr_skip_test("no IPv6 here: %s", strerror(errno));
	int pid = getpid();
	cr_assert_eq(proxy_owner(port, peer, &pid, 1), 0);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	finish();
}

/*
 * proxy.c — hub-owned TCP proxy ports.  See proxy.h for the contract.
 *
 * Ownership: struct proxy owns one struct proxy_listener per listening port
 * and one struct proxy_conn per accepted connection; each connection owns
 * its two sockets (the accepted one and the one to the target), its connect
 * request and one fixed buffer per direction.  Every handle lives inside the
 * struct that owns it and the memory goes only in the last close callback:
 * a connection when both its sockets have closed, the proxy when every
 * handle it ever opened has (p->handles counts them).
 *
 * Flow: a direction (bytes read on one socket, written to the other) reads
 * at most one buffer, then stops reading until that buffer is written.  So
 * when the link is cut or the receiver is slow, the bytes wait in the
 * sender's kernel buffers and TCP's window pushes back on the sender; the
 * proxy never queues more than a buffer per direction and never drops one.
 *
 * It must never block on anything but /proc (read once per accepted
 * connection), never drop or reorder a byte, and never let one connection's
 * failure touch another.  Nor take the process down: writing to the socket
 * of a member that was just SIGKILLed raises SIGPIPE, whose default action
 * ends the hub, so proxy_new ignores SIGPIPE unless someone already handles
 * it (libuv's uv_spawn resets dispositions in the children it starts).
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Per direction.  Small on purpose: an etcd member of a 16-node cluster
 * keeps a handful of connections to each peer, and these are all resident;
 * on loopback a 16 KiB write completes within one loop iteration anyway. */
#define PROXY_BUF (16 * 1024)

struct proxy_conn;

/* One direction of a connection: what `in` reads, `out` is sent. */
struct proxy_dir {
	struct proxy_conn *c;
	uv_tcp_t *in, *out;
	uint32_t from, to;                   /* the endpoints, as allow() sees them */
	uv_write_t write;
	uv_shutdown_t shutdown;
	size_t len;                          /* bytes in buf not yet written */
	bool reading;                        /* uv_read_start is in effect on `in` */
	bool writing;                        /* buf[0..len) is being written */
	bool eof;                            /* `in` said EOF */
	bool shut;                           /* shutdown of `out` requested */
	bool done;                           /* ... and completed */
	char buf[PROXY_BUF];
};

struct proxy_conn {
	struct proxy *p;
	struct proxy_conn *next, **pprev;
	uv_tcp_t down;                       /* accepted: the source's end */
	uv_tcp_t up;                         /* ours, to the target */
	uv_connect_t connect;
	int open;                            /* of down and up, not yet closed */
	bool connected;                      /* up is established */
	bool counted;                        /* in p->open_between */
	bool closing;
	struct proxy_dir dir[2];             /* [0] source -> destination, [1] back */
};

struct proxy_listener {
	struct proxy *p;
	struct proxy_listener *next;
	uv_tcp_t tcp;
	uint32_t to;
	int target;
	int port;
};

struct proxy {
	uv_loop_t *loop;
	proxy_allow_fn allow;
	void *ud;
	/* Never started: it exists so that proxy_free always finishes in a
	 * close callback, even when nothing else was ever opened. */
	uv_idle_t life;
	struct proxy_listener *listeners;
	struct proxy_conn *active;           /* open and closing connections */
	int handles;
	bool stopping;
	void (*done)(void *ud);
	void *done_ud;
	int pids[PROXY_MAX_NODES + 1];
	uint64_t bytes[PROXY_MAX_NODES + 1][PROXY_MAX_NODES + 1];
	/* [source][destination]: counted from the side that connected, so an
	 * etcd member's outgoing peer stream is open_between[member][peer]. */
	uint32_t open_between[PROXY_MAX_NODES + 1][PROXY_MAX_NODES + 1];
};

static void dir_pump(struct proxy_dir *d);

/* ---- life ------------------------------------------------------------ */

static void handle_closed(struct proxy *p)
{
	if (--p->handles > 0 || !p->stopping)
		return;
	void (*done)(void *) = p->done;
	void *ud = p->done_ud;
	free(p);
	if (done)
		done(ud);
}

static void on_life_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

struct proxy *proxy_new(uv_loop_t *loop, proxy_allow_fn allow, void *ud)
{
	struct proxy *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	p->loop = loop;
	p->allow = allow;
	p->ud = ud;
	uv_idle_init(loop, &p->life);
	p->life.data = p;
	p->handles = 1;
	return p;
}

void proxy_set_pid(struct proxy *p, uint32_t node, int pid)
{
	if (node >= 1 && node <= PROXY_MAX_NODES)
		p->pids[node] = pid > 0 ? pid : 0;
}

uint64_t proxy_bytes(const struct proxy *p, uint32_t from, uint32_t to)
{
	if (from > PROXY_MAX_NODES || to > PROXY_MAX_NODES)
		return 0;
	return p->bytes[from][to];
}

uint32_t proxy_conns(const struct proxy *p, uint32_t from, uint32_t to)
{
	if (from > PROXY_MAX_NODES || to > PROXY_MAX_NODES)
		return 0;
	return p->open_between[from][to];
}

/* ---- one connection -------------------------------------------------- */

static void on_conn_closed(uv_handle_t *h)
{
	struct proxy_dir *d = h->data;
	struct proxy_conn *c = d->c;
	struct proxy *p = c->p;
	if (--c->open == 0) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
		free(c);
	}
	handle_closed(p);
}

/* A reset tells the other end at once (as a dead process's kernel would);
 * it is refused while a shutdown is pending, and then a plain close does. */
static void close_tcp(uv_tcp_t *t, bool reset)
{
	if (reset && uv_tcp_close_reset(t, on_conn_closed) == 0)
		return;
	uv_close((uv_handle_t *)t, on_conn_closed);
}

/* The one close path of a connection.  Requests still pending on its
 * sockets come back with UV_ECANCELED before the close callbacks run, and
 * find c->closing set. */
static void conn_close(struct proxy_conn *c, bool reset)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->counted) {
		c->p->open_between[c->dir[0].from][c->dir[0].to]--;
		c->counted = false;
	}
	close_tcp(&c->down, reset);
	close_tcp(&c->up, reset);
}

/* No allow function: a proxy without a network model lets everything by. */
static bool allowed(const struct proxy_dir *d)
{
	struct proxy *p = d->c->p;
	return !p->allow || p->allow(p->ud, d->from, d->to);
}

static void dir_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct proxy_dir *d = h->data;
	/* Reading stops after every read, so the buffer is free here. */
	assert(!d->len && !d->writing);
	*buf = uv_buf_init(d->buf, sizeof d->buf);
}

static void on_shut(uv_shutdown_t *req, int status)
{
	struct proxy_dir *d = req->data;
	struct proxy_conn *c = d->c;
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c, true);
		return;
	}
	d->done = true;
	if (c->dir[0].done && c->dir[1].done)
		conn_close(c, false);
}

static void on_written(uv_write_t *req, int status)
{
	struct proxy_dir *d = req->data;
	struct proxy_conn *c = d->c;
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c, true);
		return;
	}
	c->p->bytes[d->from][d->to] += d->len;
	d->len = 0;
	d->writing = false;
	dir_pump(d);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct proxy_dir *d = s->data;
	struct proxy_conn *c = d->c;
	if (nread == 0 || c->closing)
		return;
	/* One buffer at a time: whatever comes next waits in the kernel. */
	uv_read_stop(s);
	d->reading = false;
	if (nread == UV_EOF) {
		d->eof = true;
	} else if (nread < 0) {
		conn_close(c, true);
		return;
	} else {
		d->len = (size_t)nread;
	}
	dir_pump(d);
}

/* Bring one direction in line with its state and with allow(): write what
 * is held, read when there is room and the link is up, pass an EOF on once
 * every byte before it has gone.  Called after every change of either. */
static void dir_pump(struct proxy_dir *d)
{
	struct proxy_conn *c = d->c;
	if (c->closing || !c->connected)
		return;
	bool up = allowed(d);
	if (up && d->len && !d->writing) {
		uv_buf_t b = uv_buf_init(d->buf, (unsigned)d->len);
		if (uv_write(&d->write, (uv_stream_t *)d->out, &b, 1, on_written) != 0) {
			conn_close(c, true);
			return;
		}
		d->writing = true;
	}
	bool want = up && !d->len && !d->writing && !d->eof;
	if (want && !d->reading) {
		if (uv_read_start((uv_stream_t *)d->in, dir_alloc, on_read) != 0) {
			conn_close(c, true);
			return;
		}
		d->reading = true;
	} else if (!want && d->reading) {
		uv_read_stop((uv_stream_t *)d->in);
		d->reading = false;
	}
	if (up && d->eof && !d->len && !d->writing && !d->shut) {
		d->shut = true;
		if (uv_shutdown(&d->shutdown, (uv_stream_t *)d->out, on_shut) != 0)
			conn_close(c, true);
	}
}

static void on_connected(uv_connect_t *req, int status)
{
	struct proxy_conn *c = req->data;
	if (c->closing)
		return;
	if (status < 0) {
		/* The target is down: the source sees its connection reset, the
		 * nearest a proxy can come to "connection refused". */
		conn_close(c, true);
		return;
	}
	c->connected = true;
	c->counted = true;
	c->p->open_between[c->dir[0].from][c->dir[0].to]++;
	/* etcd's heartbeats are small writes; Nagle on either leg would hold
	 * them back for an ack. */
	uv_tcp_nodelay(&c->down, 1);
	uv_tcp_nodelay(&c->up, 1);
	dir_pump(&c->dir[0]);
	dir_pump(&c->dir[1]);
}

/* The endpoint whose process holds the connecting end of `down`: 0 when it
 * is none we know (or the lookup failed). */
static uint32_t attribute(struct proxy *p, uv_tcp_t *down, int listen_port)
{
	int pids[PROXY_MAX_NODES];
	uint32_t node_of[PROXY_MAX_NODES];
	int n = 0;
	for (uint32_t i = 1; i <= PROXY_MAX_NODES; i++)
		if (p->pids[i]) {
			pids[n] = p->pids[i];
			node_of[n++] = i;
		}
	if (n == 0)
		return 0;
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_tcp_getpeername(down, (struct sockaddr *)&ss, &len) != 0 || ss.ss_family != AF_INET)
		return 0;
	uint16_t port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	/* The kernel table is read while the other side may still be setting
	 * up; a second look costs little and settles most such races. */
	int i = proxy_owner(port, (uint16_t)listen_port, pids, n);
	if (i < 0)
		i = proxy_owner(port, (uint16_t)listen_port, pids, n);
	return i < 0 ? 0 : node_of[i];
}

static void on_connection(uv_stream_t *server, int status)
{
	struct proxy_listener *l = server->data;
	struct proxy *p = l->p;
	if (status < 0 || p->stopping)
		return;
	struct proxy_conn *c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->p = p;
	for (int i = 0; i < 2; i++)
		c->dir[i].c = c;
	c->dir[0].in = c->dir[1].out = &c->down;
	c->dir[0].out = c->dir[1].in = &c->up;
	for (int i = 0; i < 2; i++) {
		c->dir[i].write.data = &c->dir[i];
		c->dir[i].shutdown.data = &c->dir[i];
	}
	uv_tcp_init(p->loop, &c->down);
	uv_tcp_init(p->loop, &c->up);
	c->down.data = &c->dir[0];
	c->up.data = &c->dir[1];
	c->connect.data = c;
	c->open = 2;
	p->handles += 2;
	c->next = p->active;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &p->active;
	p->active = c;

	if (uv_accept(server, (uv_stream_t *)&c->down) != 0) {
		conn_close(c, true);
		return;
	}
	uint32_t from = attribute(p, &c->down, l->port);
	c->dir[0].from = c->dir[1].to = from;
	c->dir[0].to = c->dir[1].from = l->to;

	/* Nothing is read from the source until the target has answered
	 * (dir_pump waits for c->connected). */
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", l->target, &addr);
	if (uv_tcp_connect(&c->connect, &c->up, (const struct sockaddr *)&addr, on_connected) != 0)
		conn_close(c, true);
}

/* ---- the public calls -------------------------------------------------- */

static void on_listener_closed(uv_handle_t *h)
{
	struct proxy_listener *l = h->data;
	struct proxy *p = l->p;
	free(l);
	handle_closed(p);
}

int proxy_retarget(struct proxy *p, int port, int target)
{
	for (struct proxy_listener *l = p->listeners; l; l = l->next)
		if (l->port == port) {
			l->target = target;
			return 0;
		}
	return UV_ENOENT;
}

int proxy_listen(struct proxy *p, uint32_t to, int target, int *port)
{
	if (p->stopping || to > PROXY_MAX_NODES || target <= 0 || target > 65535)
		return UV_EINVAL;
	struct proxy_listener *l = calloc(1, sizeof *l);
	if (!l)
		return UV_ENOMEM;
	l->p = p;
	l->to = to;
	l->target = target;
	uv_tcp_init(p->loop, &l->tcp);
	l->tcp.data = l;
	p->handles++;

	struct sockaddr_in addr;
	struct sockaddr_storage ss;
	int len = sizeof ss;
	uv_ip4_addr("127.0.0.1", 0, &addr);
	int rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len);
	if (rc != 0) {
		uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
		return rc;
	}
	l->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	l->next = p->listeners;
	p->listeners = l;
	*port = l->port;
	return 0;
}

void proxy_recheck(struct proxy *p)
{
	/* A connection closed by a pump stays listed until its close
	 * callbacks, so walking on is safe. */
	for (struct proxy_conn *c = p->active; c; c = c->next) {
		dir_pump(&c->dir[0]);
		dir_pump(&c->dir[1]);
	}
}

void proxy_drop_node(struct proxy *p, uint32_t node)
{
	for (struct proxy_conn *c = p->active; c; c = c->next)
		if (c->dir[0].from == node || c->dir[0].to == node)
			conn_close(c, true);
}

void proxy_free(struct proxy *p, void (*done)(void *ud), void *ud)
{
	if (!p || p->stopping)
		return;
	p->stopping = true;
	p->done = done;
	p->done_ud = ud;
	for (struct proxy_conn *c = p->active; c; c = c->next)
		conn_close(c, false);
	for (struct proxy_listener *l = p->listeners; l; l = l->next)
		uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
	uv_close((uv_handle_t *)&p->life, on_life_closed);
}

/* ---- who connected: /proc ---------------------------------------------- */

/* /proc/net/tcp{,6} print an address as the 32-bit words of the kernel's
 * network-order bytes, each word as a host-order hex number ("0100007F" for
 * 127.0.0.1 on a little-endian machine), so parsing a word back gives the
 * same bits htonl() does. */
static bool hex_word(const char *s, uint32_t *out)
{
	char w[9];
	memcpy(w, s, 8);
	w[8] = 0;
	char *end;
	unsigned long v = strtoul(w, &end, 16);
	if (*end)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* 127.0.0.1, or ::ffff:127.0.0.1 (an IPv6 socket that reached our IPv4
 * listener). */
static bool is_loopback4(const char *hex)
{
	size_t len = strlen(hex);
	uint32_t w[4];
	if (len == 8)
		return hex_word(hex, &w[0]) && w[0] == htonl(INADDR_LOOPBACK);
	if (len != 32)
		return false;
	for (int i = 0; i < 4; i++)
		if (!hex_word(hex + 8 * i, &w[i]))
			return false;
	return w[0] == 0 && w[1] == 0 && w[2] == htonl(0xffff) && w[3] == htonl(INADDR_LOOPBACK);
}

/* The inode of the socket 127.0.0.1:port -> 127.0.0.1:peer_port in one
 * table, 0 if it is not there. */
static unsigned long table_inode(const char *path, uint16_t port, uint16_t peer_port)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[512];
	unsigned long found = 0;
	if (!fgets(line, sizeof line, f)) {          /* the column titles */
		fclose(f);
		return 0;
	}
	while (!found && fgets(line, sizeof line, f)) {
		/* sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ... */
		char local[33], rem[33];
		unsigned lport, rport;
		unsigned long inode;
		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %*x %*x:%*x %*x:%*x %*x %*u %*d %lu",
			   local, &lport, rem, &rport, &inode) != 5)
			continue;
		/* inode 0: a socket no process holds any more (TIME_WAIT). */
		if (lport == port && rport == peer_port && inode && is_loopback4(local) && is_loopback4(rem))
			found = inode;
	}
	fclose(f);
	return found;
}

static bool pid_holds(int pid, const char *link)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", pid);
	DIR *dir = opendir(path);
	if (!dir)
		return false;
	bool found = false;
	size_t want = strlen(link);
	char buf[64];
	struct dirent *e;
	while (!found && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		ssize_t n = readlinkat(dirfd(dir), e->d_name, buf, sizeof buf);
		found = n == (ssize_t)want && memcmp(buf, link, want) == 0;
	}
	closedir(dir);
	return found;
}

int proxy_owner(uint16_t port, uint16_t peer_port, const int *pids, int n)
{
	unsigned long inode = table_inode("/proc/net/tcp", port, peer_port);
	if (!inode)
		inode = table_inode("/proc/net/tcp6", port, peer_port);
	if (!inode)
		return -1;
	char link[48];
	snprintf(link, sizeof link, "socket:[%lu]", inode);
	for (int i = 0; i < n; i++)
		if (pids[i] > 0 && pid_holds(pids[i], link))
			return i;
	return -1;
}

/*
 * proxy.h — hub-owned TCP proxy ports, for servers that do not speak our
 * wire protocol (etcd members).  Their traffic runs through ports the hub
 * listens on, so the hub's network model decides, byte by byte, what
 * reaches whom: a cut link stalls the bytes (as a real partition does: TCP
 * holds them, nothing is lost, they arrive after the heal unless the
 * endpoints gave up on the connection first).
 *
 * Each listener forwards to one target port on 127.0.0.1 and belongs to one
 * destination endpoint (a node id).  Who is on the other side of an
 * accepted connection is found from the kernel: the connecting socket's
 * inode (/proc/net/tcp) is looked up among the file descriptors of the
 * processes registered with proxy_set_pid.  A connection from a process the
 * proxy does not know comes from endpoint 0: an outside client (etcdctl,
 * curl, a load generator).
 *
 * Flow control is TCP's own: one read in flight per direction, reading
 * stops while the write is pending or while the link is cut.
 */
#ifndef TERMSCOPE_PROXY_H
#define TERMSCOPE_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#define PROXY_MAX_NODES 16               /* endpoints 1..PROXY_MAX_NODES; 0 = outside */

struct proxy;

/* May bytes sent by endpoint `from` reach endpoint `to` now?  from or to
 * may be 0 (an outside client). */
typedef bool (*proxy_allow_fn)(void *ud, uint32_t from, uint32_t to);

struct proxy *proxy_new(uv_loop_t *loop, proxy_allow_fn allow, void *ud);

/* Listen on 127.0.0.1:0 (an ephemeral port, put in *port) and forward each
 * accepted connection to 127.0.0.1:target, on behalf of destination
 * endpoint `to`.  0, or a negative libuv error. */
int proxy_listen(struct proxy *p, uint32_t to, int target, int *port);

/* The listener on `port` forwards new connections to `target` from now on
 * (a server that had to move).  0, or UV_ENOENT. */
int proxy_retarget(struct proxy *p, int port, int target);

/* Endpoint `node` is the process pid (0: none, e.g. it crashed). */
void proxy_set_pid(struct proxy *p, uint32_t node, int pid);

/* The network changed: each direction of each connection stalls or flows
 * as allow() now says. */
void proxy_recheck(struct proxy *p);

/* Close every connection to or from endpoint `node` (it died; its peers
 * see the connection reset). */
void proxy_drop_node(struct proxy *p, uint32_t node);

/* Bytes forwarded from -> to so far (0..PROXY_MAX_NODES each), and the
 * connections open now between them. */
uint64_t proxy_bytes(const struct proxy *p, uint32_t from, uint32_t to);
uint32_t proxy_conns(const struct proxy *p, uint32_t from, uint32_t to);

/* Close everything; the memory goes once libuv has closed the handles,
 * then done(ud) is called (may be NULL). */
void proxy_free(struct proxy *p, void (*done)(void *ud), void *ud);

/* Which of pids[0..n-1] holds the socket connected from 127.0.0.1:port to
 * 127.0.0.1:peer_port (the connecting end of a connection we accepted):
 * its index, or -1.  Reads /proc; exposed for the tests. */
int proxy_owner(uint16_t port, uint16_t peer_port, const int *pids, int n);

#endif

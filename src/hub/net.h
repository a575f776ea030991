/*
 * net.h — the network model: who can reach whom, and what happens to one
 * message (lost, delayed, duplicated, held long).
 *
 * One reachability relation over the cluster's endpoints, built from three
 * things a user can change: partition groups (a link is up only inside a
 * group), isolated nodes (all their links down) and cut directed links.
 * Faults are named as Jepsen names them.  The unreliable preset mirrors the
 * 6.824 labrpc network.  Pure: randomness comes from the caller's rng.
 */
#ifndef TERMSCOPE_NET_H
#define TERMSCOPE_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/rng.h"

#define NET_MAX 9

struct net_params {
	double drop;                         /* probability a message is lost */
	uint64_t delay_min, delay_max;       /* ms, uniform in [min, max] */
	double dup;                          /* probability a message arrives twice */
	bool reorder;                        /* labrpc long reordering: 2 in 3 replies held 200-2200 ms */
	bool long_delays;                    /* 1 in 10 messages held 0-7000 ms */
};

struct net_model {
	uint32_t n;
	uint32_t group[NET_MAX + 1];
	bool isolated[NET_MAX + 1];
	bool cut[NET_MAX + 1][NET_MAX + 1];
	struct net_params p;
};

/* What the network does with one message. */
struct net_fate {
	bool lost;
	int copies;                          /* 1, or 2 when duplicated */
	uint64_t delay[2];
};

void net_init(struct net_model *m, uint32_t n);
void net_reliable(struct net_params *p);          /* 1-5 ms, nothing lost */
void net_unreliable(struct net_params *p);        /* labrpc: 0-26 ms, 10% lost */
bool net_link_up(const struct net_model *m, uint32_t from, uint32_t to);
/* group_of[1..n]: a group number, or 0 for "in no group" (isolated). */
void net_partition(struct net_model *m, const uint32_t *group_of);
void net_isolate(struct net_model *m, uint32_t id);
void net_connect(struct net_model *m, uint32_t id);
void net_cut(struct net_model *m, uint32_t from, uint32_t to);
void net_heal(struct net_model *m);
/* True when every link is up. */
bool net_whole(const struct net_model *m);
void net_decide(const struct net_model *m, struct rng *g, bool is_reply, struct net_fate *f);

#endif

/*
 * net.c — the network model.  See net.h.  Owns no memory and does no I/O.
 */
#include "net.h"

#include <string.h>

void net_reliable(struct net_params *p)
{
	memset(p, 0, sizeof *p);
	p->delay_min = 1;
	p->delay_max = 5;
}

void net_unreliable(struct net_params *p)
{
	memset(p, 0, sizeof *p);
	p->drop = 0.1;
	p->delay_min = 0;
	p->delay_max = 26;
}

void net_init(struct net_model *m, uint32_t n)
{
	memset(m, 0, sizeof *m);
	m->n = n;
	net_heal(m);
	net_reliable(&m->p);
}

bool net_link_up(const struct net_model *m, uint32_t from, uint32_t to)
{
	if (from == to)
		return true;
	if (m->isolated[from] || m->isolated[to])
		return false;
	return m->group[from] == m->group[to] && !m->cut[from][to];
}

void net_partition(struct net_model *m, const uint32_t *group_of)
{
	memset(m->isolated, 0, sizeof m->isolated);
	memset(m->cut, 0, sizeof m->cut);
	for (uint32_t i = 1; i <= m->n; i++)
		m->group[i] = group_of[i] ? group_of[i] : 1000 + i;   /* alone */
}

void net_isolate(struct net_model *m, uint32_t id)
{
	m->isolated[id] = true;
}

void net_connect(struct net_model *m, uint32_t id)
{
	m->isolated[id] = false;
	for (uint32_t j = 0; j <= NET_MAX; j++)
		m->cut[id][j] = m->cut[j][id] = false;
}

void net_cut(struct net_model *m, uint32_t from, uint32_t to)
{
	m->cut[from][to] = true;
}

void net_heal(struct net_model *m)
{
	memset(m->isolated, 0, sizeof m->isolated);
	memset(m->cut, 0, sizeof m->cut);
	for (uint32_t i = 0; i <= NET_MAX; i++)
		m->group[i] = 1;
}

bool net_whole(const struct net_model *m)
{
	for (uint32_t a = 1; a <= m->n; a++)
		for (uint32_t b = 1; b <= m->n; b++)
			if (!net_link_up(m, a, b))
				return false;
	return true;
}

static uint64_t draw_delay(const struct net_params *p, struct rng *g, bool is_reply)
{
	uint64_t d = rng_range(g, p->delay_min, p->delay_max + 1);
	if (p->reorder && is_reply && rng_range(g, 0, 900) < 600)
		d += 200 + rng_range(g, 0, 1 + rng_range(g, 0, 2000));
	if (p->long_delays && rng_range(g, 0, 10) == 0)
		d += rng_range(g, 0, 7000);
	return d;
}

void net_decide(const struct net_model *m, struct rng *g, bool is_reply, struct net_fate *f)
{
	const struct net_params *p = &m->p;
	memset(f, 0, sizeof *f);
	f->copies = 1;
	/* Draw every number every time, so that changing one parameter does
	 * not shift the random stream for the others. */
	double lost = rng_double(g), dup = rng_double(g);
	f->lost = lost < p->drop;
	if (dup < p->dup)
		f->copies = 2;
	for (int i = 0; i < 2; i++)
		f->delay[i] = draw_delay(p, g, is_reply);
}

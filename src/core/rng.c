/*
 * rng.c — xoshiro256** seeded through splitmix64 (public-domain algorithms
 * by Blackman and Vigna).  See rng.h.
 */
#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void rng_seed(struct rng *g, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		g->s[i] = splitmix64(&x);
}

uint64_t rng_mix(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ rotl(b, 32) ^ 0x5851f42d4c957f2dULL;
	(void)splitmix64(&x);
	return splitmix64(&x) ^ b;
}

uint64_t rng_next(struct rng *g)
{
	uint64_t *s = g->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t rng_range(struct rng *g, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	uint64_t span = hi - lo;
	/* rejection sampling keeps the distribution uniform */
	uint64_t limit = UINT64_MAX - UINT64_MAX % span;
	uint64_t v;
	do
		v = rng_next(g);
	while (v >= limit);
	return lo + v % span;
}

double rng_double(struct rng *g)
{
	return (double)(rng_next(g) >> 11) * 0x1.0p-53;
}

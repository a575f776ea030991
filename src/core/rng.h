/*
 * rng.h — a small seeded pseudo-random generator (xoshiro256**, seeded
 * through splitmix64).  Every random choice in termscope — election
 * timeouts, message delays, losses — comes from one of these, seeded from
 * the run seed, so a run replays exactly.  Pure: no global state.
 */
#ifndef TERMSCOPE_RNG_H
#define TERMSCOPE_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *g, uint64_t seed);
/* Mix several values into one seed (run seed, node id, incarnation, ...). */
uint64_t rng_mix(uint64_t a, uint64_t b);
uint64_t rng_next(struct rng *g);
/* Uniform in [lo, hi); returns lo when hi <= lo. */
uint64_t rng_range(struct rng *g, uint64_t lo, uint64_t hi);
/* Uniform in [0, 1). */
double rng_double(struct rng *g);

#endif

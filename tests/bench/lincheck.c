/*
 * lincheck.c — `make bench`: the linearizability checker (src/core/lincheck.c)
 * on large generated key/value histories.  Prints figures; asserts nothing
 * about wall time.
 *
 * A history is made deterministically (fixed seeds): C clients, each doing
 * one operation at a time (get 50 %, put 25 %, append 25 %, keys uniform
 * over K), against a simulated sequential store.  Every operation takes
 * effect at one instant (its linearization point) drawn between its call and
 * its return, which are each 1-20 ms away from it; the next call of the same
 * client follows 0-10 ms after the return.  The store is applied in order of
 * linearization points, so the outputs are exactly what a linearizable
 * service would answer: the history is legal.  The "stale" variant replaces
 * the output of one get, halfway through, by the value and version its key
 * had before the last write that returned before the get was called: every
 * linearization must place that write first, so the history is illegal.
 *
 * Each case runs in a child process of its own, so that its peak RSS
 * (VmHWM) is its own: the history, the checker and the generator's tables.
 *
 * A case may use at most MEM_LIMIT_MIB of address space (the memo keeps a
 * bitset of the key's operations per entry, so one key's memory grows with
 * the square of its operations); past it the checker answers "enomem" and
 * the line says how far it got.
 *
 *   build/bench/lincheck            every case
 *   build/bench/lincheck OPS KEYS   one legal and one stale case
 */
#include "../../src/core/lincheck.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLIENTS 8
#define BUDGET 200000000ULL  /* steps: enough for every case below; "unknown" if not */
#define MEM_LIMIT_MIB 2048   /* address space of a case: beyond it the checker answers ENOMEM */

static uint64_t rng_state;

static uint64_t rnd(void)  /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t uniform(uint64_t lo, uint64_t hi)  /* [lo, hi] */
{
	return lo + rnd() % (hi - lo + 1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "lincheck bench: out of memory\n");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

struct gop {
	uint32_t client, key;
	enum lincheck_kind kind;
	uint64_t call, lp, ret;
	char *value;         /* put/append: the input */
	char *out;           /* get: the value read */
	uint64_t out_version;
};

struct kstate {
	char *value;         /* current value ("" when missing) */
	uint64_t version;
	char *prev;          /* before the last write */
	uint64_t prev_version;
	uint64_t last_write_ret;
	int written;
};

static int by_lp(const void *a, const void *b)
{
	const struct gop *x = *(const struct gop *const *)a, *y = *(const struct gop *const *)b;
	if (x->lp != y->lp)
		return x->lp < y->lp ? -1 : 1;
	return x->client < y->client ? -1 : x->client > y->client;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long vmhwm_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Generate n operations on `keys` keys into h; stale: inject one stale read. */
static void generate(struct lincheck_history *h, size_t n, uint32_t keys, int stale, uint64_t seed)
{
	rng_state = seed;
	struct gop *ops = xmalloc(n * sizeof *ops);
	uint64_t next_call[CLIENTS];
	uint32_t seq[CLIENTS] = { 0 };
	for (int c = 0; c < CLIENTS; c++)
		next_call[c] = uniform(0, 10);
	/* each client's operations one after the other; clients interleave by
	 * taking, each time, the client whose next call is earliest */
	for (size_t i = 0; i < n; i++) {
		int c = 0;
		for (int j = 1; j < CLIENTS; j++)
			if (next_call[j] < next_call[c])
				c = j;
		struct gop *o = &ops[i];
		memset(o, 0, sizeof *o);
		o->client = (uint32_t)c + 1;
		o->key = (uint32_t)(rnd() % keys);
		uint64_t r = rnd() % 4;
		o->kind = r < 2 ? LINCHECK_GET : r == 2 ? LINCHECK_PUT : LINCHECK_APPEND;
		o->call = next_call[c];
		o->lp = o->call + uniform(1, 20);
		o->ret = o->lp + uniform(1, 20);
		next_call[c] = o->ret + uniform(0, 10);
		char buf[48];
		seq[c]++;
		if (o->kind == LINCHECK_PUT)
			snprintf(buf, sizeof buf, "c%d.%" PRIu32, c + 1, seq[c]);
		else
			snprintf(buf, sizeof buf, "+%d.%" PRIu32, c + 1, seq[c]);
		if (o->kind != LINCHECK_GET)
			o->value = xstrdup(buf);
	}
	/* the sequential store, in order of linearization points */
	struct gop **order = xmalloc(n * sizeof *order);
	for (size_t i = 0; i < n; i++)
		order[i] = &ops[i];
	qsort(order, n, sizeof *order, by_lp);
	struct kstate *ks = calloc(keys, sizeof *ks);
	if (!ks) {
		fprintf(stderr, "lincheck bench: out of memory\n");
		exit(1);
	}
	for (uint32_t k = 0; k < keys; k++)
		ks[k].value = xstrdup("");
	int injected = 0;
	for (size_t i = 0; i < n; i++) {
		struct gop *o = order[i];
		struct kstate *s = &ks[o->key];
		if (o->kind == LINCHECK_GET) {
			if (stale && !injected && i >= n / 2 && s->written && s->last_write_ret < o->call) {
				o->out = xstrdup(s->prev);
				o->out_version = s->prev_version;
				injected = 1;
			} else {
				o->out = xstrdup(s->value);
				o->out_version = s->version;
			}
			continue;
		}
		free(s->prev);
		s->prev = s->value;
		s->prev_version = s->version;
		if (o->kind == LINCHECK_PUT) {
			s->value = xstrdup(o->value);
		} else {
			size_t a = strlen(s->prev), b = strlen(o->value);
			s->value = xmalloc(a + b + 1);
			memcpy(s->value, s->prev, a);
			memcpy(s->value + a, o->value, b + 1);
		}
		s->version++;
		s->written = 1;
		s->last_write_ret = o->ret;
	}
	if (stale && !injected) {
		fprintf(stderr, "lincheck bench: no get to make stale\n");
		exit(1);
	}
	/* the history, in call order (as a recorder would see it) */
	for (size_t i = 0; i < n; i++) {
		struct gop *o = &ops[i];
		char key[16];
		snprintf(key, sizeof key, "k%" PRIu32, o->key);
		struct lincheck_op op = {
			.client = o->client, .kind = o->kind, .key = key, .value = o->value,
			.call = o->call, .ret = o->ret, .out_value = o->out, .out_version = o->out_version,
		};
		if (lincheck_add(h, &op, NULL) != LINCHECK_OK) {
			fprintf(stderr, "lincheck bench: lincheck_add: %s\n", h->errmsg);
			exit(1);
		}
		free(o->value);
		free(o->out);
	}
	for (uint32_t k = 0; k < keys; k++) {
		free(ks[k].value);
		free(ks[k].prev);
	}
	free(ks);
	free(order);
	free(ops);
}

static void one_case(size_t n, uint32_t keys, int stale)
{
	struct lincheck_history h;
	lincheck_history_init(&h);
	generate(&h, n, keys, stale, 1000003ULL * n + 7919ULL * keys + (uint64_t)stale);
	struct lincheck_result r;
	double t0 = now_ms();
	int v = lincheck_check(&h, BUDGET, &r);
	double t1 = now_ms();
	char name[64];
	if (n % 1000 == 0)
		snprintf(name, sizeof name, "lincheck_%zuk_ops_%" PRIu32 "_key%s_%s", n / 1000, keys,
			 keys == 1 ? "" : "s", stale ? "stale" : "legal");
	else
		snprintf(name, sizeof name, "lincheck_%zu_ops_%" PRIu32 "_key%s_%s", n, keys,
			 keys == 1 ? "" : "s", stale ? "stale" : "legal");
	char steps[24];
	if (v == LINCHECK_ENOMEM)
		snprintf(steps, sizeof steps, "-");  /* the result holds no count then */
	else
		snprintf(steps, sizeof steps, "%" PRIu64, r.steps);
	printf("%-36s %-8s %10s steps %9.1f wall_ms %8ld KiB_peak_rss\n", name,
	       v == LINCHECK_ENOMEM ? "enomem" : lincheck_status_name((enum lincheck_status)v), steps,
	       t1 - t0, vmhwm_kib());
	fflush(stdout);
	lincheck_result_free(&r);
	lincheck_history_free(&h);
}

static void run_forked(size_t n, uint32_t keys, int stale)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		struct rlimit rl = { (rlim_t)MEM_LIMIT_MIB << 20, (rlim_t)MEM_LIMIT_MIB << 20 };
		setrlimit(RLIMIT_AS, &rl);
		one_case(n, keys, stale);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("(lincheck case %zu ops %" PRIu32 " keys failed)\n", n, keys);
}

int main(int argc, char **argv)
{
	if (argc == 3) {
		size_t n = (size_t)strtoull(argv[1], NULL, 10);
		uint32_t keys = (uint32_t)strtoul(argv[2], NULL, 10);
		if (n < 2 || keys < 1)
			return 2;
		run_forked(n, keys, 0);
		run_forked(n, keys, 1);
		return 0;
	}
	static const size_t sizes[] = { 1000, 10000, 100000 };
	static const uint32_t key_counts[] = { 1, 100 };
	printf("lincheck_history %d clients, 50%% get 25%% put 25%% append; budget %llu steps, %d MiB per case\n",
	       CLIENTS, (unsigned long long)BUDGET, MEM_LIMIT_MIB);
	for (size_t k = 0; k < sizeof key_counts / sizeof *key_counts; k++)
		for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
			run_forked(sizes[s], key_counts[k], 0);
			run_forked(sizes[s], key_counts[k], 1);
		}
	return 0;
}

/*
 * corpus.c — `termscope corpus`: deterministic made-up prose for MapReduce
 * jobs, DIR/text-00.txt, text-01.txt, ...
 *
 * The text is shaped like a book, so that word count and the index behave as
 * they would on real input: a vocabulary of pronounceable words built from
 * syllables (frequent words short, rare ones long, a few of them names that
 * are always capitalised), drawn with a Zipf-like law (the word of rank r
 * about as often as 1/(r + 0.8)^1.1), in sentences of varying length that start
 * with a capital and end with . ? or !, with the odd comma, semicolon and
 * number, gathered into paragraphs, lines wrapped at 70 columns.
 *
 * Everything comes from the seed through core/rng: the vocabulary from the
 * seed alone, file i's text from (seed, i), so text-03.txt is the same
 * whatever --files says, and --mb only says where it stops.  Each file ends
 * on a whole line, at most the requested size and less than a line short of
 * it.  Files are written to a temp name, fsync'd and renamed.
 *
 * It never reads anything, and touches nothing outside DIR.
 */
#include "corpus.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/rng.h"

#define VOCAB 30000
#define ZIPF_S 1.1
#define ZIPF_Q 0.8
#define WIDTH 70
#define MAX_WORD 16
#define MAX_FILES 1000
#define MAX_MB 1024.0
#define DEFAULT_FILES 8
#define DEFAULT_MB 0.03125                   /* 32 KiB: the shipped corpus */
#define DEFAULT_SEED 1

static const char usage_line[] = "usage: termscope corpus [--files N] [--mb X] [--seed S] DIR";

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "termscope corpus: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (%s)\n", usage_line);
	return 2;
}

/* ---- the vocabulary ------------------------------------------------------ */

struct weighted {
	const char *s;
	unsigned w;
};

static const struct weighted onsets[] = {
	{ "", 14 }, { "b", 4 }, { "c", 3 }, { "d", 5 }, { "f", 3 }, { "g", 3 }, { "h", 5 },
	{ "j", 1 }, { "k", 2 }, { "l", 5 }, { "m", 5 }, { "n", 5 }, { "p", 4 }, { "r", 5 },
	{ "s", 6 }, { "t", 7 }, { "v", 2 }, { "w", 4 }, { "y", 1 }, { "z", 1 }, { "br", 1 },
	{ "bl", 1 }, { "cr", 1 }, { "cl", 1 }, { "dr", 1 }, { "fr", 1 }, { "fl", 1 }, { "gr", 1 },
	{ "gl", 1 }, { "pr", 1 }, { "pl", 1 }, { "st", 2 }, { "str", 1 }, { "sp", 1 }, { "sk", 1 },
	{ "sl", 1 }, { "sn", 1 }, { "sw", 1 }, { "th", 4 }, { "sh", 2 }, { "ch", 2 }, { "tr", 2 },
	{ "wh", 1 }, { "qu", 1 },
};
static const struct weighted nuclei[] = {
	{ "a", 9 }, { "e", 10 }, { "i", 7 }, { "o", 7 }, { "u", 4 }, { "ai", 1 }, { "ea", 2 },
	{ "ee", 1 }, { "oo", 1 }, { "ou", 2 }, { "ie", 1 }, { "oa", 1 }, { "y", 1 },
};
static const struct weighted codas[] = {
	{ "", 16 }, { "n", 5 }, { "r", 5 }, { "s", 4 }, { "l", 3 }, { "m", 2 }, { "t", 4 },
	{ "d", 3 }, { "k", 1 }, { "nd", 2 }, { "nt", 1 }, { "st", 1 }, { "rk", 1 }, { "ng", 2 },
	{ "sh", 1 }, { "th", 1 }, { "ck", 1 }, { "x", 1 }, { "ll", 1 }, { "rn", 1 }, { "ss", 1 },
};
/* inside a word: single consonants and lighter codas, so clusters stay sayable */
static const struct weighted inner_onsets[] = {
	{ "", 4 }, { "b", 2 }, { "c", 2 }, { "d", 3 }, { "f", 1 }, { "g", 2 }, { "k", 1 },
	{ "l", 4 }, { "m", 3 }, { "n", 4 }, { "p", 2 }, { "r", 4 }, { "s", 3 }, { "t", 4 },
	{ "v", 2 }, { "th", 1 },
};
static const struct weighted inner_codas[] = {
	{ "", 20 }, { "n", 4 }, { "r", 4 }, { "s", 2 }, { "l", 3 }, { "m", 1 }, { "t", 1 },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *pick(struct rng *g, const struct weighted *t, size_t n)
{
	unsigned total = 0;
	for (size_t i = 0; i < n; i++)
		total += t[i].w;
	uint64_t r = rng_range(g, 0, total);
	for (size_t i = 0; i < n; i++) {
		if (r < t[i].w)
			return t[i].s;
		r -= t[i].w;
	}
	return t[n - 1].s;
}

/* Syllables for the word of this rank: the common words are short. */
static unsigned syllables_for(struct rng *g, size_t rank)
{
	uint64_t r = rng_range(g, 0, 20);
	if (rank < 12)
		return 1;
	if (rank < 150)
		return r < 12 ? 1 : 2;
	if (rank < 2000)
		return r < 5 ? 1 : r < 16 ? 2 : 3;
	return r < 10 ? 2 : r < 18 ? 3 : 4;
}

static bool is_vowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

static void make_word(struct rng *g, size_t rank, char *w)
{
	for (;;) {
		unsigned n = syllables_for(g, rank);
		size_t len = 0;
		bool ok = true;
		for (unsigned i = 0; i < n && ok; i++) {
			const char *parts[3] = {
				i == 0 ? pick(g, onsets, COUNT(onsets)) : pick(g, inner_onsets, COUNT(inner_onsets)),
				pick(g, nuclei, COUNT(nuclei)),
				i + 1 == n ? pick(g, codas, COUNT(codas)) : pick(g, inner_codas, COUNT(inner_codas)),
			};
			if (i > 0 && !parts[0][0] && is_vowel(w[len - 1]))
				parts[0] = "r";                      /* no "eaoo": vowels meet a consonant */
			if (rank < 12) {                             /* the commonest: two or three letters */
				parts[0] = strlen(parts[0]) > 1 ? "t" : parts[0];
				parts[1] = strlen(parts[1]) > 1 ? "e" : parts[1];
				parts[2] = strlen(parts[2]) > 1 ? "" : parts[2];
			}
			for (int p = 0; p < 3; p++) {
				size_t k = strlen(parts[p]);
				if (len + k >= MAX_WORD) {
					ok = false;
					break;
				}
				memcpy(w + len, parts[p], k);
				len += k;
			}
		}
		w[len] = 0;
		if (ok && len >= 1 && (len >= 2 || rank < 3))
			return;
	}
}

struct vocab {
	char (*words)[MAX_WORD];
	bool *proper;                        /* always capitalised: a name */
	double *cdf;                         /* cdf[r]: P(rank <= r) */
};

static uint64_t hash_word(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static int vocab_make(struct vocab *v, uint64_t seed)
{
	enum { SLOTS = 65536 };                   /* a power of two above 2 * VOCAB */
	v->words = calloc(VOCAB, sizeof *v->words);
	v->proper = calloc(VOCAB, sizeof *v->proper);
	v->cdf = calloc(VOCAB, sizeof *v->cdf);
	int32_t *slot = malloc(SLOTS * sizeof *slot);
	if (!v->words || !v->proper || !v->cdf || !slot) {
		free(slot);
		return -1;
	}
	for (size_t i = 0; i < SLOTS; i++)
		slot[i] = -1;
	struct rng g;
	rng_seed(&g, rng_mix(seed, 0x766f636162ULL /* "vocab" */));
	for (size_t r = 0; r < VOCAB; r++) {
		for (;;) {
			make_word(&g, r, v->words[r]);
			size_t h = (size_t)hash_word(v->words[r]) & (SLOTS - 1);
			while (slot[h] >= 0 && strcmp(v->words[slot[h]], v->words[r]) != 0)
				h = (h + 1) & (SLOTS - 1);
			if (slot[h] < 0) {
				slot[h] = (int32_t)r;
				break;
			}
		}
		v->proper[r] = r >= 40 && rng_range(&g, 0, 25) == 0;
	}
	free(slot);
	double sum = 0;
	for (size_t r = 0; r < VOCAB; r++) {
		sum += pow((double)r + 1 + ZIPF_Q, -ZIPF_S);
		v->cdf[r] = sum;
	}
	for (size_t r = 0; r < VOCAB; r++)
		v->cdf[r] /= sum;
	return 0;
}

static void vocab_free(struct vocab *v)
{
	free(v->words);
	free(v->proper);
	free(v->cdf);
}

static size_t vocab_draw(const struct vocab *v, struct rng *g)
{
	double u = rng_double(g);
	size_t lo = 0, hi = VOCAB - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->cdf[mid] <= u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- one file's text ---------------------------------------------------- */

struct text {
	char *buf;
	size_t len, target;
	char line[WIDTH + 1];
	size_t line_len;
	bool full;                           /* the next line did not fit: stop */
};

static void flush_line(struct text *t)
{
	if (t->full || t->line_len == 0)
		return;
	if (t->len + t->line_len + 1 > t->target) {
		t->full = true;
		return;
	}
	memcpy(t->buf + t->len, t->line, t->line_len);
	t->len += t->line_len;
	t->buf[t->len++] = '\n';
	t->line_len = 0;
}

static void blank_line(struct text *t)
{
	flush_line(t);
	if (t->full)
		return;
	if (t->len + 1 > t->target) {
		t->full = true;
		return;
	}
	t->buf[t->len++] = '\n';
}

static void put_token(struct text *t, const char *tok, size_t n)
{
	if (t->line_len && t->line_len + 1 + n > WIDTH)
		flush_line(t);
	if (t->full)
		return;
	if (t->line_len)
		t->line[t->line_len++] = ' ';
	memcpy(t->line + t->line_len, tok, n);
	t->line_len += n;
}

static unsigned sentence_length(struct rng *g)
{
	unsigned n = 3 + (unsigned)(rng_range(g, 0, 8) + rng_range(g, 0, 8) + rng_range(g, 0, 6));
	if (rng_range(g, 0, 10) == 0)
		n += 5 + (unsigned)rng_range(g, 0, 12);                       /* now and then a long one */
	return n;
}

static void sentence(struct text *t, const struct vocab *v, struct rng *g)
{
	unsigned n = sentence_length(g);
	size_t prev = VOCAB;
	for (unsigned i = 0; i < n && !t->full; i++) {
		char tok[MAX_WORD + 8];
		size_t len;
		if (i > 0 && rng_range(g, 0, 250) == 0) {
			/* a number: a year or a count */
			uint64_t x = rng_range(g, 0, 2) ? rng_range(g, 1700, 2000) : rng_range(g, 2, 100);
			len = (size_t)snprintf(tok, sizeof tok, "%" PRIu64, x);
		} else {
			size_t r = vocab_draw(v, g);
			if (r == prev)                       /* "the the" is rare in prose */
				r = vocab_draw(v, g);
			prev = r;
			len = strlen(v->words[r]);
			memcpy(tok, v->words[r], len);
			if (i == 0 || v->proper[r])
				tok[0] = (char)(tok[0] - 'a' + 'A');
		}
		if (i + 1 == n) {
			uint64_t e = rng_range(g, 0, 100);
			tok[len++] = e < 85 ? '.' : e < 94 ? '?' : '!';
		} else if (i > 0) {
			uint64_t c = rng_range(g, 0, 100);
			if (c < 7)
				tok[len++] = ',';
			else if (c == 7)
				tok[len++] = ';';
		}
		put_token(t, tok, len);
	}
}

static void make_text(struct text *t, const struct vocab *v, uint64_t seed, unsigned file)
{
	struct rng g;
	rng_seed(&g, rng_mix(seed, 1000 + (uint64_t)file));
	while (!t->full) {
		unsigned sentences = 2 + (unsigned)rng_range(&g, 0, 6);
		for (unsigned i = 0; i < sentences && !t->full; i++)
			sentence(t, v, &g);
		blank_line(t);
	}
	/* end on the paragraph's last line, not on a blank one */
	if (t->len >= 2 && t->buf[t->len - 1] == '\n' && t->buf[t->len - 2] == '\n')
		t->len--;
}

/* ---- files ---------------------------------------------------------------- */

static int mkdir_p(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			if (mkdir(buf, 0777) != 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				break;
		}
	}
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* Write crash-safely: temp, write, fsync, rename. */
static int write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char tmp[4200], path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", dir, name);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "termscope corpus: cannot write in %s: %s\n", dir, strerror(errno));
		return -1;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		done += (size_t)w;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "termscope corpus: cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* ---- the command ---------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int corpus_main(int argc, char **argv)
{
	uint64_t files = DEFAULT_FILES, seed = DEFAULT_SEED;
	double mb = DEFAULT_MB;
	const char *dir = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("%s\n\n"
			       "Writes DIR/text-00.txt ... : made-up prose (a Zipf-like vocabulary of\n"
			       "pronounceable words, sentences, paragraphs, 70 columns), the same for\n"
			       "the same seed.\n\n"
			       "  --files N   how many files, 1 to %d (default %d)\n"
			       "  --mb X      MiB per file, more than 0 and at most %g (default %g: 32 KiB)\n"
			       "  --seed S    the seed (default %d)\n",
			       usage_line, MAX_FILES, DEFAULT_FILES, MAX_MB, DEFAULT_MB, DEFAULT_SEED);
			return 0;
		} else if (strcmp(a, "--files") == 0) {
			if (parse_u64(val, &files) != 0 || files < 1 || files > MAX_FILES)
				return bad_usage("--files needs a whole number from 1 to 1000, got '%s'",
						 val ? val : "nothing");
			i++;
		} else if (strcmp(a, "--mb") == 0) {
			char *end = NULL;
			mb = val ? strtod(val, &end) : 0;
			if (!val || !*val || *end || !(mb > 0 && mb <= MAX_MB))
				return bad_usage("--mb needs a number of MiB above 0 and at most 1024, got '%s'",
						 val ? val : "nothing");
			i++;
		} else if (strcmp(a, "--seed") == 0) {
			if (parse_u64(val, &seed) != 0)
				return bad_usage("--seed needs a whole number, got '%s'", val ? val : "nothing");
			i++;
		} else if (a[0] == '-' && a[1]) {
			return bad_usage("unknown option %s", a);
		} else if (!dir) {
			dir = a;
		} else {
			return bad_usage("unexpected argument '%s'", a);
		}
	}
	if (!dir || !*dir)
		return bad_usage("%s", "which directory? name one");

	size_t target = (size_t)(mb * 1048576.0 + 0.5);
	if (mkdir_p(dir) != 0) {
		fprintf(stderr, "termscope corpus: cannot make the directory %s: %s\n", dir, strerror(errno));
		return 1;
	}
	struct vocab v;
	struct text t = { .buf = malloc(target + 1), .target = target };
	if (!t.buf || vocab_make(&v, seed) != 0) {
		fprintf(stderr, "termscope corpus: out of memory\n");
		free(t.buf);
		return 1;
	}
	int rc = 0;
	size_t total = 0;
	for (unsigned f = 0; f < files && rc == 0; f++) {
		char name[32];
		snprintf(name, sizeof name, "text-%02u.txt", f);
		t.len = 0;
		t.line_len = 0;
		t.full = false;
		make_text(&t, &v, seed, f);
		if (write_file(dir, name, t.buf, t.len) != 0)
			rc = 1;
		total += t.len;
	}
	sync_dir(dir);
	vocab_free(&v);
	free(t.buf);
	if (rc == 0)
		printf("%s: %" PRIu64 " file%s, %zu bytes in all (seed %" PRIu64 ")\n", dir, files,
		       files == 1 ? "" : "s", total, seed);
	return rc;
}

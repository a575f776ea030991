/*
 * mrseq.c — `termscope mr-seq APP FILES... [-o OUT]`: MapReduce without the
 * distribution (6.824's mrsequential).  Map every input file in order, sort
 * every pair by key (byte order; pairs with equal keys keep the order map
 * made them in), reduce each key's values, and write "key value" lines to
 * OUT (default mr-out-0), through a temp file renamed into place.
 *
 * What a distributed run must reproduce: sorted, its mr-out-* files are
 * these lines.  The app runs as worker 0 with seed 0, mr.dir is OUT's
 * directory, and virtual time is the sum of the app's mr.sleep calls so
 * far (one worker, nothing in parallel).  An app that crashes (mr.crash)
 * is an error here: there is no one to take the task over.
 *
 * It owns its buffers and OUT; it never leaves a partial OUT behind.
 */
#include "mrseq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mrapp.h"

#define ERRLEN 512

static const char usage_line[] = "usage: termscope mr-seq APP FILES... [-o OUT]";

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "termscope mr-seq: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (%s)\n", usage_line);
	return 2;
}

/* Every pair map made, in order: keys and values back to back in one arena. */
struct pair {
	size_t off;                          /* key at arena + off, its value right after */
	size_t klen, vlen;
	const uint8_t *key;                  /* set once the arena stops moving */
};

struct pairs {
	uint8_t *arena;
	size_t used, cap;
	struct pair *v;
	size_t n, vcap;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 1024;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			return -1;
		c *= 2;
	}
	void *q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static int emit(void *ud, const uint8_t *key, size_t klen, const uint8_t *value, size_t vlen)
{
	struct pairs *ps = ud;
	if (klen > SIZE_MAX / 2 || vlen > SIZE_MAX / 2 - klen || ps->used > SIZE_MAX - klen - vlen)
		return -1;
	if (grow((void **)&ps->arena, &ps->cap, ps->used + klen + vlen, 1) != 0 ||
	    grow((void **)&ps->v, &ps->vcap, ps->n + 1, sizeof *ps->v) != 0)
		return -1;
	struct pair *p = &ps->v[ps->n++];
	p->off = ps->used;
	p->klen = klen;
	p->vlen = vlen;
	if (klen)
		memcpy(ps->arena + ps->used, key, klen);
	if (vlen)
		memcpy(ps->arena + ps->used + klen, value, vlen);
	ps->used += klen + vlen;
	return 0;
}

static int key_cmp(const struct pair *x, const struct pair *y)
{
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = n ? memcmp(x->key, y->key, n) : 0;
	if (c)
		return c;
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* By key, then by the order map made them: a stable sort. */
static int by_key(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = key_cmp(x, y);
	if (c)
		return c;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t *buf = NULL;
	size_t used = 0, cap = 0;
	for (;;) {
		if (grow((void **)&buf, &cap, used + 65536, 1) != 0) {
			errno = ENOMEM;
			break;
		}
		size_t r = fread(buf + used, 1, cap - used, f);
		used += r;
		if (r == 0) {
			if (ferror(f))
				break;
			fclose(f);
			*data = buf;
			*len = used;
			return 0;
		}
	}
	int e = errno ? errno : EIO;
	fclose(f);
	free(buf);
	errno = e;
	return -1;
}

/* OUT's directory: mr.dir, and where the temp file goes. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static bool write_all(FILE *f, const void *p, size_t n)
{
	return n == 0 || fwrite(p, 1, n, f) == n;
}

int mrseq_main(int argc, char **argv)
{
	const char *app_name = NULL, *out = "mr-out-0";
	const char **files = calloc((size_t)argc + 1, sizeof *files);
	size_t nfiles = 0;
	if (!files) {
		fprintf(stderr, "termscope mr-seq: out of memory\n");
		return 1;
	}
	bool options = true;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (options && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			printf("%s\n\n"
			       "Runs a MapReduce job in one process, in order: map every file, sort the\n"
			       "pairs by key, reduce each key, write \"key value\" lines to OUT (default\n"
			       "mr-out-0).  APP is a built-in app (wc, indexer, ...: lua/apps/) or a .lua\n"
			       "file defining map(filename, contents) and reduce(key, values).\n",
			       usage_line);
			free(files);
			return 0;
		} else if (options && strcmp(a, "-o") == 0) {
			if (i + 1 >= argc || !*argv[i + 1]) {
				free(files);
				return bad_usage("%s needs a file name", "-o");
			}
			out = argv[++i];
		} else if (options && strcmp(a, "--") == 0) {
			options = false;
		} else if (options && a[0] == '-' && a[1]) {
			free(files);
			return bad_usage("unknown option %s", a);
		} else if (!app_name) {
			app_name = a;
		} else {
			files[nfiles++] = a;
		}
	}
	if (!app_name) {
		free(files);
		return bad_usage("%s", "which app, and which input files?");
	}
	if (nfiles == 0) {
		free(files);
		return bad_usage("%s", "no input files");
	}

	int rc = 1;
	char err[ERRLEN];
	struct pairs ps = { 0 };
	uint8_t *data = NULL, *result = NULL;
	const uint8_t **vals = NULL;
	size_t *vlens = NULL, vals_cap = 0, vlens_cap = 0;
	char *dir = NULL, *tmp = NULL;
	FILE *f = NULL;
	double now = 0;                      /* virtual seconds: the sleeps so far */
	int fd;
	struct mrapp *app = mrapp_open(app_name, 0, 0, err, sizeof err);
	if (!app) {
		fprintf(stderr, "termscope mr-seq: %s\n", err);
		goto out;
	}
	if (!(dir = dir_of(out)) || mrapp_set_dir(app, dir) != 0)
		goto oom;

	/* the output goes to a temp file beside OUT: made first, so an OUT that
	 * cannot be written fails before any work */
	if (!(tmp = malloc(strlen(out) + 16)))
		goto oom;
	sprintf(tmp, "%s.tmp-XXXXXX", out);
	fd = mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "termscope mr-seq: cannot write %s: %s\n", out, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		tmp = NULL;
		goto out;
	}

	/* map, in order */
	for (size_t i = 0; i < nfiles; i++) {
		size_t len;
		if (read_file(files[i], &data, &len) != 0) {
			fprintf(stderr, "termscope mr-seq: cannot read %s: %s\n", files[i], strerror(errno));
			goto out;
		}
		mrapp_set_now(app, (uint64_t)(now * 1000.0 + 0.5));
		int r = mrapp_map(app, files[i], data, len, emit, &ps, err, sizeof err);
		now += mrapp_take_slept(app);
		free(data);
		data = NULL;
		if (r != MRAPP_OK) {
			fprintf(stderr, "termscope mr-seq: map of %s: %s\n", files[i], err);
			goto out;
		}
	}

	/* sort by key, stably */
	for (size_t i = 0; i < ps.n; i++)
		ps.v[i].key = ps.arena + ps.v[i].off;
	if (ps.n > 1)
		qsort(ps.v, ps.n, sizeof *ps.v, by_key);

	/* reduce each key */
	for (size_t i = 0; i < ps.n;) {
		size_t j = i;
		while (j < ps.n && key_cmp(&ps.v[i], &ps.v[j]) == 0)
			j++;
		if (grow((void **)&vals, &vals_cap, j - i, sizeof *vals) != 0 ||
		    grow((void **)&vlens, &vlens_cap, j - i, sizeof *vlens) != 0)
			goto oom;
		for (size_t k = i; k < j; k++) {
			vals[k - i] = ps.v[k].key + ps.v[k].klen;
			vlens[k - i] = ps.v[k].vlen;
		}
		mrapp_set_now(app, (uint64_t)(now * 1000.0 + 0.5));
		size_t rlen;
		int r = mrapp_reduce(app, ps.v[i].key, ps.v[i].klen, vals, vlens, j - i, &result, &rlen, err,
				     sizeof err);
		now += mrapp_take_slept(app);
		if (r != MRAPP_OK) {
			int kl = ps.v[i].klen > 60 ? 60 : (int)ps.v[i].klen;
			fprintf(stderr, "termscope mr-seq: reduce of key '%.*s': %s\n", kl,
				(const char *)ps.v[i].key, err);
			goto out;
		}
		if (!write_all(f, ps.v[i].key, ps.v[i].klen) || fputc(' ', f) == EOF ||
		    !write_all(f, result, rlen) || fputc('\n', f) == EOF)
			goto write_failed;
		free(result);
		result = NULL;
		i = j;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto write_failed;
	fd = fclose(f);
	f = NULL;
	if (fd != 0 || rename(tmp, out) != 0)
		goto write_failed;
	free(tmp);
	tmp = NULL;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	rc = 0;
	goto out;

write_failed:
	fprintf(stderr, "termscope mr-seq: cannot write %s: %s\n", out, strerror(errno));
	goto out;
oom:
	fprintf(stderr, "termscope mr-seq: out of memory\n");
out:
	if (f)
		fclose(f);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(result);
	free(vals);
	free(vlens);
	free(data);
	free(ps.arena);
	free(ps.v);
	free(dir);
	free(files);
	mrapp_close(app);
	return rc;
}

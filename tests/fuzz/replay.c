/*
 * replay.c — run the fuzz target over saved inputs, without libFuzzer.
 *
 *   replay DIR|FILE...
 *
 * Calls LLVMFuzzerTestOneInput once for every regular file in each
 * directory (in name order, not recursing) and for every file named
 * directly, then prints "replayed N inputs".  Built with gcc and the
 * sanitizers, this is how `make test` keeps the seed corpus (and any crash
 * the fuzzer once found, saved there) passing.  A directory or file that
 * cannot be read is an error: exit status 1.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read a whole file; NULL with errno set on failure. */
static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		size_t k = fread(buf + len, 1, cap - len, f);
		len += k;
		if (k == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	*n = len;
	return buf;
}

static int replay_file(const char *path)
{
	size_t n;
	uint8_t *data = slurp(path, &n);
	if (!data) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static int only_visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: replay DIR|FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) < 0)
				status = 1;
			else
				count++;
			continue;
		}
		struct dirent **names;
		int n = scandir(argv[i], &names, only_visible, alphasort);
		if (n < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		for (int k = 0; k < n; k++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
			free(names[k]);
			if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			if (replay_file(path) < 0)
				status = 1;
			else
				count++;
		}
		free(names);
	}
	printf("replayed %lu inputs\n", count);
	return status;
}

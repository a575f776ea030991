/*
 * main.c — the command line: which program termscope is this time.
 *
 *   termscope [OPTIONS]               the built-in demo (the dashboard comes here)
 *   termscope run FILE.lua [OPTIONS]  a scenario
 *   termscope check EVENTS.jsonl      invariant checks over an events file
 *   termscope node ...                a node process (spawned by termscope)
 *
 * It parses and dispatches, nothing more.  Bad usage is exit code 2 with a
 * one-line hint.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <uv.h>

#include "hub/evcheck.h"
#include "node/corpus.h"
#include "node/mrseq.h"
#include "node/node.h"
#include "script/runtime.h"
#include "version.h"

static const char usage_text[] =
	"termscope — learn how distributed systems behave by running them\n"
	"\n"
	"usage:\n"
	"  termscope [OPTIONS]                the dashboard: a live 5-node KV cluster on Raft (? for keys)\n"
	"  termscope --headless [OPTIONS]     the built-in demo without a screen: a leader lost and found\n"
	"  termscope --headless --resp PORT   a live key/value cluster without a screen, for Redis clients\n"
	"  termscope run FILE.lua [OPTIONS]   run a scenario on the dashboard, or --headless (see README.md)\n"
	"  termscope lessons                  the lessons, numbered, with your progress\n"
	"  termscope lesson N [--autopilot]   a guided lesson on the dashboard (--autopilot: its\n"
	"                                     solutions, performed; with --headless, a test)\n"
	"  termscope check EVENTS.jsonl       check an events file: one leader per term, the same\n"
	"                                     command applied at each index everywhere\n"
	"  termscope mr-seq APP FILES... [-o OUT]\n"
	"                                     MapReduce in one process, in order: the reference\n"
	"                                     output (APP: wc, indexer, ... or a .lua file)\n"
	"  termscope corpus [--files N] [--mb X] [--seed S] DIR\n"
	"                                     write made-up text to DIR/text-NN.txt for MapReduce\n"
	"  termscope --help | --version\n"
	"\n"
	"options:\n"
	"  --headless         no screen: print what the script prints\n"
	"  --seed N           the run's seed: the same seed replays the same run (default: random)\n"
	"  --events FILE      write every event as a JSON line to FILE\n"
	"  --keep             keep the run's data dirs (their place is printed at exit)\n"
	"  --pace fast|paced|real  fast: virtual time as fast as the nodes answer (headless scripts'\n"
	"                     default); paced: it follows the wall clock times --speed (the dashboard's);\n"
	"                     real: the wall clock, every node at work at once (for speed; not replayable)\n"
	"  --speed X          paced: virtual seconds per wall second, 0.05 to 20 (default 1)\n"
	"  --resp PORT        a Redis-protocol (RESP) gateway to the key/value cluster on\n"
	"                     127.0.0.1:PORT (redis-cli -p PORT set a 1); with --headless and\n"
	"                     no script: serve a live 5-node cluster, in real pace, until Ctrl-C\n"
	"  --resp-timeout S   seconds a gateway request may wait for an answer (default 5)\n"
	"  --kind K           the live cluster (no script): kv (default: 5 servers, Raft underneath),\n"
	"                     raft (5 bare Raft peers) or etcd (3 real etcd members, through the hub;\n"
	"                     needs etcd installed; real pace)\n"
	"\n"
	"exit codes: 0 success, 1 a failed script or check, 2 bad usage\n";

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "termscope: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try termscope --help)\n");
	return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!s || !*s || *s == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "node") == 0)
		return node_main(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "child") == 0)
		return child_main(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "mr-seq") == 0)
		return mrseq_main(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "corpus") == 0)
		return corpus_main(argc - 2, argv + 2);

	struct rt_opts o = { .pace = HUB_FAST, .speed = 1.0 };
	const char *cmd = NULL, *file = NULL;
	bool pace_given = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("termscope %s\n", TERMSCOPE_VERSION);
			return 0;
		} else if (strcmp(a, "--headless") == 0) {
			o.headless = true;
		} else if (strcmp(a, "--autopilot") == 0) {
			o.autopilot = true;
		} else if (strcmp(a, "--keep") == 0) {
			o.keep = true;
		} else if (strcmp(a, "--seed") == 0) {
			if (parse_u64(val, &o.seed) != 0 || o.seed > (uint64_t)INT64_MAX)
				return bad_usage("--seed needs a whole number, got '%s'", val ? val : "nothing");
			o.seed_given = true;
			i++;
		} else if (strcmp(a, "--events") == 0) {
			if (!val || !*val)
				return bad_usage("%s needs a file name", a);
			o.events = val;
			i++;
		} else if (strcmp(a, "--pace") == 0) {
			if (val && strcmp(val, "fast") == 0)
				o.pace = HUB_FAST;
			else if (val && strcmp(val, "paced") == 0)
				o.pace = HUB_PACED;
			else if (val && strcmp(val, "real") == 0)
				o.pace = HUB_REAL;
			else
				return bad_usage("--pace is fast, paced or real, got '%s'", val ? val : "nothing");
			pace_given = true;
			i++;
		} else if (strcmp(a, "--speed") == 0) {
			char *end;
			double s = val ? strtod(val, &end) : 0;
			if (!val || *end || !(s >= 0.05 && s <= 20))
				return bad_usage("--speed is a number from 0.05 to 20, got '%s'", val ? val : "nothing");
			o.speed = s;
			i++;
		} else if (strcmp(a, "--resp") == 0) {
			uint64_t port;
			if (parse_u64(val, &port) != 0 || port < 1 || port > 65535)
				return bad_usage("--resp needs a TCP port, 1 to 65535, got '%s'", val ? val : "nothing");
			o.resp_port = (int)port;
			i++;
		} else if (strcmp(a, "--resp-timeout") == 0) {
			char *end;
			double s = val ? strtod(val, &end) : 0;
			if (!val || *end || !(s >= 0.001 && s <= 86400))
				return bad_usage("--resp-timeout is in seconds, from 0.001 to 86400, got '%s'",
						 val ? val : "nothing");
			o.resp_timeout_ms = (uint64_t)(s * 1000.0 + 0.5);
			i++;
		} else if (strcmp(a, "--kind") == 0) {
			if (!val || (strcmp(val, "kv") != 0 && strcmp(val, "raft") != 0 && strcmp(val, "etcd") != 0))
				return bad_usage("--kind is kv, raft or etcd, got '%s'", val ? val : "nothing");
			o.kind = val;
			i++;
		} else if (a[0] == '-') {
			return bad_usage("unknown option %s", a);
		} else if (!cmd) {
			cmd = a;
		} else if (!file) {
			file = a;
		} else {
			return bad_usage("unexpected argument '%s'", a);
		}
	}

	if (cmd && strcmp(cmd, "check") == 0) {
		if (!file)
			return bad_usage("%s needs an events file", "check");
		return evcheck_file(file, stdout);
	}
	if (cmd && strcmp(cmd, "lessons") == 0) {
		if (file)
			return bad_usage("unexpected argument '%s'", file);
		o.list_lessons = true;
		o.headless = true;
		cmd = NULL;
	} else if (cmd && strcmp(cmd, "lesson") == 0) {
		if (!file)
			return bad_usage("%s needs a lesson number or name (termscope lessons lists them)", "lesson");
		o.lesson = file;
		file = NULL;
		cmd = NULL;
	} else if (cmd && strcmp(cmd, "run") != 0) {
		return bad_usage("unknown command '%s'", cmd);
	} else if (cmd && !file) {
		return bad_usage("%s needs a Lua file", "run");
	}
	if (o.kind && (file || o.lesson || o.list_lessons))
		return bad_usage("%s is for the live cluster (no script, no lesson): a script says ts.cluster{kind=...}",
				 "--kind");
	if (o.kind && strcmp(o.kind, "etcd") == 0 && !hub_etcd_available())
		return bad_usage("%s", "--kind etcd needs etcd, which is not installed (Debian: apt-get install etcd-server)");
	if (o.autopilot && !o.lesson)
		return bad_usage("%s only goes with termscope lesson", "--autopilot");
	if (!cmd && file && !o.lesson)
		return bad_usage("unexpected argument '%s'", file);
	if (file && access(file, R_OK) != 0)
		return bad_usage("cannot read the script '%s'", file);

	if (!o.seed_given) {
		uint32_t r = 0;
		if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
			r = (uint32_t)uv_hrtime();
		o.seed = r % 100000;
	}
	/* on a screen time follows the wall clock; headless, scripts run as fast
	 * as the nodes answer (the demo is paced: it is for watching) */
	if (!pace_given)
		o.pace = o.headless && file ? HUB_FAST
		       : o.headless && o.resp_port && !o.lesson && !o.list_lessons ? HUB_REAL : HUB_PACED;
	if (o.resp_timeout_ms && !o.resp_port)
		return bad_usage("%s only goes with --resp", "--resp-timeout");
	o.script = file;

	char exe[PATH_MAX];
	size_t exe_len = sizeof exe;
	if (uv_exepath(exe, &exe_len) != 0) {
		fprintf(stderr, "termscope: cannot find my own executable\n");
		return 1;
	}
	o.exe = exe;
	return rt_run(&o);
}

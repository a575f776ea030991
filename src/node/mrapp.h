/*
 * mrapp.h — a MapReduce application: a Lua file defining map and reduce,
 * loaded into a Lua 5.4 state of its own (one per worker, or one for
 * `termscope mr-seq`).  This is 6.824's mrapps Go plugins, in Lua.
 *
 * An app is a chunk that defines the globals
 *
 *     function map(filename, contents) return { {key, value}, ... } end
 *     function reduce(key, values) return "a string" end
 *
 * or returns a table { map = fn, reduce = fn }.  Map's pairs may also be
 * written { key = k, value = v }; keys and values are strings (numbers are
 * turned into strings).  Built-in apps live in lua/apps/ and are compiled
 * into the binary: "wc" is lua/apps/wc.lua.  A name with a '/' or ending in
 * ".lua" is a file instead.
 *
 * Beside the standard libraries the app sees a table `mr`:
 *
 *   mr.worker           this worker's number
 *   mr.dir              the job's working directory (mrapp_set_dir; "." until set)
 *   mr.now()            virtual seconds: the time the caller last set
 *                       (mrapp_set_now) plus what the app has slept since the
 *                       last mrapp_take_slept
 *   mr.sleep(s)         virtual sleep: adds s seconds to the task's modelled
 *                       duration (the worker adds mrapp_take_slept()); it
 *                       returns at once, nothing blocks
 *   mr.crash()          the worker dies now: the call unwinds (pcall cannot
 *                       hold it) and returns MRAPP_CRASH.  os.exit does the same.
 *   mr.random()         like math.random: a float in [0, 1), or with (m) an
 *   mr.random(m, n)     integer in [1, m], with (m, n) one in [m, n]
 *   mr.files(prefix)    the names of the files in mr.dir that begin with
 *                       prefix, sorted (byte order); Lua has no directory listing
 *
 * debug.sethook is taken away (the hook is the runaway guard); the rest of
 * the standard libraries are there as usual.
 *
 * mr.random and math.random are both seeded from (seed, worker), so a run
 * replays exactly.  A worker that is restarted after a crash should mix its
 * incarnation into `seed`, or it draws the same numbers again (and crash.lua
 * would crash it at the same place for ever).
 *
 * The app must never take the process down: every entry into Lua is one
 * protected call; a count hook stops a call that runs more than the work
 * limit of Lua instructions ("app ran too long") and keeps failing every
 * instruction after, so pcall cannot swallow the stop; the allocator refuses
 * more than MRAPP_MEM_LIMIT bytes, and that is reported as an error too.
 * Errors read "wc.lua:12: attempt to ...".
 *
 * Nothing here knows about the coordinator, files of intermediate records or
 * virtual time beyond the numbers it is handed: that is the worker's.
 */
#ifndef TERMSCOPE_MRAPP_H
#define TERMSCOPE_MRAPP_H

#include <stddef.h>
#include <stdint.h>

enum { MRAPP_OK = 0, MRAPP_ERROR = 1, MRAPP_CRASH = 2 };

#define MRAPP_WORK_LIMIT 1000000000ULL       /* Lua instructions per call: seconds of work */
#define MRAPP_MEM_LIMIT ((size_t)512 << 20)  /* bytes the app's Lua state may hold */

struct mrapp;

/* One pair from map.  Return 0, or nonzero to stop the map (it then fails
 * with "cannot keep map's output"). */
typedef int (*mrapp_emit_fn)(void *ud, const uint8_t *key, size_t klen, const uint8_t *value,
			     size_t vlen);

/* Load an app: a built-in name ("wc") or a .lua file.  NULL with err set
 * ("crash.lua: the app defines no reduce function ...", "x.lua:3: syntax
 * error ...", "no built-in app 'foo' (the built-in apps: ...)"). */
struct mrapp *mrapp_open(const char *name, uint32_t worker, uint64_t seed, char *err, size_t errlen);
void mrapp_close(struct mrapp *a);

/* The app's name as errors show it: "wc.lua", or the file's path. */
const char *mrapp_name(const struct mrapp *a);

/* mr.dir for the calls that follow; 0, or -1 out of memory. */
int mrapp_set_dir(struct mrapp *a, const char *dir);
/* The virtual time, in ms, mr.now() starts from in the calls that follow. */
void mrapp_set_now(struct mrapp *a, uint64_t now_ms);
/* Seconds the app slept (mr.sleep) since the last take; resets to 0. */
double mrapp_take_slept(struct mrapp *a);
/* Lua instructions one call may run (default MRAPP_WORK_LIMIT). */
void mrapp_set_work_limit(struct mrapp *a, uint64_t instructions);

/* map(filename, contents): every pair it returns goes to emit, in order.
 * MRAPP_OK, MRAPP_ERROR (err says why), or MRAPP_CRASH (the app called
 * mr.crash(): the worker must die now; pairs already emitted are moot).
 * Once an app has crashed every later call returns MRAPP_CRASH. */
int mrapp_map(struct mrapp *a, const char *filename, const uint8_t *contents, size_t len,
	      mrapp_emit_fn emit, void *ud, char *err, size_t errlen);

/* reduce(key, {values...}) -> *out (malloc'd, the caller frees; not
 * NUL-terminated, though a NUL follows it), *outlen.  Returns as mrapp_map;
 * on anything but MRAPP_OK *out is NULL. */
int mrapp_reduce(struct mrapp *a, const uint8_t *key, size_t klen, const uint8_t *const *values,
		 const size_t *vlens, size_t n, uint8_t **out, size_t *outlen, char *err, size_t errlen);

#endif

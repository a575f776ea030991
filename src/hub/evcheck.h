/*
 * evcheck.h — invariant checks over an events file (`termscope check`):
 * at most one leader per term, the same command applied at each index on
 * every node, and every node applying in order.  Reads only the file.
 */
#ifndef TERMSCOPE_EVCHECK_H
#define TERMSCOPE_EVCHECK_H

#include <stdio.h>

/* Check path; describe what was found on out.  0: all invariants hold,
 * 1: a violation, 2: the file cannot be read or is not an events file. */
int evcheck_file(const char *path, FILE *out);

#endif

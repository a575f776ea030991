/*
 * corpus.h — `termscope corpus [--files N] [--mb X] [--seed S] DIR`: text
 * to feed MapReduce, made up but shaped like prose.  See corpus.c.
 */
#ifndef TERMSCOPE_CORPUS_H
#define TERMSCOPE_CORPUS_H

/* argv: the arguments after "corpus".  Returns the exit code: 0, 1 (cannot
 * write), 2 (bad usage). */
int corpus_main(int argc, char **argv);

#endif

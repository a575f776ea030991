/*
 * mrseq.h — `termscope mr-seq APP FILES... [-o OUT]`: a MapReduce job run
 * sequentially in one process, the reference a distributed run's output is
 * compared with (6.824's mrsequential).  See mrseq.c.
 */
#ifndef TERMSCOPE_MRSEQ_H
#define TERMSCOPE_MRSEQ_H

/* argv: the arguments after "mr-seq".  Returns the exit code: 0, 1 (the app
 * failed or a file could not be read or written), 2 (bad usage). */
int mrseq_main(int argc, char **argv);

#endif

/*
 * node.h — the node process: `termscope node ...`, spawned by the hub's
 * supervisor, never typed by people.  See node.c.
 */
#ifndef TERMSCOPE_NODE_H
#define TERMSCOPE_NODE_H

/* Runs the node until its hub connection closes; returns the exit code. */
int node_main(int argc, char **argv);
/* termscope child PROGRAM ARGS...: exec PROGRAM, dying with the controller. */
int child_main(int argc, char **argv);

#endif

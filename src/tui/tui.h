/*
 * tui.h — the dashboard: a full-screen view of the cluster on screen, and
 * the keys and prompt that act on it.  See tui.c.
 */
#ifndef TERMSCOPE_TUI_H
#define TERMSCOPE_TUI_H

#include <stdbool.h>
#include <stddef.h>

struct runtime;
struct tui;

/* Take the terminal (it must be one).  NULL with err filled otherwise. */
struct tui *tui_start(struct runtime *rt, char *err, size_t errlen);
/* Give the terminal back exactly as it was; frees t. */
void tui_stop(struct tui *t);
/* Something changed: draw at the next frame. */
void tui_dirty(struct tui *t);
/* What a person's action returned, or why it failed. */
void tui_result(struct tui *t, bool error, const char *text);
/* The script ended: code 0 if it succeeded, else msg says why. */
void tui_script_ended(struct tui *t, int code, const char *msg);

#endif

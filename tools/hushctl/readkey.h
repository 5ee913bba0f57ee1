/*
 * Reading a key from the operator: typed at a terminal with echo off (so
 * it is not left on screen or in a scrollback), or one line from a pipe
 * for scripts.  The line goes straight into guarded memory.
 */
#ifndef HUSHCTL_READKEY_H
#define HUSHCTL_READKEY_H

#include <stddef.h>

#include "secbuf.h"

/* Longest line accepted, newline excluded; keys are far shorter. */
#define READKEY_MAX	256

/*
 * Prompts (only when stdin is a terminal) and reads one line from stdin
 * into buf, allocated here with secbuf and NUL-terminated; *len excludes
 * the newline.  On failure returns a negative code with a reason in why;
 * buf is then empty.  The terminal's settings are restored on every path,
 * including a signal that ends the process while it waits.
 */
int	readkey(const char *prompt, struct secbuf *buf, size_t *len, char *why,
	    size_t whylen);

#endif

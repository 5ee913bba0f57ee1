/*
 * An operator's file read whole into guarded memory: a secret's value
 * (secret create, update), a backup's passphrase (--passphrase-file).
 */
#ifndef HUSHCTL_READFILE_H
#define HUSHCTL_READFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "secbuf.h"

/*
 * Reads path (standard input for NULL or "-") into buf (secbuf, max + 1
 * bytes), *len the bytes read: max + 1 means it holds more than max.
 * regular: refuse anything but a regular file.  On failure prints
 * "hushctl: CMD: why" and returns EXIT_FAIL; buf is then empty.
 */
int	read_bounded(const char *cmd, const char *path, size_t max, bool regular,
	    struct secbuf *buf, size_t *len);

#endif

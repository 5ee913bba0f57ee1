#ifndef HUSHCTL_RECORDS_H
#define HUSHCTL_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * The item_tag records (rec_type) in T_RECORDS of a list or inspect reply,
 * decoded one by one into an array of views of view_size bytes.  A record
 * that does not decode fails the whole reply; free_view (may be NULL)
 * releases what a view holds, also of a half-decoded one.  Returns 0, or
 * EXIT_FAIL after telling the operator, like the commands that call it.
 */
typedef int	(*view_decode_fn)(const struct wire_msg *rec, void *view);
typedef void	(*view_free_fn)(void *view);
int	decode_records(const char *cmd, const struct wire_msg *m, uint16_t item_tag,
	    uint16_t rec_type, size_t view_size, view_decode_fn decode,
	    view_free_fn free_view, void **out, size_t *nout);
void	free_records(void *views, size_t n, size_t view_size, view_free_fn free_view);

#endif

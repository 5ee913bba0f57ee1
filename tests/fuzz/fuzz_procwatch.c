/*
 * procwatch_parse on arbitrary datagrams: no crash, no read outside the
 * input, and either an error or a count of the exits it reported.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "procwatch.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
count(void *arg, pid_t pid, uint32_t code, uint32_t sig)
{
	if (pid <= 0)
		abort();
	(*(int *)arg)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *copy;
	int n = 0, r;

	/* Exactly len bytes, aligned as recvmsg's buffer is: ASan sees overreads. */
	if ((copy = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(copy, data, len);
	r = procwatch_parse(copy, len, count, &n);
	if (r >= 0 && r != n)
		abort();
	if (r < 0 && r != HUSH_E_FORMAT)
		abort();
	free(copy);
	return 0;
}

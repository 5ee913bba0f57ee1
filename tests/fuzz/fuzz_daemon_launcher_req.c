/*
 * libFuzzer harness for what the launcher reads from the parent
 * (launch_req_decode()): the parent is the less privileged side, so
 * whatever is accepted must name a role in the table, a known operation,
 * and for a kill a real pid -- never 0 or -1, which kill() would widen to a
 * process group or to every process.
 */
#include <stdint.h>
#include <stdlib.h>

#include "launcher.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct launch_req r;

	for (size_t nroles = 0; nroles <= 8; nroles += 4) {
		if (launch_req_decode(data, size, nroles, &r) != 0)
			continue;
		if (size != sizeof(r) || r.role >= nroles)
			abort();
		if (r.op == LAUNCH_SPAWN ? r.pid != 0 : (r.op != LAUNCH_KILL || r.pid <= 0))
			abort();
	}
	return 0;
}

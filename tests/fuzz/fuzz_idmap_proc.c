/*
 * idmap_parse_proc on arbitrary bytes: no crash; on failure an empty map,
 * no identity and a printable message; on success a map that survives the
 * wire encoding unchanged (so every extent passed idmap_add's rules).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "idmap.h"
#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct idmap m, back;
static struct wire_msg msg;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_enc e;
	const uint8_t *buf, *p;
	size_t len, plen;
	char why[256];
	bool identity;
	int r;

	r = idmap_parse_proc((const char *)data, size, &m, &identity, why, sizeof(why));
	if (r != 0) {
		if (r < HUSH_E_MIN || m.n != 0 || identity || why[0] == '\0')
			abort();
		for (size_t i = 0; why[i] != '\0'; i++)
			if (why[i] < 0x20 || why[i] > 0x7e)
				abort();
		return 0;
	}
	if (identity) {
		if (m.n != 0)
			abort();
		return 0;
	}
	if (m.n == 0)
		abort();
	wire_enc_init(&e, 1, 0, WIRE_MAX_MSG);
	idmap_put(&e, 2, &m);
	if (wire_enc_finish(&e, &buf, &len) != 0 ||
	    wire_decode(buf, len, WIRE_MAX_MSG, &msg) != 0 ||
	    wire_get_bytes(&msg, 2, &p, &plen) != 0 ||
	    idmap_decode(p, plen, &back, why, sizeof(why)) != 0 ||
	    back.n != m.n || memcmp(back.ext, m.ext, m.n * sizeof(m.ext[0])) != 0)
		abort();
	wire_enc_free(&e);
	return 0;
}

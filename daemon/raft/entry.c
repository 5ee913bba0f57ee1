#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lockmem.h"
#include "raft_proc.h"
#include "seal.h"
#include "wire.h"

int
entry_seal(const uint8_t *dek, const uint8_t *cmd, size_t len, struct raft_buffer *out)
{
	size_t padded, sealed;
	uint8_t *plain;
	int r;

	padded = len;
	while ((padded + SEAL_OVERHEAD) % 8 != 0)
		padded++;
	/* The command in clear: a secret value, until sealed (lockmem.h). */
	if ((plain = lockmem_alloc(padded)) == NULL)
		return HUSH_E_NOMEM;
	memcpy(plain, cmd, len);
	out->len = padded + SEAL_OVERHEAD;
	if ((out->base = raft_malloc(out->len)) == NULL) {
		lockmem_free(plain);
		return HUSH_E_NOMEM;
	}
	r = seal(dek, 0, ENTRY_PURPOSE, plain, padded, out->base, out->len, &sealed);
	lockmem_free(plain);	/* wipes */
	if (r != 0) {
		raft_free(out->base);
		out->base = NULL;
	}
	return r;
}

int
entry_open(const uint8_t *dek, const struct raft_buffer *in, uint8_t **plain,
    size_t *plainlen, size_t *cmdlen)
{
	struct wire_hdr hdr;
	uint8_t *p;
	size_t plen, n;
	int r;

	if (in->len < SEAL_OVERHEAD + WIRE_HDR_LEN)
		return HUSH_E_TRUNCATED;
	if ((p = lockmem_alloc(in->len)) == NULL)
		return HUSH_E_NOMEM;
	if ((r = seal_open(dek, ENTRY_PURPOSE, in->base, in->len, p, in->len, &plen)) != 0 ||
	    (r = wire_peek_hdr(p, plen, &hdr)) != 0)
		goto fail;
	n = (size_t)WIRE_HDR_LEN + hdr.length;
	/* At most 7 bytes of padding, and all of them zero. */
	if (n > plen || plen - n > 7) {
		r = HUSH_E_CORRUPT;
		goto fail;
	}
	for (size_t i = n; i < plen; i++) {
		if (p[i] != 0) {
			r = HUSH_E_CORRUPT;
			goto fail;
		}
	}
	*plain = p;
	*plainlen = in->len;
	*cmdlen = n;
	return 0;
fail:
	lockmem_free(p);	/* wipes */
	return r;
}

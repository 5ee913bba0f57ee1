/*
 * An external CA's answer (lib/cfssl_reply.c) from arbitrary bytes, as net
 * would have read them: no crash or read past the end, an outcome in the
 * documented set, a printable reason on every failure, and a certificate
 * only on success -- NUL-free and starting as PEM.  Each input is parsed
 * both as "more may come" and as "the connection ended".
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfssl.h"
#include "err.h"
#include "harness.h"

static void
one(const char *buf, size_t size, bool eof)
{
	char why[512], *cert = NULL;
	int r;

	r = cfssl_reply_parse((const uint8_t *)buf, size, eof, &cert, why, sizeof(why));
	if (r == 0) {
		if (cert == NULL || strstr(cert, "-----BEGIN CERTIFICATE-----") == NULL)
			abort();
		free(cert);
		return;
	}
	if (cert != NULL)
		abort();
	if (r == CFSSL_MORE) {
		if (eof)
			abort();
		return;
	}
	if (r < HUSH_E_MIN || r > 0)
		abort();
	fuzz_check_why(why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if ((buf = fuzz_exact_copy(data, size)) == NULL)
		return 0;
	one(buf, size, false);
	one(buf, size, true);
	free(buf);
	return 0;
}

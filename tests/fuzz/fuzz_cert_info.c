/*
 * Arbitrary bytes as a PEM certificate.  Parsing must not crash or leak,
 * and whatever it accepts must come out within the documented bounds:
 * short printable NUL-terminated names and dates in X.509's range.
 * Verification and key matching see the same bytes too: they share the
 * parser but then go further into the certificate.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "secbuf.h"
#include "x509.h"

#define NOW		INT64_C(1700000000)
#define CA_LIFETIME	(UINT64_C(20) * 365 * 86400)
/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
#define TIME_MIN	INT64_C(-62167219200)
#define TIME_MAX	INT64_C(253402300799)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct secbuf ca_key;
static char *ca_pem;
static size_t ca_len;

static void
ca_once(void)
{
	if (ca_pem != NULL)
		return;
	if (sodium_init() < 0 ||
	    x509_ca_create(NOW, CA_LIFETIME, &ca_key, &ca_pem, &ca_len) != 0)
		abort();
}

static void
check_attr(const char *s, size_t size)
{
	size_t i, len;

	if ((len = strnlen(s, size)) >= size)
		abort();
	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			abort();
	}
}

static void
check_subject(const struct x509_subject *sub)
{
	check_attr(sub->cn, sizeof(sub->cn));
	check_attr(sub->ou, sizeof(sub->ou));
	check_attr(sub->o, sizeof(sub->o));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x509_cert_info info;
	char why[256];
	int r;

	ca_once();
	r = x509_cert_info((const char *)data, size, &info);
	if (r != 0) {
		if (r < HUSH_E_MIN || info.subject.cn[0] != '\0')
			abort();
	} else {
		check_subject(&info.subject);
		check_subject(&info.issuer);
		if (info.not_before < TIME_MIN || info.not_before > TIME_MAX ||
		    info.not_after < TIME_MIN || info.not_after > TIME_MAX)
			abort();
	}
	/*
	 * The CA's key is made fresh for this run, so no input can be a
	 * certificate it signed, nor carry its public key.
	 */
	why[0] = '\0';
	if (x509_verify((const char *)data, size, ca_pem, ca_len, NOW, why,
	    sizeof(why)) == 0 || why[0] == '\0')
		abort();
	if (x509_cert_matches_key((const char *)data, size, &ca_key))
		abort();
	return 0;
}

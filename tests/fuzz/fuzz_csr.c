/*
 * Untrusted bytes offered to the CA as a CSR.  Whatever comes in, signing
 * must not crash or leak, must either refuse with a reason or issue, and
 * anything issued must verify under the CA and carry the subject we chose.
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
#define LEAF_LIFETIME	(UINT64_C(90) * 86400)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct x509_subject subject = {
	.cn = "fuzz-node", .ou = X509_OU_WORKER, .o = "fuzz-cluster",
};

/* Made once: a CA per input would spend the run in key generation. */
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x509_cert_info info;
	char *pem = NULL, why[256];
	size_t len = 0;
	int r;

	ca_once();
	why[0] = '\0';
	r = x509_csr_sign(data, size, &ca_key, ca_pem, ca_len, &subject, NOW,
	    LEAF_LIFETIME, &pem, &len, why, sizeof(why));
	if (r != 0) {
		if (pem != NULL || len != 0 || why[0] == '\0' || r < HUSH_E_MIN)
			abort();
		return 0;
	}
	if (pem == NULL || strlen(pem) != len)
		abort();
	if (x509_verify(pem, len, ca_pem, ca_len, NOW, why, sizeof(why)) != 0)
		abort();
	if (x509_cert_info(pem, len, &info) != 0 || info.is_ca ||
	    strcmp(info.subject.cn, subject.cn) != 0 ||
	    strcmp(info.subject.ou, subject.ou) != 0 ||
	    strcmp(info.subject.o, subject.o) != 0 ||
	    strcmp(info.issuer.cn, X509_CA_CN) != 0 ||
	    info.not_before != NOW - X509_CLOCK_SKEW_SECS ||
	    info.not_after != NOW + (int64_t)LEAF_LIFETIME)
		abort();
	free(pem);
	return 0;
}

/*
 * Checks of a certificate a CA issued at hush's request (x509.h): what an
 * external CA returns, and what a manager returns to a joining node, held
 * to what was asked -- the CSR's key, the exact subject -- and to a chain
 * up to a root hush trusts.  A CA that rewrites subjects, signs under
 * another root or answers with someone else's certificate is refused here,
 * before any file or process sees the certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#define HUSH_X509_INTERNAL
#include "err.h"
#include "x509.h"

bool
x509_cert_matches_csr(const char *pem, size_t len, const uint8_t *csr, size_t csrlen)
{
	const unsigned char *p = csr;
	X509_REQ *req = NULL;
	X509 *x = NULL;
	EVP_PKEY *a, *b;
	bool match = false;

	if (csrlen > X509_MAX_CSR_DER || (req = d2i_X509_REQ(NULL, &p, (long)csrlen)) == NULL ||
	    x509_pem_decode(pem, len, &x) != 0)
		goto out;
	if ((a = X509_REQ_get0_pubkey(req)) != NULL && (b = X509_get0_pubkey(x)) != NULL)
		match = EVP_PKEY_eq(a, b) == 1;
 out:
	X509_REQ_free(req);
	X509_free(x);
	ERR_clear_error();
	return match;
}

int
x509_issued_check(const char *leaf, const char *chain, const uint8_t *csr, size_t csrlen,
    const struct x509_subject *want, const char *roots, int64_t now, int64_t *not_after,
    char *why, size_t whylen)
{
	struct x509_cert_info info;
	char *full, vwhy[256];
	int r;

	if (x509_cert_info(leaf, strlen(leaf), &info) != 0) {
		x509_why(why, whylen, "returned what is not one certificate");
		return HUSH_E_AUTH;
	}
	if (strcmp(info.subject.cn, want->cn) != 0 || strcmp(info.subject.ou, want->ou) != 0 ||
	    strcmp(info.subject.o, want->o) != 0) {
		x509_why(why, whylen, "issued a certificate for CN=%s, OU=%s, O=%s, not "
		    "CN=%s, OU=%s, O=%s", info.subject.cn, info.subject.ou, info.subject.o,
		    want->cn, want->ou, want->o);
		return HUSH_E_AUTH;
	}
	if (!x509_cert_matches_csr(leaf, strlen(leaf), csr, csrlen)) {
		x509_why(why, whylen, "issued a certificate for another key than the one it "
		    "was asked to certify");
		return HUSH_E_AUTH;
	}
	/* The leaf, and any intermediate the CA signs through, up to a root. */
	if ((full = x509_bundle_join(leaf, chain)) == NULL)
		return HUSH_E_NOMEM;
	r = x509_verify_chain(full, strlen(full), roots, strlen(roots), now, NULL, vwhy,
	    sizeof(vwhy));
	free(full);
	if (r != 0) {
		x509_why(why, whylen, "issued a certificate hush cannot use: %s", vwhy);
		return HUSH_E_AUTH;
	}
	if (not_after != NULL)
		*not_after = info.not_after;
	return 0;
}

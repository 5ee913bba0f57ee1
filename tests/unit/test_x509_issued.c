/*
 * x509_issued_check(): what an external CA returns is used only if it is
 * one leaf with exactly the subject asked for, the CSR's key, and a chain
 * to the cluster's root.  Every certificate here is made by hush's own CA
 * code at test time, standing for what a misconfigured or hostile CA could
 * return.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "secbuf.h"
#include "x509.h"

#define NOW	INT64_C(1800000000)
#define DAY	(24 * 3600)

struct ca {
	struct secbuf	 key;
	char		*pem;
	size_t		 len;
};

static void
ca_make(struct ca *ca)
{
	memset(ca, 0, sizeof(*ca));
	assert_int_equal(x509_ca_create(NOW, 3650 * DAY, &ca->key, &ca->pem, &ca->len), 0);
}

static void
ca_free(struct ca *ca)
{
	secbuf_free(&ca->key);
	free(ca->pem);
}

/* A CSR for a new key; the key too when key is not NULL. */
static void
csr_make(uint8_t **csr, size_t *len, struct secbuf *key)
{
	struct secbuf k = SECBUF_INIT;

	assert_int_equal(x509_key_generate(&k), 0);
	assert_int_equal(x509_csr_create(&k, csr, len), 0);
	if (key != NULL)
		*key = k;
	else
		secbuf_free(&k);
}

static char *
issue(const struct ca *ca, const uint8_t *csr, size_t len, const char *cn, const char *ou,
    const char *o)
{
	struct x509_subject s;
	char *pem = NULL, why[256];
	size_t pl;

	memset(&s, 0, sizeof(s));
	strcpy(s.cn, cn);
	strcpy(s.ou, ou);
	strcpy(s.o, o);
	if (x509_csr_sign(csr, len, &ca->key, ca->pem, ca->len, &s, NOW, 90 * DAY, &pem,
	    &pl, why, sizeof(why)) != 0)
		fail_msg("issuing: %s", why);
	return pem;
}

#define NODE	"0123456789abcdefghijklmno"
#define CLUSTER	"abcdefghijklmnopqrstuvwxy"

static const struct x509_subject want = { NODE, X509_OU_WORKER, CLUSTER };

static void
test_issued(void **state)
{
	struct ca root, other;
	uint8_t *csr, *csr2;
	size_t len, len2;
	int64_t na = 0;
	char *good, *cert, why[512];

	ca_make(&root);
	ca_make(&other);
	csr_make(&csr, &len, NULL);
	csr_make(&csr2, &len2, NULL);

	good = issue(&root, csr, len, NODE, X509_OU_WORKER, CLUSTER);
	assert_int_equal(x509_issued_check(good, NULL, csr, len, &want, root.pem, NOW, &na,
	    why, sizeof(why)), 0);
	assert_true(na > NOW);
	assert_true(x509_cert_matches_csr(good, strlen(good), csr, len));

	/* Each part of the subject rewritten: refused, naming both. */
	cert = issue(&root, csr, len, "zzzzzzzzzzzzzzzzzzzzzzzzz", X509_OU_WORKER, CLUSTER);
	assert_int_equal(x509_issued_check(cert, NULL, csr, len, &want, root.pem, NOW, NULL,
	    why, sizeof(why)), HUSH_E_AUTH);
	assert_non_null(strstr(why, "issued a certificate for CN=zzzzzzzzzzzzzzzzzzzzzzzzz"));
	assert_non_null(strstr(why, "not CN=" NODE));
	free(cert);
	cert = issue(&root, csr, len, NODE, X509_OU_MANAGER, CLUSTER);
	assert_int_equal(x509_issued_check(cert, NULL, csr, len, &want, root.pem, NOW, NULL,
	    why, sizeof(why)), HUSH_E_AUTH);
	assert_non_null(strstr(why, "OU=hush-manager"));
	free(cert);
	cert = issue(&root, csr, len, NODE, X509_OU_WORKER, "bbbbbbbbbbbbbbbbbbbbbbbbb");
	assert_int_equal(x509_issued_check(cert, NULL, csr, len, &want, root.pem, NOW, NULL,
	    why, sizeof(why)), HUSH_E_AUTH);
	free(cert);

	/* Another key than the CSR's. */
	cert = issue(&root, csr2, len2, NODE, X509_OU_WORKER, CLUSTER);
	assert_false(x509_cert_matches_csr(cert, strlen(cert), csr, len));
	assert_int_equal(x509_issued_check(cert, NULL, csr, len, &want, root.pem, NOW, NULL,
	    why, sizeof(why)), HUSH_E_AUTH);
	assert_non_null(strstr(why, "another key"));
	free(cert);

	/* Under another root, or not yet / no longer valid. */
	cert = issue(&other, csr, len, NODE, X509_OU_WORKER, CLUSTER);
	assert_int_equal(x509_issued_check(cert, NULL, csr, len, &want, root.pem, NOW, NULL,
	    why, sizeof(why)), HUSH_E_AUTH);
	assert_non_null(strstr(why, "cannot use"));
	/* ...unless that root is one of those trusted (a rotation's bundle). */
	{
		size_t a = strlen(root.pem), b = strlen(other.pem);
		char *both = malloc(a + b + 1);

		assert_non_null(both);
		memcpy(both, root.pem, a);
		memcpy(both + a, other.pem, b + 1);
		if (x509_issued_check(cert, NULL, csr, len, &want, both, NOW, NULL, why,
		    sizeof(why)) != 0)
			fail_msg("under the second root of a bundle: %s", why);
		free(both);
	}
	/* A chain that leads to another root than the cluster's. */
	assert_int_equal(x509_issued_check(cert, other.pem, csr, len, &want, root.pem, NOW,
	    NULL, why, sizeof(why)), HUSH_E_AUTH);
	free(cert);
	assert_int_equal(x509_issued_check(good, NULL, csr, len, &want, root.pem,
	    NOW + 200 * DAY, NULL, why, sizeof(why)), HUSH_E_AUTH);

	/* What is not a certificate. */
	assert_int_equal(x509_issued_check("-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n", NULL, csr, len, &want, root.pem, NOW, NULL, why,
	    sizeof(why)), HUSH_E_AUTH);
	assert_non_null(strstr(why, "not one certificate"));
	assert_int_equal(x509_issued_check("", NULL, csr, len, &want, root.pem, NOW, NULL, why,
	    sizeof(why)), HUSH_E_AUTH);
	/* The root itself, or a CSR that does not parse. */
	assert_int_equal(x509_issued_check(root.pem, NULL, csr, len, &want, root.pem, NOW,
	    NULL, why, sizeof(why)), HUSH_E_AUTH);
	assert_false(x509_cert_matches_csr(good, strlen(good), csr, len - 1));
	assert_false(x509_cert_matches_csr(good, strlen(good), (const uint8_t *)"junk", 4));

	free(good);
	free(csr);
	free(csr2);
	ca_free(&root);
	ca_free(&other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issued),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

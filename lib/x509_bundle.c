/*
 * Trust bundles and short chains: the shapes a CA rotation needs.
 *
 * During a rotation a node trusts two roots with the same name and
 * different keys, and a node whose certificate comes from the next root
 * presents it followed by the next root cross-signed by the current one,
 * so that a node still trusting only the current root verifies
 * root -> intermediate -> leaf.  Nothing longer is ever needed, so nothing
 * longer is accepted: every extra link is one more certificate whose
 * issuance nobody here watched.
 *
 * A bundle is split on exact byte boundaries rather than re-encoded: a
 * join token pins a root by the SHA-256 of its PEM bytes, and the joiner
 * finds that root inside the manager's bundle by hashing the pieces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "secbuf.h"
#define HUSH_X509_INTERNAL
#include "x509.h"

#define PEM_BEGIN	"-----BEGIN CERTIFICATE-----"
#define PEM_END		"-----END CERTIFICATE-----"

/* Root, at most one intermediate, leaf. */
#define CHAIN_MAX	3

struct span {
	size_t	off, len;
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Find every certificate block and check each is one certificate.  Only
 * whitespace may sit between blocks: a bundle that says anything else is
 * not one we wrote, and a reader that skipped the rest could disagree
 * with one that did not about which roots are trusted.
 */
static int
bundle_split(const char *pem, size_t len, struct span spans[X509_BUNDLE_MAX],
    size_t *n)
{
	const size_t blen = strlen(PEM_BEGIN), elen = strlen(PEM_END);
	struct x509_cert_info info;
	const char *end;
	size_t off = 0, count = 0, stop;
	int r;

	*n = 0;
	if (pem == NULL || len == 0)
		return HUSH_E_TRUNCATED;
	if (len > X509_MAX_CERT_PEM)
		return HUSH_E_TOOBIG;
	if (memchr(pem, '\0', len) != NULL)
		return HUSH_E_FORMAT;
	for (;;) {
		while (off < len && is_space(pem[off]))
			off++;
		if (off == len)
			break;
		if (len - off < blen || memcmp(pem + off, PEM_BEGIN, blen) != 0)
			return HUSH_E_FORMAT;
		if ((end = memmem(pem + off + blen, len - off - blen, PEM_END,
		    elen)) == NULL)
			return HUSH_E_FORMAT;
		stop = (size_t)(end - pem) + elen;
		if (stop < len && pem[stop] == '\n')
			stop++;
		if (count == X509_BUNDLE_MAX)
			return HUSH_E_TOOBIG;
		/*
		 * The same checks as a lone certificate: strict PEM and DER,
		 * names hush can read back, no broken extensions.
		 */
		if ((r = x509_cert_info(pem + off, stop - off, &info)) != 0)
			return r;
		spans[count].off = off;
		spans[count].len = stop - off;
		count++;
		off = stop;
	}
	if (count == 0)
		return HUSH_E_FORMAT;
	*n = count;
	return 0;
}

int
x509_bundle_count(const char *pem, size_t len, size_t *n)
{
	struct span spans[X509_BUNDLE_MAX];
	int r;

	r = bundle_split(pem, len, spans, n);
	ERR_clear_error();
	return r;
}

int
x509_bundle_get(const char *pem, size_t len, size_t i, char **cert_pem,
    size_t *cert_len)
{
	struct span spans[X509_BUNDLE_MAX];
	size_t n;
	char *s;
	int r;

	*cert_pem = NULL;
	*cert_len = 0;
	r = bundle_split(pem, len, spans, &n);
	ERR_clear_error();
	if (r != 0)
		return r;
	if (i >= n)
		return HUSH_E_RANGE;
	if ((s = malloc(spans[i].len + 1)) == NULL)
		return HUSH_E_NOMEM;
	memcpy(s, pem + spans[i].off, spans[i].len);
	s[spans[i].len] = '\0';
	*cert_pem = s;
	*cert_len = spans[i].len;
	return 0;
}

/* Every certificate of a bundle, in order, as OpenSSL objects. */
static int
bundle_load(const char *pem, size_t len, STACK_OF(X509) **out)
{
	struct span spans[X509_BUNDLE_MAX];
	STACK_OF(X509) *sk;
	size_t n, i;
	X509 *x;
	int r;

	*out = NULL;
	if ((r = bundle_split(pem, len, spans, &n)) != 0)
		return r;
	if ((sk = sk_X509_new_null()) == NULL)
		return HUSH_E_NOMEM;
	for (i = 0; i < n; i++) {
		if ((r = x509_pem_decode(pem + spans[i].off, spans[i].len, &x)) != 0)
			goto fail;
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			r = HUSH_E_NOMEM;
			goto fail;
		}
	}
	*out = sk;
	return 0;
 fail:
	sk_X509_pop_free(sk, X509_free);
	return r;
}

static const char *
link_name(int depth, int chain_len)
{
	if (depth == 0)
		return "the certificate";
	if (chain_len > 0 && depth == chain_len - 1)
		return "the root";
	return "the intermediate";
}

/* A time for the operator, never a failure of its own. */
static void
fmt_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;
	int64_t s;
	time_t tt;

	if (x509_time_get(t, &s) != 0) {
		snprintf(buf, len, "an unreadable time");
		return;
	}
	tt = (time_t)s;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)s);
}

/* OpenSSL's verdict in the words an operator rotating a CA needs. */
static void
verify_why(X509_STORE_CTX *ctx, char *why, size_t whylen)
{
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	int n = sk_X509_num(X509_STORE_CTX_get0_chain(ctx));
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	struct x509_subject sub;
	char when[64], who[128];

	memset(&sub, 0, sizeof(sub));
	if (cur != NULL)
		(void)x509_subject_get(X509_get_subject_name(cur), &sub);
	snprintf(who, sizeof(who), "%s (CN=%s)", link_name(depth, n), sub.cn);
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_CERT_UNTRUSTED:
		x509_why(why, whylen, "certificate does not verify: it is not signed "
		    "by any root this node trusts");
		break;
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		x509_why(why, whylen, "certificate does not verify: the chain is "
		    "longer than root -> intermediate -> leaf");
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		fmt_time(cur != NULL ? X509_get0_notAfter(cur) : NULL, when, sizeof(when));
		x509_why(why, whylen, "certificate does not verify: %s expired at %s",
		    who, when);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		fmt_time(cur != NULL ? X509_get0_notBefore(cur) : NULL, when, sizeof(when));
		x509_why(why, whylen, "certificate does not verify: %s is not yet "
		    "valid (not before %s)", who, when);
		break;
	case X509_V_ERR_INVALID_CA:
		x509_why(why, whylen, "certificate does not verify: %s is not a CA",
		    who);
		break;
	default:
		x509_why(why, whylen, "certificate does not verify: %s: %s", who,
		    X509_verify_cert_error_string(err));
		break;
	}
}

int
x509_verify_chain(const char *leaf_pem, size_t leaf_len,
    const char *anchors_pem, size_t anchors_len, int64_t now,
    uint8_t issuer_spki[32], char *why, size_t whylen)
{
	STACK_OF(X509) *presented = NULL, *anchors = NULL, *chain;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	X509 *leaf = NULL;
	int i, n, r;

	x509_why(why, whylen, "%s", "");
	if ((r = bundle_load(leaf_pem, leaf_len, &presented)) != 0) {
		x509_why(why, whylen, "certificate cannot be parsed");
		goto out;
	}
	if ((r = bundle_load(anchors_pem, anchors_len, &anchors)) != 0) {
		x509_why(why, whylen, "the trusted CA certificates cannot be parsed");
		goto out;
	}
	/* Leaf and at most one intermediate: a longer chain never verifies. */
	if (sk_X509_num(presented) > CHAIN_MAX - 1) {
		x509_why(why, whylen, "certificate does not verify: the chain is "
		    "longer than root -> intermediate -> leaf");
		r = HUSH_E_AUTH;
		goto out;
	}
	leaf = sk_X509_shift(presented);
	/* What a node certificate must be comes first: it names what is wrong. */
	if ((r = x509_leaf_check(leaf, why, whylen)) != 0)
		goto out;

	r = HUSH_E_CRYPTO;
	if ((store = X509_STORE_new()) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(anchors); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(anchors, i)))
			goto out;
	/* The context borrows leaf and presented: both outlive it. */
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, store, leaf, presented) ||
	    !X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER))
		goto out;
	/*
	 * Depth counts the certificates between leaf and anchor: one, the
	 * cross-signed root.  Roots' own signatures are checked too, and the
	 * RFC 5280 rules OpenSSL otherwise lets slide; trusted-first (the
	 * default) prefers a trusted root over the presented intermediate
	 * that carries its key.  The caller's clock, never the machine's.
	 */
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_depth(param, CHAIN_MAX - 2);
	if (!X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_CHECK_SS_SIGNATURE | X509_V_FLAG_TRUSTED_FIRST))
		goto out;
	X509_VERIFY_PARAM_set_time(param, (time_t)now);

	r = HUSH_E_AUTH;
	if (X509_verify_cert(ctx) != 1) {
		verify_why(ctx, why, whylen);
		goto out;
	}
	chain = X509_STORE_CTX_get0_chain(ctx);
	if ((n = sk_X509_num(chain)) < 2 || n > CHAIN_MAX) {
		x509_why(why, whylen, "certificate does not verify: the chain is "
		    "longer than root -> intermediate -> leaf");
		goto out;
	}
	for (i = 1; i < n; i++) {
		if (X509_check_ca(sk_X509_value(chain, i)) != 1) {
			x509_why(why, whylen, "certificate does not verify: %s is not "
			    "a CA", link_name(i, n));
			goto out;
		}
	}
	if (issuer_spki != NULL &&
	    (r = x509_spki_sha256(sk_X509_value(chain, 1), issuer_spki)) != 0)
		goto out;
	r = 0;
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(leaf);
	sk_X509_pop_free(presented, X509_free);
	sk_X509_pop_free(anchors, X509_free);
	ERR_clear_error();
	return r;
}

char *
x509_bundle_join(const char *first, const char *rest)
{
	size_t a = strlen(first), b = rest != NULL ? strlen(rest) : 0;
	char *s;

	if ((s = malloc(a + b + 2)) == NULL)
		return NULL;
	memcpy(s, first, a);
	if (b > 0 && a > 0 && first[a - 1] != '\n')
		s[a++] = '\n';
	memcpy(s + a, rest != NULL ? rest : "", b);
	s[a + b] = '\0';
	return s;
}

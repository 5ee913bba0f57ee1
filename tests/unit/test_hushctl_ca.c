/*
 * hushctl ca's pure parts: the --external-ca spec parser (operator
 * input: every malformed form is refused with a reason naming the part),
 * the rules of the root options, the progress text a terminal and a log
 * see, and the verdict that ends a watch.
 * Unit tests link only libhush.a, so the helpers are compiled in here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/hushctl/ca_args.c"
#include "../../tools/hushctl/ca_progress.c"
#include "../../tools/hushctl/extca_spec.c"

/* Parses s; expects a refusal whose reason contains want. */
static void
refused(const char *s, const char *want)
{
	struct extca_spec sp;
	char why[320];
	int r;

	memset(&sp, 'x', sizeof(sp));
	r = extca_spec_parse(s, &sp, why, sizeof(why));
	if (r == 0 || strstr(why, want) == NULL)
		fail_msg("'%s': r=%d why='%s', wanted '%s'", s, r, why, want);
	assert_true(r == HUSH_E_FORMAT || r == HUSH_E_TOOBIG);
	/* Nothing half-parsed is left for a caller to send. */
	assert_string_equal(sp.url, "");
	assert_string_equal(sp.cacert, "");
	for (size_t i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= 0x20 && why[i] < 0x7f);
}

static void
test_extca_good(void **state)
{
	struct extca_spec sp;
	char why[320];

	(void)state;
	assert_int_equal(extca_spec_parse("protocol=cfssl,url=https://ca.example:8888",
	    &sp, why, sizeof(why)), 0);
	assert_string_equal(sp.url, "https://ca.example:8888");
	assert_string_equal(sp.cacert, "");
	assert_string_equal(why, "");

	/* Any order; cacert is a file name, kept as given. */
	assert_int_equal(extca_spec_parse("cacert=/etc/hush/ca tls.pem,"
	    "url=https://[fd00::1]:8888,protocol=cfssl", &sp, why, sizeof(why)), 0);
	assert_string_equal(sp.url, "https://[fd00::1]:8888");
	assert_string_equal(sp.cacert, "/etc/hush/ca tls.pem");

	assert_int_equal(extca_spec_parse("protocol=cfssl,url=https://10.0.0.9",
	    &sp, why, sizeof(why)), 0);
	assert_string_equal(sp.url, "https://10.0.0.9");

	/* A "/" after HOST[:PORT] is no path: hushd's parser takes it too. */
	assert_int_equal(extca_spec_parse("protocol=cfssl,url=https://ca:8888/",
	    &sp, why, sizeof(why)), 0);
	assert_string_equal(sp.url, "https://ca:8888/");
}

static void
test_extca_refused(void **state)
{
	char big[EXTCA_URL_MAX + 64];

	(void)state;
	refused("", "--external-ca is empty");
	refused("url=https://ca", "protocol is required");
	refused("protocol=cfssl", "url is required");
	refused("protocol=cfssl,cacert=/x", "url is required");
	refused("protocol=acme,url=https://ca", "protocol 'acme' is not supported (only cfssl)");
	refused("protocol=CFSSL,url=https://ca", "not supported");
	refused("protocol=cfssl,url=http://ca", "url must start with https://: "
	    "hush reaches an external CA only over TLS");
	refused("protocol=cfssl,url=ca:8888", "url must start with https://");
	refused("protocol=cfssl,url=HTTPS://ca", "url must start with https://");
	refused("protocol=cfssl,url=https://", "url has no host");
	refused("protocol=cfssl,url=https://:8888", "url has no host");
	refused("protocol=cfssl,url=https://ca/api/v1/cfssl/sign", "without a path");
	refused("protocol=cfssl,url=https://ca?x=1", "without a path");
	refused("protocol=cfssl,url=https://ca#f", "without a path");
	refused("protocol=cfssl,url=https://user:pw@ca", "user name or password");
	refused("protocol=cfssl,url=https://c a", "spaces or control characters");
	refused("protocol=cfssl,url=https://c\x1b[2Ja", "spaces or control characters");
	/* Host and port as hushd's own parser judges them. */
	refused("protocol=cfssl,url=https://ca:0", "is not https://HOST[:PORT]");
	refused("protocol=cfssl,url=https://ca:65536", "PORT: 1-65535");
	refused("protocol=cfssl,url=https://ca:", "is not https://HOST[:PORT]");
	refused("protocol=cfssl,url=https://[fd00::1", "is not https://HOST[:PORT]");
	refused("protocol=cfssl,url=https://bad_name!", "is not https://HOST[:PORT]");
	refused("protocol=cfssl,url=https://ca//", "without a path");
	refused("protocol=cfssl,url=https://ca,foo=1", "unknown key 'foo' (use protocol, url, cacert)");
	refused("protocol=cfssl,url=https://ca,\x1b[2J=1", "unknown key (use");
	refused("protocol=cfssl,url=https://ca,url=https://cb", "url is given twice");
	refused("protocol=cfssl,protocol=cfssl,url=https://ca", "protocol is given twice");
	refused("protocol=cfssl,url=https://ca,cacert=a,cacert=b", "cacert is given twice");
	refused("protocol=,url=https://ca", "protocol is empty");
	refused("protocol=cfssl,url=", "url is empty");
	refused("protocol=cfssl,url=https://ca,cacert=", "cacert is empty");
	refused("protocol=cfssl,,url=https://ca", "empty part");
	refused("protocol=cfssl,url=https://ca,", "empty part");
	refused(",protocol=cfssl,url=https://ca", "empty part");
	refused("protocol=cfssl,url=https://ca,cfssl", "'cfssl' is not KEY=VALUE");
	refused("protocol", "'protocol' is not KEY=VALUE");
	refused("=cfssl", "unknown key ''");

	/* Too long for T_EXTCA_URL: refused, not cut. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "protocol=cfssl,url=https://", 27);
	big[27 + EXTCA_URL_MAX] = '\0';
	refused(big, "url is longer than 1024 characters");
}

static void
test_ca_args(void **state)
{
	struct ca_args a;
	char why[320];

	(void)state;
#define ARGS(...)	(a = (struct ca_args){ __VA_ARGS__ })
	/* Plain `ca`, -d and -q alone are fine (docker allows them too). */
	ARGS(.init = false);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), 0);
	ARGS(.rotate = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), 0);
	ARGS(.rotate = true, .ca_cert = true, .ca_key = true, .cert_expiry = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), 0);
	ARGS(.rotate = true, .ca_cert = true, .external_ca = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), 0);
	ARGS(.init = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), 0);
	ARGS(.init = true, .ca_cert = true, .ca_key = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), 0);
	ARGS(.init = true, .ca_cert = true, .external_ca = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), 0);

	ARGS(.ca_cert = true, .ca_key = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), HUSH_E_FORMAT);
	assert_string_equal(why, "--ca-cert goes with --rotate");
	ARGS(.ca_key = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), HUSH_E_FORMAT);
	assert_string_equal(why, "--ca-key goes with --rotate");
	ARGS(.external_ca = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), HUSH_E_FORMAT);
	assert_string_equal(why, "--external-ca goes with --rotate");
	ARGS(.cert_expiry = true);
	assert_int_equal(ca_args_check(&a, why, sizeof(why)), HUSH_E_FORMAT);
	assert_string_equal(why, "--cert-expiry goes with --rotate");

	for (int init = 0; init < 2; init++) {
		ARGS(.init = init, .rotate = !init, .ca_key = true);
		assert_int_equal(ca_args_check(&a, why, sizeof(why)), HUSH_E_FORMAT);
		assert_non_null(strstr(why, "--ca-key needs --ca-cert"));
		ARGS(.init = init, .rotate = !init, .ca_cert = true);
		assert_int_equal(ca_args_check(&a, why, sizeof(why)), HUSH_E_FORMAT);
		assert_non_null(strstr(why, "give --ca-key, or --external-ca for a "
		    "root whose key an external CA holds"));
		ARGS(.init = init, .rotate = !init, .ca_cert = true, .ca_key = true,
		    .external_ca = true);
		assert_int_equal(ca_args_check(&a, why, sizeof(why)), HUSH_E_FORMAT);
		assert_non_null(strstr(why, "--ca-key cannot go with --external-ca"));
		ARGS(.init = init, .rotate = !init, .external_ca = true);
		assert_int_equal(ca_args_check(&a, why, sizeof(why)), HUSH_E_FORMAT);
		assert_non_null(strstr(why, "--external-ca needs --ca-cert"));
	}
#undef ARGS
}

static void
test_progress_bar(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(ca_progress_bar("trust stores updated", 3, 7, out,
	    sizeof(out)), 0);
	/* 3/7 of 30 is 12 signs, then the head. */
	assert_string_equal(out, "trust stores updated "
	    "[============>                  ] 3/7 nodes");
	assert_int_equal(ca_progress_bar("x", 0, 7, out, sizeof(out)), 0);
	assert_string_equal(out, "x [>                              ] 0/7 nodes");
	assert_int_equal(ca_progress_bar("x", 7, 7, out, sizeof(out)), 0);
	assert_string_equal(out, "x [==============================>] 7/7 nodes");
	/* More than all (counts taken a moment apart) is drawn full. */
	assert_int_equal(ca_progress_bar("x", 9, 7, out, sizeof(out)), 0);
	assert_string_equal(out, "x [==============================>] 9/7 nodes");
	/* No node to wait for: an empty bar, no division by zero. */
	assert_int_equal(ca_progress_bar("x", 0, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "x [>                              ] 0/0 nodes");
	/* The largest counts do not overflow the arithmetic. */
	assert_int_equal(ca_progress_bar("x", UINT32_MAX - 1, UINT32_MAX, out,
	    sizeof(out)), 0);
	assert_non_null(strstr(out, "[=============================>"));
	/* Too small a buffer is an error, never a cut line. */
	assert_int_equal(ca_progress_bar("x", 1, 2, out, 10), HUSH_E_TOOBIG);
}

static void
test_progress_text(void **state)
{
	struct ca_figures f = { CA_PHASE_TRUST, 7, 3, 0 };
	char out[CA_PROGRESS_MAX];
	int n;

	(void)state;
	assert_int_equal(ca_progress_lines(&f, NULL, out, sizeof(out), &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out,
	    "CA rotation, phase 1 of 2: nodes add the new root to their trust\n"
	    "  trust stores updated [============>                  ] 3/7 nodes\n"
	    "  certificates renewed [>                              ] 0/7 nodes\n");

	f = (struct ca_figures){ CA_PHASE_RENEW, 7, 7, 2 };
	assert_int_equal(ca_progress_lines(&f, "the external CA does not answer",
	    out, sizeof(out), &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(out,
	    "CA rotation, phase 2 of 2: nodes renew their certificates from the new root\n"
	    "  trust stores updated [==============================>] 7/7 nodes\n"
	    "  certificates renewed [========>                      ] 2/7 nodes\n"
	    "  waiting: the external CA does not answer\n");

	/* A long reason is cut to one screen line, every line within 80. */
	char lng[300];

	memset(lng, 'w', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(ca_progress_lines(&f, lng, out, sizeof(out), &n), 0);
	assert_int_equal(n, 4);
	for (char *l = out, *e; (e = strchr(l, '\n')) != NULL; l = e + 1)
		assert_true(e - l < 80);
	assert_non_null(strstr(out, "www...\n"));
	/* and the plain line keeps it whole */
	assert_int_equal(ca_progress_line(&f, lng, out, sizeof(out)), 0);
	assert_non_null(strstr(out, lng));

	/* The plain line: one per change, readable by a log or a test. */
	f = (struct ca_figures){ CA_PHASE_TRUST, 7, 3, 0 };
	assert_int_equal(ca_progress_line(&f, "", out, sizeof(out)), 0);
	assert_string_equal(out, "CA rotation: trust stores updated 3/7 nodes, "
	    "certificates renewed 0/7 nodes (phase: trust)");
	f = (struct ca_figures){ CA_PHASE_RENEW, 3, 3, 1 };
	assert_int_equal(ca_progress_line(&f, "2 nodes down", out, sizeof(out)), 0);
	assert_string_equal(out, "CA rotation: trust stores updated 3/3 nodes, "
	    "certificates renewed 1/3 nodes (phase: renew); waiting: 2 nodes down");
	f = (struct ca_figures){ CA_PHASE_NONE, 3, 2, 3 };
	assert_int_equal(ca_progress_line(&f, NULL, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "(phase: finishing)"));
	f = (struct ca_figures){ 9, 3, 2, 3 };
	assert_int_equal(ca_progress_line(&f, NULL, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "(phase: unknown)"));
	assert_int_equal(ca_progress_lines(&f, NULL, out, sizeof(out), &n), 0);
	assert_non_null(strstr(out, "phase unknown to this hushctl"));

	assert_int_equal(ca_progress_line(&f, NULL, out, 20), HUSH_E_TOOBIG);
	assert_int_equal(ca_progress_lines(&f, NULL, out, 40, &n), HUSH_E_TOOBIG);
}

#define OURS	"-----BEGIN CERTIFICATE-----\nNEW\n-----END CERTIFICATE-----\n"
#define OLD	"-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n"
#define OTHER	"-----BEGIN CERTIFICATE-----\nOTHER\n-----END CERTIFICATE-----\n"

static void
test_judge(void **state)
{
	struct ca_figures f;

	(void)state;
	/* Under way, ours the next root: going, whatever the counts. */
	f = (struct ca_figures){ CA_PHASE_TRUST, 3, 3, 3 };
	assert_int_equal(ca_judge(OURS, OLD, OURS, &f), CA_GOING);
	f = (struct ca_figures){ CA_PHASE_RENEW, 3, 3, 1 };
	assert_int_equal(ca_judge(OURS, OLD, OURS, &f), CA_GOING);
	/* The same PEM with or without its last newline. */
	assert_int_equal(ca_judge(OURS, OLD,
	    "-----BEGIN CERTIFICATE-----\nNEW\n-----END CERTIFICATE-----", &f),
	    CA_GOING);

	/* Ours is the root: done only once every node dropped the old one. */
	f = (struct ca_figures){ CA_PHASE_NONE, 3, 2, 3 };
	assert_int_equal(ca_judge(OURS, OURS, NULL, &f), CA_GOING);
	f = (struct ca_figures){ CA_PHASE_NONE, 3, 3, 2 };
	assert_int_equal(ca_judge(OURS, OURS, NULL, &f), CA_GOING);
	f = (struct ca_figures){ CA_PHASE_NONE, 3, 3, 3 };
	assert_int_equal(ca_judge(OURS, OURS, NULL, &f), CA_DONE);
	f = (struct ca_figures){ CA_PHASE_NONE, 0, 0, 0 };
	assert_int_equal(ca_judge(OURS, OURS "\n", NULL, &f), CA_DONE);

	/* Another --rotate replaced ours: another next root, or another root. */
	f = (struct ca_figures){ CA_PHASE_TRUST, 3, 0, 0 };
	assert_int_equal(ca_judge(OURS, OLD, OTHER, &f), CA_OTHER);
	assert_int_equal(ca_judge(OURS, OLD, NULL, &f), CA_OTHER);
	f = (struct ca_figures){ CA_PHASE_NONE, 3, 3, 3 };
	assert_int_equal(ca_judge(OURS, OTHER, NULL, &f), CA_OTHER);
	assert_int_equal(ca_judge(OURS, OLD, NULL, &f), CA_OTHER);
	/* Ours completed, and a newer rotation began since: ours is done. */
	f = (struct ca_figures){ CA_PHASE_TRUST, 3, 0, 0 };
	assert_int_equal(ca_judge(OURS, OURS, OTHER, &f), CA_DONE);
	/* An empty PEM is never ours. */
	f = (struct ca_figures){ CA_PHASE_NONE, 0, 0, 0 };
	assert_int_equal(ca_judge("", "", NULL, &f), CA_OTHER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extca_good),
		cmocka_unit_test(test_extca_refused),
		cmocka_unit_test(test_ca_args),
		cmocka_unit_test(test_progress_bar),
		cmocka_unit_test(test_progress_text),
		cmocka_unit_test(test_judge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

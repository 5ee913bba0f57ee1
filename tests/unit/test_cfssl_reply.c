/*
 * The external CA's answer decoder and request encoder (lib/cfssl.h):
 * cfssl's real answers decode, and every malformed answer -- truncated,
 * oversized, badly framed, not cfssl's JSON -- is refused with a reason,
 * never read past its end.  The URL check refuses what is not https.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cfssl.h"
#include "err.h"

#define PEM "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"
#define OK_JSON "{\"success\":true,\"result\":{\"certificate\":\"" PEM "\"}," \
	"\"errors\":[],\"messages\":[]}"

static char why[512];

/* Parse a C string as the whole answer, connection closed or not. */
static int
parse(const char *s, bool eof, char **cert)
{
	uint8_t *copy = malloc(strlen(s) + 1);
	int r;

	memcpy(copy, s, strlen(s));
	r = cfssl_reply_parse(copy, strlen(s), eof, cert, why, sizeof(why));
	free(copy);
	return r;
}

static char *
with_length(const char *status, const char *body)
{
	char *s;

	assert_true(asprintf(&s, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, strlen(body), body) > 0);
	return s;
}

static void
test_success_content_length(void **state)
{
	char *s = with_length("200 OK", OK_JSON), *cert = NULL;

	assert_int_equal(parse(s, false, &cert), 0);
	assert_string_equal(cert, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	free(cert);
	/* every proper prefix wants more, and is truncated at EOF */
	for (size_t n = 0; n < strlen(s); n++) {
		uint8_t *c = malloc(n + 1);

		memcpy(c, s, n);
		assert_int_equal(cfssl_reply_parse(c, n, false, &cert, why, sizeof(why)),
		    CFSSL_MORE);
		assert_int_equal(cfssl_reply_parse(c, n, true, &cert, why, sizeof(why)),
		    HUSH_E_TRUNCATED);
		assert_null(cert);
		assert_true(why[0] != '\0');
		free(c);
	}
	free(s);
}

static void
test_success_chunked_and_close(void **state)
{
	char *cert = NULL, *s;
	size_t n = strlen(OK_JSON);

	assert_true(asprintf(&s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "%zx;ext=1\r\n%.*s\r\n%zx\r\n%s\r\n0\r\nX-Trailer: y\r\n\r\n", (size_t)10, 10,
	    OK_JSON, n - 10, OK_JSON + 10) > 0);
	assert_int_equal(parse(s, false, &cert), 0);
	assert_non_null(cert);
	free(cert);
	free(s);
	/* close-delimited: only the end of the connection ends it */
	assert_true(asprintf(&s, "HTTP/1.0 200 OK\r\n\r\n%s", OK_JSON) > 0);
	assert_int_equal(parse(s, false, &cert), CFSSL_MORE);
	assert_int_equal(parse(s, true, &cert), 0);
	free(cert);
	free(s);
}

static void
test_refusal(void **state)
{
	char *cert = NULL, *s;

	/* cfssl's own refusal: HTTP 400 and its message */
	s = with_length("400 Bad Request", "{\"success\":false,\"result\":null,\"errors\":"
	    "[{\"code\":9002,\"message\":\"Invalid request\\u0007 body\"}],\"messages\":[]}");
	assert_int_equal(parse(s, false, &cert), HUSH_E_PERM);
	assert_string_equal(why, "Invalid request? body");
	assert_null(cert);
	free(s);
	/* no errors at all */
	s = with_length("200 OK", "{\"success\":false}");
	assert_int_equal(parse(s, false, &cert), HUSH_E_PERM);
	assert_non_null(strstr(why, "no reason"));
	free(s);
	/* errors of the wrong shape */
	s = with_length("500 Oops", "{\"success\":false,\"errors\":[{\"message\":7}]}");
	assert_int_equal(parse(s, false, &cert), HUSH_E_PERM);
	assert_non_null(strstr(why, "HTTP 500"));
	free(s);
}

static void
test_bad_status(void **state)
{
	char *cert = NULL;

	assert_int_equal(parse("HTTP/2 200 OK\r\n\r\n{}", true, &cert), HUSH_E_PROTO);
	assert_int_equal(parse("SSH-2.0-OpenSSH\r\n\r\n", true, &cert), HUSH_E_PROTO);
	assert_int_equal(parse("HTTP/1.1 abc OK\r\n\r\n", true, &cert), HUSH_E_PROTO);
	assert_int_equal(parse("HTTP/1.1 100 Continue\r\n\r\n", true, &cert), HUSH_E_PROTO);
	assert_int_equal(parse("HTTP/1.1 2000 OK\r\n\r\n", true, &cert), HUSH_E_PROTO);
	/* a proxy's HTML error page */
	assert_int_equal(parse("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 6\r\n\r\n<html>",
	    false, &cert), HUSH_E_FORMAT);
	assert_non_null(strstr(why, "HTTP 502"));
	/* success with an error status is not believed */
	char *s = with_length("404 Not Found", OK_JSON);

	assert_int_equal(parse(s, false, &cert), HUSH_E_FORMAT);
	assert_null(cert);
	free(s);
}

static void
test_framing(void **state)
{
	char *cert = NULL, big[CFSSL_HEADERS_MAX + 100];

	/* huge or odd Content-Length */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n{", false,
	    &cert), HUSH_E_TOOBIG);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n{", false,
	    &cert), HUSH_E_FORMAT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{", false,
	    &cert), HUSH_E_FORMAT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n"
	    "\r\n{}", false, &cert), HUSH_E_FORMAT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n{}", false, &cert), HUSH_E_FORMAT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}", false,
	    &cert), HUSH_E_FORMAT);
	/* bad chunk sizes */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    false, &cert), HUSH_E_FORMAT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "fffffff\r\n", false, &cert), HUSH_E_TOOBIG);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1\r\nab\r\n0\r\n\r\n", false, &cert), HUSH_E_FORMAT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "\r\n", false, &cert), HUSH_E_FORMAT);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}",
	    true, &cert), HUSH_E_TRUNCATED);
	/* endless headers */
	memset(big, 'a', sizeof(big));
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	assert_int_equal(cfssl_reply_parse((uint8_t *)big, sizeof(big), false, &cert, why,
	    sizeof(why)), HUSH_E_TOOBIG);
	/* a NUL in the headers */
	assert_int_equal(cfssl_reply_parse((const uint8_t *)"HTTP/1.1 200 OK\r\nX: \0\r\n\r\n{}",
	    26, true, &cert, why, sizeof(why)), HUSH_E_FORMAT);
	/* more than the whole answer may hold */
	uint8_t *huge = calloc(1, CFSSL_REPLY_MAX + 1);

	assert_int_equal(cfssl_reply_parse(huge, CFSSL_REPLY_MAX + 1, false, &cert, why,
	    sizeof(why)), HUSH_E_TOOBIG);
	free(huge);
	assert_null(cert);
}

static void
test_bad_json(void **state)
{
	static const char *bodies[] = {
		"[1,2]", "\"str\"", "{", "{}", "{\"success\":\"yes\"}",
		"{\"success\":true}", "{\"success\":true,\"result\":null}",
		"{\"success\":true,\"result\":{}}",
		"{\"success\":true,\"result\":{\"certificate\":5}}",
		"{\"success\":true,\"result\":{\"certificate\":\"hello\"}}",
		"{\"success\":true,\"result\":{\"certificate\":\"-----BEGIN CERTIFICATE-----\\u0000x\"}}",
		"{\"success\":true,\"success\":true,\"result\":{\"certificate\":\"" PEM "\"}}",
	};
	char *cert = NULL, *s;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		s = with_length("200 OK", bodies[i]);
		assert_int_equal(parse(s, false, &cert), HUSH_E_FORMAT);
		assert_null(cert);
		assert_true(why[0] != '\0');
		free(s);
	}
	/* a raw NUL inside the JSON body */
	static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{\"a\0}";

	assert_int_equal(cfssl_reply_parse((const uint8_t *)raw, sizeof(raw) - 1, false, &cert,
	    why, sizeof(why)), HUSH_E_FORMAT);
}

static void
test_url(void **state)
{
	struct cfssl_url u;

	assert_int_equal(cfssl_url_parse("https://127.0.0.61:8888", &u, why, sizeof(why)), 0);
	assert_string_equal(u.host, "127.0.0.61");
	assert_string_equal(u.port, "8888");
	assert_true(u.is_ip);
	assert_string_equal(u.hostport, "127.0.0.61:8888");
	assert_int_equal(cfssl_url_parse("https://[::1]:9/", &u, why, sizeof(why)), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.hostport, "[::1]:9");
	assert_true(u.is_ip);
	assert_int_equal(cfssl_url_parse("https://ca.example.com", &u, why, sizeof(why)), 0);
	assert_string_equal(u.port, "443");
	assert_false(u.is_ip);
	assert_int_equal(cfssl_url_parse("http://127.0.0.1:8888", &u, why, sizeof(why)),
	    HUSH_E_INVAL);
	assert_non_null(strstr(why, "only over TLS"));
	static const char *bad[] = {
		"https://", "https://:80", "https://h:0", "https://h:65536", "https://h:8a",
		"https://h/api", "https://u@h", "https://[::1", "https://[zz]:1", "https://a..b",
		"https://h:", "https://a_b", "HTTPS://h",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(cfssl_url_parse(bad[i], &u, why, sizeof(why)), 0);
}

static void
test_request(void **state)
{
	struct cfssl_url u;
	const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	char *req = NULL, *body;
	size_t len;
	json_t *j;

	assert_int_equal(cfssl_url_parse("https://127.0.0.61:8888", &u, why, sizeof(why)), 0);
	/* a quote in a subject stays inside its string */
	assert_int_equal(cfssl_sign_request(&u, der, sizeof(der), "node\"x", "hush-worker",
	    "cl", &req, &len), 0);
	assert_int_equal(strlen(req), len);
	assert_non_null(strstr(req, "POST /api/v1/cfssl/sign HTTP/1.1\r\nHost: 127.0.0.61:8888\r\n"));
	body = strstr(req, "\r\n\r\n") + 4;
	j = json_loads(body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "subject"), "CN")),
	    "node\"x");
	assert_string_equal(json_string_value(json_object_get(j, "certificate_request")),
	    "-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n");
	json_decref(j);
	free(req);
	/* not UTF-8 */
	assert_int_equal(cfssl_sign_request(&u, der, sizeof(der), "\xff", "x", "y", &req, &len),
	    HUSH_E_INVAL);
	assert_null(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_content_length),
		cmocka_unit_test(test_success_chunked_and_close),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_bad_status),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * libFuzzer harness for the store benchmark's HTTP response decoders
 * (tests/bench/storeload/http.c), which read bytes from a socket.  Any
 * input must decode or be refused without a memory error, and a refusal
 * must say why.  Beyond that:
 *
 * - a head that parses has a real status, exactly one framing, and a
 *   length within the body limit;
 * - a chunked body that decodes is no longer than its encoding, stops at
 *   the same place when given only the bytes it used, and every shorter
 *   prefix of it is "not all there yet": the answer may not depend on how
 *   TCP split the bytes, which is how http_post feeds it;
 * - the input is also read as http_post reads a response: the head up to
 *   its empty line (http_head_end: the first one, within the limit), then
 *   the chunked body after it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/storeload/http.h"
#include "harness.h"

/* Below this every prefix is checked; above it, those around line ends. */
#define ALL_PREFIXES_MAX	512

static void
check_head(const char *p, size_t len)
{
	size_t cl;
	bool chunked, close;
	char err[256];
	int status;

	err[0] = '\0';
	if (http_parse_head(p, len, &status, &cl, &chunked, &close, err,
	    sizeof(err)) != 0) {
		fuzz_check_why(err);
		if (cl != 0)
			abort();
		return;
	}
	if (status < 100 || status > 599)
		abort();
	if (cl > HTTP_BODY_MAX || (chunked && cl != 0))
		abort();
}

/* Decodes p[0..len); returns what http_dechunk did, frees the body. */
static int
dechunk(const char *p, size_t len, size_t *body_len, size_t *used,
    char **body)
{
	char *exact = fuzz_exact_copy((const uint8_t *)p, len), err[256];
	int r;

	if (exact == NULL)
		abort();
	err[0] = '\0';
	r = http_dechunk(exact, len, body, body_len, used, err, sizeof(err));
	free(exact);
	if (r == -1)
		fuzz_check_why(err);
	switch (r) {
	case -1:
	case 1:
		if (*body != NULL || *body_len != 0 || *used != 0)
			abort();
		break;
	case 0:
		if (*body == NULL || *used > len || *body_len > *used ||
		    *body_len > HTTP_BODY_MAX || (*body)[*body_len] != '\0')
			abort();
		break;
	default:
		abort();
	}
	return r;
}

static void
check_dechunk(const char *p, size_t len)
{
	char *body = NULL, *again = NULL, *shorter = NULL;
	size_t body_len, used, again_len, again_used, i;

	if (dechunk(p, len, &body_len, &used, &body) != 0)
		return;
	/* the bytes it used are the whole encoding */
	if (dechunk(p, used, &again_len, &again_used, &again) != 0 ||
	    again_len != body_len || again_used != used ||
	    memcmp(again, body, body_len) != 0)
		abort();
	free(again);
	/* and less than them is not a whole encoding, nor a wrong one */
	for (i = 0; i < used; i++) {
		if (used > ALL_PREFIXES_MAX && i + 3 < used &&
		    (i == 0 || (p[i - 1] != '\r' && p[i] != '\r')))
			continue;
		if (dechunk(p, i, &again_len, &again_used, &shorter) != 1)
			abort();
	}
	free(body);
}

/*
 * The end of the head: the first empty line, within the limit; shorter
 * reads of it are "not all there yet".
 */
static int
check_head_end(const char *p, size_t len, size_t *head_len)
{
	const char *first;
	size_t again;
	char err[256];
	int r;

	err[0] = '\0';
	r = http_head_end(p, len, head_len, err, sizeof(err));
	first = len >= 4 ? memmem(p, len, "\r\n\r\n", 4) : NULL;
	switch (r) {
	case 0:
		if (first == NULL || *head_len != (size_t)(first - p) + 4 ||
		    *head_len > HTTP_HEAD_MAX)
			abort();
		if (http_head_end(p, *head_len - 1, &again, err, sizeof(err)) != 1)
			abort();
		break;
	case 1:
		if (*head_len != 0 || first != NULL || len >= HTTP_HEAD_MAX)
			abort();
		break;
	case -1:
		fuzz_check_why(err);
		if (*head_len != 0 || len < HTTP_HEAD_MAX || (first != NULL &&
		    (size_t)(first - p) + 4 <= HTTP_HEAD_MAX))
			abort();
		break;
	default:
		abort();
	}
	return r;
}

/* As http_post reads a response: the head to its empty line, the rest. */
static void
check_response(const char *p, size_t len)
{
	size_t head_len, cl;
	bool chunked, close;
	char err[256];
	int status;

	if (check_head_end(p, len, &head_len) != 0)
		return;
	if (http_parse_head(p, head_len, &status, &cl, &chunked, &close, err,
	    sizeof(err)) != 0 || !chunked)
		return;
	check_dechunk(p + head_len, len - head_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p;

	if ((p = fuzz_exact_copy(data, size)) == NULL)
		abort();
	check_head(p, size);
	check_dechunk(p, size);
	check_response(p, size);
	free(p);
	return 0;
}

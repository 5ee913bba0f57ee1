/*
 * The audit trail's two parsers of bytes it did not make: the kernel's
 * replies (audit_parse_reply) and the values a record is built from
 * (audit_rec_*).  Replies: no read outside the input, an error or a
 * consistent result.  Records: whatever the values, one line of
 * printable ASCII within the limit, ending in the outcome.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_record(const struct audit_rec *r, bool ok)
{
	const char *end = ok ? " res=success" : " res=failed";
	size_t n = strlen(r->text), e = strlen(end);

	if (n != r->len || n >= HUSH_AUDIT_TEXT_MAX || n < e ||
	    memcmp(r->text + n - e, end, e) != 0 || memcmp(r->text, "op=", 3) != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (r->text[i] < 0x20 || r->text[i] > 0x7e)
			abort();
}

static void
fuzz_record(const uint8_t *data, size_t len)
{
	static struct audit_rec r;
	static const char *keys[] = { "container", "service", "node", "files" };
	char *tok;
	size_t start = 0, k = 0;
	bool ok = len > 0 && data[0] & 1;

	audit_rec_init(&r, "fuzz");
	/* values separated by 0xff; each one in turn as a string, a token, a number */
	for (size_t i = 0; i <= len; i++) {
		if (i < len && data[i] != 0xff)
			continue;
		switch (k % 3) {
		case 0:
			audit_rec_str(&r, keys[k % 4], data + start, i - start);
			break;
		case 1:
			if ((tok = malloc(i - start + 1)) == NULL)
				return;
			memcpy(tok, data + start, i - start);
			tok[i - start] = '\0';
			audit_rec_token(&r, keys[k % 4], tok);
			free(tok);
			break;
		default:
			audit_rec_u64(&r, keys[k % 4], i - start);
			break;
		}
		k++;
		start = i + 1;
	}
	audit_rec_finish(&r, ok);
	check_record(&r, ok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct audit_reply rep;
	uint8_t *copy;
	uint32_t seq;

	if (len < 5)
		return 0;
	if (data[0] & 0x80) {
		fuzz_record(data + 1, len - 1);
		return 0;
	}
	memcpy(&seq, data + 1, 4);
	/* Exactly the datagram's bytes: ASan sees overreads. */
	if ((copy = malloc(len - 5 ? len - 5 : 1)) == NULL)
		return 0;
	memcpy(copy, data + 5, len - 5);
	memset(&rep, 0, sizeof(rep));
	if (audit_parse_reply(copy, len - 5, seq, &rep) == 0) {
		if (rep.err > 0 || (!rep.acked && rep.err != 0))
			abort();
	}
	free(copy);
	return 0;
}

/*
 * secret_name_check (and service_name_check, the same rule) and
 * label_parse on arbitrary bytes, each against an independent statement
 * of its rule.  Accepted labels must split and join back to the input;
 * every failure must leave a printable message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "names.h"

static int
alnum(char c)
{
	return c != '\0' &&
	    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789", c) != NULL;
}

/* The secret name rule, written differently from lib/names.c. */
static int
name_oracle(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > SECRET_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (!alnum(s[i]) && (s[i] == '\0' || strchr("_.-", s[i]) == NULL))
			return 0;
	}
	return alnum(s[0]) && alnum(s[len - 1]);
}

static void
fuzz_name(const uint8_t *data, size_t size)
{
	char why[256];
	char *buf;
	int r;

	if ((buf = fuzz_exact_copy(data, size)) == NULL)
		return;
	r = secret_name_check(buf, size, why, sizeof(why));
	if ((r == 0) != name_oracle(buf, size))
		abort();
	/* Service names follow the same rule, with their own wording. */
	if (service_name_check(buf, size, NULL, 0) != r)
		abort();
	if (r != 0) {
		if (r < HUSH_E_MIN)
			abort();
		fuzz_check_why(why);
	} else if (why[0] != '\0')
		abort();
	free(buf);
}

static void
fuzz_label(const uint8_t *data, size_t size)
{
	char key[LABEL_KEY_MAX + 1], val[LABEL_VALUE_MAX + 1];
	char key2[LABEL_KEY_MAX + 1], val2[LABEL_VALUE_MAX + 1];
	char why[256], *buf, *joined;
	size_t i, klen, vlen;
	int r;

	if ((buf = fuzz_cstring(data, size)) == NULL)
		return;

	r = label_parse(buf, key, sizeof(key), val, sizeof(val), why,
	    sizeof(why));
	if (r != 0) {
		if (r < HUSH_E_MIN || key[0] != '\0' || val[0] != '\0')
			abort();
		fuzz_check_why(why);
		free(buf);
		return;
	}
	klen = strlen(key);
	vlen = strlen(val);
	if (klen < 1 || klen > LABEL_KEY_MAX || vlen > LABEL_VALUE_MAX ||
	    !alnum(key[0]) || why[0] != '\0')
		abort();
	for (i = 0; i < klen; i++) {
		if (!alnum(key[i]) && strchr("._/-", key[i]) == NULL)
			abort();
	}
	for (i = 0; i < vlen; i++) {
		if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
			abort();
	}
	/* KEY=VALUE joined back is the input up to its first NUL. */
	if ((joined = malloc(klen + 1 + vlen + 1)) == NULL)
		abort();
	memcpy(joined, key, klen);
	joined[klen] = '=';
	memcpy(joined + klen + 1, val, vlen + 1);
	if (strcmp(joined, buf) != 0)
		abort();
	if (label_parse(joined, key2, sizeof(key2), val2, sizeof(val2), NULL,
	    0) != 0 || strcmp(key, key2) != 0 || strcmp(val, val2) != 0)
		abort();
	free(joined);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_name(data, size);
	fuzz_label(data, size);
	return 0;
}

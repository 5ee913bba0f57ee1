/*
 * secret_name_check (and service_name_check, the same rule) and
 * label_parse on arbitrary bytes, each against an independent statement
 * of its rule.  Accepted labels must split and join back to the input;
 * every failure must leave a printable message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "names.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	return 0;
}

static void
check_why(const char *why)
{
	size_t i;

	if (why[0] == '\0')
		abort();
	for (i = 0; why[i] != '\0'; i++) {
		if (why[i] < 0x20 || why[i] > 0x7e)
			abort();
	}
}

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

	/* Exactly size bytes, so ASan sees any read past the end. */
	if ((buf = malloc(size)) == NULL && size != 0)
		return;
	if (size > 0)
		memcpy(buf, data, size);
	r = secret_name_check(buf, size, why, sizeof(why));
	if ((r == 0) != name_oracle(buf, size))
		abort();
	/* Service names follow the same rule, with their own wording. */
	if (service_name_check(buf, size, NULL, 0) != r)
		abort();
	if (r != 0) {
		if (r < HUSH_E_MIN)
			abort();
		check_why(why);
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

	/* The API takes a C string: size bytes plus the NUL, nothing more. */
	if ((buf = malloc(size + 1)) == NULL)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';

	r = label_parse(buf, key, sizeof(key), val, sizeof(val), why,
	    sizeof(why));
	if (r != 0) {
		if (r < HUSH_E_MIN || key[0] != '\0' || val[0] != '\0')
			abort();
		check_why(why);
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

/*
 * What the harnesses of text parsers share, so each file holds only what
 * it checks: libsodium made ready before the first input (the parsers
 * wipe with it, some draw random bytes), an exact-size or C-string copy
 * of the input, and the check every failure's message must pass.
 * Included by the harness's one source file; a harness that must set up
 * more at start defines FUZZ_SETUP() before including this.
 */
#ifndef HUSH_FUZZ_HARNESS_H
#define HUSH_FUZZ_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#ifndef FUZZ_SETUP
#define FUZZ_SETUP()	do { } while (0)
#endif

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	FUZZ_SETUP();
	return 0;
}

/*
 * Exactly size bytes of data, so ASan sees any read past the end (one
 * byte for an empty input, which then has a pointer all the same); NULL
 * if out of memory.  The caller frees it.
 */
static inline char *
fuzz_exact_copy(const uint8_t *data, size_t size)
{
	char *buf;

	if ((buf = malloc(size == 0 ? 1 : size)) != NULL)
		memcpy(buf, data, size);
	return buf;
}

/*
 * data as a C string for an API that takes one: size bytes and the NUL,
 * nothing more; NULL if out of memory.  The caller frees it.
 */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char *buf;

	if ((buf = malloc(size + 1)) != NULL) {
		memcpy(buf, data, size);
		buf[size] = '\0';
	}
	return buf;
}

/* A failure's message: there, and printable ASCII to its end. */
static inline void
fuzz_check_why(const char *why)
{
	size_t i;

	if (why[0] == '\0')
		abort();
	for (i = 0; why[i] != '\0'; i++) {
		if (why[i] < 0x20 || why[i] > 0x7e)
			abort();
	}
}

#endif

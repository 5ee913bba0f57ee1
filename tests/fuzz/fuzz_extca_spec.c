/*
 * hushctl's --external-ca parser on arbitrary text.  On success the URL
 * is what hushd may be sent (https://, a host, no path, nothing a
 * terminal would obey, within T_EXTCA_URL's bound, and what hushd's own
 * cfssl_url_parse() takes) and appears in the
 * input as key url's value; on failure a printable message and nothing
 * left in the result.
 * hushctl's sources are not in libhush.a, so the parser is compiled in here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/hushctl/extca_spec.c"
#include "harness.h"

static void
accepted_url(const char *url, const char *input)
{
	size_t len = strlen(url), i;
	struct cfssl_url u;
	char *needle, d[512];

	if (len <= strlen("https://") || len > EXTCA_URL_MAX ||
	    strncmp(url, "https://", 8) != 0)
		abort();
	for (i = 8; i < len; i++)
		if (url[i] <= 0x20 || url[i] >= 0x7f || strchr("?#@,", url[i]) != NULL ||
		    (url[i] == '/' && i + 1 < len))
			abort();
	if (cfssl_url_parse(url, &u, d, sizeof(d)) != 0)
		abort();
	if ((needle = malloc(len + 5)) == NULL)
		abort();
	memcpy(needle, "url=", 4);
	memcpy(needle + 4, url, len + 1);
	if (strstr(input, needle) == NULL)
		abort();
	free(needle);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct extca_spec sp;
	char why[320];
	char *buf;
	int r;

	if ((buf = fuzz_cstring(data, size)) == NULL)
		return 0;
	r = extca_spec_parse(buf, &sp, why, sizeof(why));
	if (r != 0) {
		if (r < HUSH_E_MIN || sp.url[0] != '\0' || sp.cacert[0] != '\0')
			abort();
		fuzz_check_why(why);
	} else {
		if (why[0] != '\0' || strstr(buf, "protocol=cfssl") == NULL)
			abort();
		accepted_url(sp.url, buf);
		if (strchr(sp.cacert, ',') != NULL)
			abort();
	}
	free(buf);
	return 0;
}

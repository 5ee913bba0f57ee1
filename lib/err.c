#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

const char *
hush_strerror(int code)
{
	switch (code) {
#define HUSH_ERR_CASE(name, value, text) case value: return text;
	HUSH_ERRORS(HUSH_ERR_CASE)
#undef HUSH_ERR_CASE
	}
	return "unknown error";
}

int
hush_err_from_wire(unsigned int v)
{
	if (v > (unsigned int)-HUSH_E_MIN)
		return HUSH_E_PROTO;
	return -(int)v;
}

void
set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

const char *
why_quote(const char *s, size_t len, char buf[WHY_QUOTE_CAP])
{
	char piece[5];
	size_t i, o, pl;
	unsigned char c;

	o = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			piece[0] = (char)c;
			pl = 1;
		} else {
			snprintf(piece, sizeof(piece), "\\x%02x", c);
			pl = 4;
		}
		if (o + pl > WHY_QUOTE_OUT)
			break;
		memcpy(buf + o, piece, pl);
		o += pl;
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

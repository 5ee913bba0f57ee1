#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "err.h"

/* Longest piece of the operator's input echoed back in a message. */
#define ECHO_MAX	40

struct unit {
	char		name;
	uint64_t	secs;
};

/* Largest first: the order the units must appear in. */
static const struct unit units[] = {
	{ 'd', 86400 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};
#define NUNITS	(sizeof(units) / sizeof(units[0]))

/*
 * Copies at most ECHO_MAX bytes of s into buf as printable ASCII, others
 * as \xNN, so a message can quote the input without writing terminal
 * control sequences to the operator's screen.
 */
static const char *
quote(const char *s, char *buf, size_t cap)
{
	size_t i, o;
	unsigned char c;

	o = 0;
	for (i = 0; s[i] != '\0' && i < ECHO_MAX; i++) {
		c = (unsigned char)s[i];
		if (o + 5 >= cap)
			break;
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
	}
	if (s[i] != '\0' && o + 4 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int
duration_parse(const char *s, uint64_t *seconds, char *why, size_t whylen)
{
	char q[ECHO_MAX * 4 + 8];
	const char *p, *u;
	uint64_t total, n;
	size_t i, ulen, next_unit;
	unsigned int d;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (seconds == NULL)
		return HUSH_E_INVAL;
	*seconds = 0;
	if (s == NULL || *s == '\0') {
		set_why(why, whylen, "duration is empty");
		return s == NULL ? HUSH_E_INVAL : HUSH_E_FORMAT;
	}
	quote(s, q, sizeof(q));
	if (*s == '-') {
		set_why(why, whylen, "duration '%s' must not be negative", q);
		return HUSH_E_FORMAT;
	}

	total = 0;
	next_unit = 0;	/* index into units[] of the largest still allowed */
	for (p = s; *p != '\0'; ) {
		if (!is_digit(*p) && p == s) {
			set_why(why, whylen, "duration '%s' must be numbers "
			    "each followed by a unit, e.g. 90d or 1h30m", q);
			return HUSH_E_FORMAT;
		}
		if (!is_digit(*p)) {
			set_why(why, whylen, "duration '%s' has trailing "
			    "characters after the last unit", q);
			return HUSH_E_FORMAT;
		}
		for (n = 0; is_digit(*p); p++) {
			d = (unsigned int)(*p - '0');
			if (n > (UINT64_MAX - d) / 10)
				goto toobig;
			n = n * 10 + d;
		}
		if (*p == '\0') {
			set_why(why, whylen, "duration '%s' needs a unit: "
			    "s, m, h or d", q);
			return HUSH_E_FORMAT;
		}
		if (*p == '.' || *p == ',') {
			set_why(why, whylen, "duration '%s' must use whole "
			    "numbers (try a smaller unit, e.g. 90m for 1.5h)",
			    q);
			return HUSH_E_FORMAT;
		}
		/* Take the whole word so "ms" is not read as m then s. */
		for (u = p, ulen = 0; is_alpha(u[ulen]); ulen++)
			;
		if (ulen == 0) {
			set_why(why, whylen, "duration '%s' has an unexpected "
			    "character after a number (units are s, m, h "
			    "and d)", q);
			return HUSH_E_FORMAT;
		}
		for (i = 0; i < NUNITS; i++) {
			if (ulen == 1 && *u == units[i].name)
				break;
		}
		if (i == NUNITS) {
			set_why(why, whylen, "duration '%s' has an unknown "
			    "unit (use s, m, h or d)", q);
			return HUSH_E_FORMAT;
		}
		if (i < next_unit) {
			set_why(why, whylen, "duration '%s' must give each "
			    "unit at most once, largest first (d, h, m, s)", q);
			return HUSH_E_FORMAT;
		}
		next_unit = i + 1;
		p = u + ulen;

		if (n > UINT64_MAX / units[i].secs)
			goto toobig;
		n *= units[i].secs;
		if (total > UINT64_MAX - n)
			goto toobig;
		total += n;
	}
	*seconds = total;
	return 0;

 toobig:
	set_why(why, whylen, "duration '%s' is too large", q);
	return HUSH_E_RANGE;
}

int
duration_format(uint64_t seconds, char *out, size_t outcap)
{
	uint64_t n;
	size_t i, o;
	int w;

	if (out == NULL || outcap == 0)
		return out == NULL ? HUSH_E_INVAL : HUSH_E_TOOBIG;
	if (seconds == 0) {
		if (outcap < sizeof("0s"))
			goto toobig;
		memcpy(out, "0s", sizeof("0s"));
		return 0;
	}
	o = 0;
	for (i = 0; i < NUNITS; i++) {
		n = seconds / units[i].secs;
		seconds %= units[i].secs;
		if (n == 0)
			continue;
		w = snprintf(out + o, outcap - o, "%llu%c",
		    (unsigned long long)n, units[i].name);
		if (w < 0 || (size_t)w >= outcap - o)
			goto toobig;
		o += (size_t)w;
	}
	return 0;

 toobig:
	out[0] = '\0';
	return HUSH_E_TOOBIG;
}

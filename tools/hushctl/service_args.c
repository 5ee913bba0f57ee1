#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "service_args.h"

static int
number(const char *key, const char *s, int base, uint32_t max, uint32_t *out,
    const char *text, char *why, size_t whylen)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9') {
		snprintf(why, whylen, "--secret '%.64s': %s must be a number", text, key);
		return HUSH_E_FORMAT;
	}
	v = strtoul(s, &end, base);
	if (*end != '\0' || v > max) {
		snprintf(why, whylen, "--secret '%.64s': %s is out of range", text, key);
		return *end != '\0' ? HUSH_E_FORMAT : HUSH_E_RANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

int
grant_arg_parse(const char *text, struct grant_arg *out, char *why, size_t whylen)
{
	char buf[1025], *field, *save = NULL, *eq;
	int r = 0, first = 1;

	memset(out, 0, sizeof(*out));
	out->mode = 0444;
	if (strlen(text) >= sizeof(buf)) {
		snprintf(why, whylen, "--secret: the text is too long");
		return HUSH_E_TOOBIG;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	for (field = strtok_r(buf, ",", &save); r == 0 && field != NULL;
	    field = strtok_r(NULL, ",", &save), first = 0) {
		if ((eq = strchr(field, '=')) == NULL) {
			if (!first) {
				snprintf(why, whylen, "--secret '%.64s': '%.32s' is not KEY=VALUE",
				    text, field);
				return HUSH_E_FORMAT;
			}
			eq = field - 1;	/* a bare source */
			field = "source";
		} else {
			*eq = '\0';
		}
		if (strcmp(field, "source") == 0 || strcmp(field, "src") == 0) {
			if (out->source[0] != '\0' ||
			    secret_name_check(eq + 1, strlen(eq + 1), why, whylen) != 0) {
				if (out->source[0] != '\0')
					snprintf(why, whylen, "--secret '%.64s': the source is "
					    "given twice", text);
				return HUSH_E_FORMAT;
			}
			snprintf(out->source, sizeof(out->source), "%s", eq + 1);
		} else if (strcmp(field, "target") == 0) {
			if (eq[1] == '\0' || strlen(eq + 1) > HUSH_TARGET_MAX) {
				snprintf(why, whylen, "--secret '%.64s': bad target", text);
				return HUSH_E_FORMAT;
			}
			snprintf(out->target, sizeof(out->target), "%s", eq + 1);
		} else if (strcmp(field, "uid") == 0) {
			r = number("uid", eq + 1, 10, UINT32_MAX - 1, &out->uid, text, why, whylen);
		} else if (strcmp(field, "gid") == 0) {
			r = number("gid", eq + 1, 10, UINT32_MAX - 1, &out->gid, text, why, whylen);
		} else if (strcmp(field, "mode") == 0) {
			r = number("mode", eq + 1, 8, 0777, &out->mode, text, why, whylen);
		} else {
			snprintf(why, whylen, "--secret '%.64s': unknown key '%.32s'", text, field);
			return HUSH_E_FORMAT;
		}
	}
	if (r != 0)
		return r;
	if (out->source[0] == '\0') {
		snprintf(why, whylen, "--secret '%.64s': no secret name given", text);
		return HUSH_E_FORMAT;
	}
	if (out->target[0] == '\0')
		snprintf(out->target, sizeof(out->target), "%s", out->source);
	return 0;
}

int
constraint_arg(const char *text, char *canon, size_t canonlen, char *why, size_t whylen)
{
	if (strlen(text) >= canonlen || (strstr(text, "==") == NULL && strstr(text, "!=") == NULL)) {
		snprintf(why, whylen, "--constraint '%.64s': expected KEY==VALUE or KEY!=VALUE",
		    text);
		return HUSH_E_FORMAT;
	}
	snprintf(canon, canonlen, "%s", text);
	return 0;
}

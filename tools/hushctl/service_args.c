/*
 * The --secret and --constraint arguments of service create/update, read
 * with the same parsers the store uses to check them again
 * (lib/secret_ref.c, lib/constraint.c).
 */
#include <stdio.h>
#include <string.h>

#include "constraint.h"
#include "err.h"
#include "secret_ref.h"
#include "service_args.h"

int
grant_arg_parse(const char *text, struct grant_arg *out, char *why, size_t whylen)
{
	struct secret_ref ref;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = secret_ref_parse(text, &ref, why, whylen)) != 0)
		return r;
	snprintf(out->source, sizeof(out->source), "%s", ref.source);
	snprintf(out->target, sizeof(out->target), "%s", ref.target);
	out->uid = ref.uid;
	out->gid = ref.gid;
	out->mode = ref.mode;
	return 0;
}

int
constraint_arg(const char *text, char *canon, size_t canonlen, char *why, size_t whylen)
{
	struct constraint c;
	char msg[256];
	int r;

	if ((r = constraint_parse(text, &c, msg, sizeof(msg))) != 0) {
		snprintf(why, whylen, "--constraint: %s", msg);
		return r;
	}
	return constraint_format(&c, canon, canonlen);
}

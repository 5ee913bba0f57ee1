/*
 * The --secret and --constraint arguments of service create/update, checked
 * before anything is sent; the daemon checks them again.  Pure, so the unit
 * tests can drive them.
 */
#ifndef HUSHCTL_SERVICE_ARGS_H
#define HUSHCTL_SERVICE_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "names.h"

#define CONSTRAINT_ARG_MAX	HUSH_CONSTRAINT_MAX

/* One grant: the secret (name or id) and the file it becomes. */
struct grant_arg {
	char		 source[SECRET_NAME_MAX + 1];
	char		 target[HUSH_TARGET_MAX + 1];
	uint32_t	 uid, gid, mode;
};

/*
 * "SRC[,target=T][,uid=U][,gid=G][,mode=M]" (SRC also as source=/src=), with
 * target = SRC, uid = gid = 0 and mode = 0444 by default.  0 or a negative
 * HUSH_E_* code with a line in why naming the --secret argument.
 */
int	grant_arg_parse(const char *text, struct grant_arg *out, char *why, size_t whylen);

/* A placement constraint, written to canon as the daemon will store it. */
int	constraint_arg(const char *text, char *canon, size_t canonlen, char *why,
	    size_t whylen);

#endif

/*
 * Placement constraints on a service, in Docker's syntax: which nodes may
 * hold its secrets.  "node.id==ID", "node.role==manager",
 * "node.labels.KEY==VALUE", each also with "!=".  The text comes from the
 * CLI and from the replicated store; every node evaluates the parsed form
 * against its own facts.
 */
#ifndef HUSH_CONSTRAINT_H
#define HUSH_CONSTRAINT_H

#include <stdbool.h>
#include <stddef.h>

#include "names.h"

/* Longest text constraint_parse reads; also enough for any format. */
#define CONSTRAINT_MAX_TEXT	1024

enum constraint_key { CK_NODE_ID, CK_NODE_ROLE, CK_NODE_LABEL };

struct constraint {
	enum constraint_key key;
	char	 label[LABEL_KEY_MAX + 1];	/* for CK_NODE_LABEL, else "" */
	bool	 equal;				/* == or != */
	char	 value[LABEL_VALUE_MAX + 1];
};

/*
 * Parses the NUL-terminated text into *out (zeroed on failure).  Spaces
 * and tabs around the operator and at both ends are ignored, as Docker
 * does; the operator is the first "==" or "!=" (keys cannot contain
 * either), and a value starting with '=' is refused as the typo "===".
 * node.role takes manager or worker; node.id a node id (hush_id_valid);
 * node.labels.KEY a key by label_key_check and a value by
 * label_value_check (so possibly empty).  Other keys, e.g. Docker's
 * node.hostname, are not supported.  HUSH_E_FORMAT, HUSH_E_TOOBIG or
 * HUSH_E_INVAL, with one line in why that never quotes the value.
 */
int	constraint_parse(const char *text, struct constraint *out, char *why,
	    size_t whylen);

struct node_label {
	const char	*key, *value;
};

struct node_facts {
	const char		*id;
	int			 role;	/* ROLE_MANAGER / ROLE_WORKER (msg.h) */
	const struct node_label	*labels;
	size_t			 nlabels;
};

/*
 * Docker's semantics: a missing label never equals a value and always
 * differs from it, so node.labels.x!=y matches nodes without x.  Fails
 * closed: NULL arguments, a node without an id, an unknown key, or a
 * role (constraint's or node's) other than manager/worker match nothing,
 * with either operator.
 */
bool	constraint_match(const struct constraint *c,
	    const struct node_facts *n);
/* All must match (logical AND); n == 0 matches every node. */
bool	constraints_match(const struct constraint *c, size_t n,
	    const struct node_facts *f);

/*
 * Canonical text, no spaces: "node.labels.k==v", "node.role!=worker".
 * HUSH_E_INVAL if *c is not something constraint_parse could have
 * produced (so the text always parses back to *c), HUSH_E_TOOBIG if len
 * is too small (buf is then "").
 */
int	constraint_format(const struct constraint *c, char *buf, size_t len);

#endif

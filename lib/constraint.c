#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "constraint.h"
#include "err.h"
#include "id.h"
#include "msg.h"
#include "names.h"

/*
 * Only keys and operator-less text are ever quoted in messages (why_quote):
 * like label values, constraint values stay out of messages and logs.
 */
#define LABELS_PREFIX	"node.labels."
#define KEYS_HINT	"use node.id, node.role or node.labels.KEY"

/* Docker trims with TrimSpace; tabs are the only other blank that fits. */
static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
span_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/*
 * Reads the key text k[0..klen) into c->key and c->label.  The key is
 * only quoted before it is known to be one of ours.
 */
static int
key_parse(const char *k, size_t klen, struct constraint *c, char *why,
    size_t whylen)
{
	char q[WHY_QUOTE_CAP], inner[128];
	size_t plen = sizeof(LABELS_PREFIX) - 1;
	int e;

	if (span_is(k, klen, "node.id")) {
		c->key = CK_NODE_ID;
		return 0;
	}
	if (span_is(k, klen, "node.role")) {
		c->key = CK_NODE_ROLE;
		return 0;
	}
	if (klen < plen || memcmp(k, LABELS_PREFIX, plen) != 0) {
		set_why(why, whylen, "constraint key '%s' is not supported "
		    "(" KEYS_HINT ")", why_quote(k, klen, q));
		return HUSH_E_FORMAT;
	}
	k += plen;
	klen -= plen;
	if (klen == 0) {
		set_why(why, whylen, "constraint on " LABELS_PREFIX " needs a "
		    "label key (" LABELS_PREFIX "KEY)");
		return HUSH_E_FORMAT;
	}
	if ((e = label_key_check(k, klen, inner, sizeof(inner))) != 0) {
		set_why(why, whylen, "constraint: %s", inner);
		return e;
	}
	memcpy(c->label, k, klen);
	c->label[klen] = '\0';
	c->key = CK_NODE_LABEL;
	return 0;
}

/*
 * The value rule for c->key (and c->label, already valid) on v[0..vlen).
 * Shared by the parser and the formatter, so format's domain is exactly
 * parse's range.
 */
static int
value_check(const struct constraint *c, const char *v, size_t vlen,
    char *why, size_t whylen)
{
	char id[HUSH_ID_LEN + 1], inner[64];
	int e;

	if (vlen > 0 && (v[0] == '=' || is_blank(v[0]) ||
	    is_blank(v[vlen - 1]))) {
		/* The parser trims blanks and reports '=' itself. */
		set_why(why, whylen, "constraint value starts with '=' or has "
		    "blanks at either end");
		return HUSH_E_FORMAT;
	}
	switch (c->key) {
	case CK_NODE_ID:
		if (vlen == HUSH_ID_LEN) {
			memcpy(id, v, vlen);
			id[vlen] = '\0';
			if (hush_id_valid(id))
				return 0;
		}
		set_why(why, whylen, "constraint node.id must be a node id "
		    "(%d characters of 0-9 a-z, as 'hushctl node ls' shows)",
		    HUSH_ID_LEN);
		return HUSH_E_FORMAT;
	case CK_NODE_ROLE:
		if (span_is(v, vlen, "manager") || span_is(v, vlen, "worker"))
			return 0;
		set_why(why, whylen, "constraint node.role must be manager or "
		    "worker");
		return HUSH_E_FORMAT;
	case CK_NODE_LABEL:
		if ((e = label_value_check(v, vlen, inner, sizeof(inner))) != 0)
			set_why(why, whylen, "constraint " LABELS_PREFIX "%s "
			    "%s", c->label, inner);
		return e;
	}
	set_why(why, whylen, "constraint has an unknown key (%d)", (int)c->key);
	return HUSH_E_INVAL;
}

int
constraint_parse(const char *text, struct constraint *out, char *why,
    size_t whylen)
{
	struct constraint c;
	char q[WHY_QUOTE_CAP];
	const char *b, *e, *op, *p, *kend, *v;
	size_t tlen;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (out == NULL)
		return HUSH_E_INVAL;
	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return HUSH_E_INVAL;
	memset(&c, 0, sizeof(c));

	tlen = strnlen(text, CONSTRAINT_MAX_TEXT + 1);
	if (tlen > CONSTRAINT_MAX_TEXT) {
		set_why(why, whylen, "constraint is longer than %d bytes",
		    CONSTRAINT_MAX_TEXT);
		return HUSH_E_TOOBIG;
	}
	for (b = text, e = text + tlen; b < e && is_blank(*b); b++)
		;
	while (e > b && is_blank(e[-1]))
		e--;
	if (b == e) {
		set_why(why, whylen, "constraint is empty (expected e.g. "
		    "node.role==manager)");
		return HUSH_E_FORMAT;
	}

	/*
	 * The first "==" or "!=" is the operator: no valid key contains '='
	 * or '!', so a value may, and the canonical form reads back alike.
	 */
	for (op = NULL, p = b; p + 1 < e; p++) {
		if ((p[0] == '=' || p[0] == '!') && p[1] == '=') {
			op = p;
			break;
		}
	}
	if (op == NULL && (p = memchr(b, '=', (size_t)(e - b))) != NULL) {
		/* Quote only up to the '=': what follows is meant as value. */
		set_why(why, whylen, "constraint '%s=...' has a single '=', "
		    "which is not an operator (use == or !=)",
		    why_quote(b, (size_t)(p - b), q));
		return HUSH_E_FORMAT;
	}
	if (op == NULL) {
		/* No operator, hence no value to keep out of the message. */
		set_why(why, whylen, "constraint '%s' needs == or != (e.g. "
		    "node.role==manager)", why_quote(b, (size_t)(e - b), q));
		return HUSH_E_FORMAT;
	}
	c.equal = op[0] == '=';

	for (kend = op; kend > b && is_blank(kend[-1]); kend--)
		;
	if (kend == b) {
		set_why(why, whylen, "constraint has no key before '%.2s' "
		    "(" KEYS_HINT ")", op);
		return HUSH_E_FORMAT;
	}
	if ((r = key_parse(b, (size_t)(kend - b), &c, why, whylen)) != 0)
		return r;

	for (v = op + 2; v < e && is_blank(*v); v++)
		;
	if (v < e && *v == '=') {
		set_why(why, whylen, "constraint operator '%.2s=' is not "
		    "supported (use == or !=)", op);
		return HUSH_E_FORMAT;
	}
	if ((r = value_check(&c, v, (size_t)(e - v), why, whylen)) != 0)
		return r;
	/* value_check bounded the length by LABEL_VALUE_MAX or less. */
	memcpy(c.value, v, (size_t)(e - v));
	c.value[e - v] = '\0';
	*out = c;
	return 0;
}

/* The label's value on the node, or NULL when the node lacks it. */
static const char *
label_lookup(const struct node_facts *n, const char *key)
{
	size_t i;

	if (n->labels == NULL)
		return NULL;
	for (i = 0; i < n->nlabels; i++) {
		if (n->labels[i].key != NULL &&
		    strcmp(n->labels[i].key, key) == 0)
			return n->labels[i].value;
	}
	return NULL;
}

bool
constraint_match(const struct constraint *c, const struct node_facts *n)
{
	const char *have;
	bool same;
	int want;

	if (c == NULL || n == NULL || n->id == NULL)
		return false;
	switch (c->key) {
	case CK_NODE_ID:
		same = strcmp(n->id, c->value) == 0;
		break;
	case CK_NODE_ROLE:
		if (strcmp(c->value, "manager") == 0)
			want = ROLE_MANAGER;
		else if (strcmp(c->value, "worker") == 0)
			want = ROLE_WORKER;
		else
			return false;
		if (n->role != ROLE_MANAGER && n->role != ROLE_WORKER)
			return false;
		same = n->role == want;
		break;
	case CK_NODE_LABEL:
		/* Missing: never equal, always different. */
		have = label_lookup(n, c->label);
		same = have != NULL && strcmp(have, c->value) == 0;
		break;
	default:
		/* A corrupt constraint must not place a secret anywhere. */
		return false;
	}
	return c->equal ? same : !same;
}

bool
constraints_match(const struct constraint *c, size_t n,
    const struct node_facts *f)
{
	size_t i;

	if (f == NULL || (c == NULL && n != 0))
		return false;
	for (i = 0; i < n; i++) {
		if (!constraint_match(&c[i], f))
			return false;
	}
	return true;
}

int
constraint_format(const struct constraint *c, char *buf, size_t len)
{
	const char *op;
	size_t llen, vlen;
	int w;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	if (c == NULL || buf == NULL)
		return HUSH_E_INVAL;
	llen = strnlen(c->label, sizeof(c->label));
	vlen = strnlen(c->value, sizeof(c->value));
	if (llen == sizeof(c->label) || vlen == sizeof(c->value))
		return HUSH_E_INVAL;
	if (c->key == CK_NODE_LABEL) {
		if (label_key_check(c->label, llen, NULL, 0) != 0)
			return HUSH_E_INVAL;
	} else if (llen != 0)
		return HUSH_E_INVAL;
	if (value_check(c, c->value, vlen, NULL, 0) != 0)
		return HUSH_E_INVAL;

	op = c->equal ? "==" : "!=";
	switch (c->key) {
	case CK_NODE_ID:
		w = snprintf(buf, len, "node.id%s%s", op, c->value);
		break;
	case CK_NODE_ROLE:
		w = snprintf(buf, len, "node.role%s%s", op, c->value);
		break;
	case CK_NODE_LABEL:
		w = snprintf(buf, len, LABELS_PREFIX "%s%s%s", c->label, op,
		    c->value);
		break;
	default:
		return HUSH_E_INVAL;
	}
	if (w < 0 || (size_t)w >= len) {
		if (len > 0)
			buf[0] = '\0';
		return HUSH_E_TOOBIG;
	}
	return 0;
}

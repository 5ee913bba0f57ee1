/*
 * constraint_parse on arbitrary text.  Failures leave a zeroed struct and
 * a short printable message; an accepted constraint formats and parses
 * back to itself, and matches exactly the nodes its operator says: a node
 * with the named fact set to the value, one with another value, and (for
 * labels) one without the label.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "constraint.h"
#include "err.h"
#include "harness.h"
#include "id.h"
#include "msg.h"

/* Two valid node ids that differ. */
#define ID_ONE	"1aaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_TWO	"1bbbbbbbbbbbbbbbbbbbbbbbb"

/* Every message names what it is about and stays short. */
static void
check_why(const char *why)
{
	if (strncmp(why, "constraint", 10) != 0 || strlen(why) > 200)
		abort();
	fuzz_check_why(why);
}

static bool
constraint_equal(const struct constraint *a, const struct constraint *b)
{
	return a->key == b->key && a->equal == b->equal &&
	    strcmp(a->label, b->label) == 0 && strcmp(a->value, b->value) == 0;
}

/* Each node below matches iff its fact equals the value, or iff not. */
static void
check_semantics(const struct constraint *c)
{
	char other[LABEL_VALUE_MAX + 2];
	struct node_label same_l = { c->label, c->value };
	struct node_label diff_l = { c->label, other };
	struct node_facts same = { ID_ONE, ROLE_MANAGER, NULL, 0 };
	struct node_facts diff = { ID_ONE, ROLE_MANAGER, NULL, 0 };
	struct node_facts none = { ID_ONE, ROLE_WORKER, NULL, 0 };

	/* A value no constraint can hold: one byte longer than it. */
	memcpy(other, c->value, strlen(c->value));
	memcpy(other + strlen(c->value), "x", 2);

	switch (c->key) {
	case CK_NODE_ID:
		same.id = c->value;
		diff.id = strcmp(c->value, ID_TWO) == 0 ? ID_ONE : ID_TWO;
		break;
	case CK_NODE_ROLE:
		if (strcmp(c->value, "manager") == 0)
			diff.role = ROLE_WORKER;
		else if (strcmp(c->value, "worker") == 0)
			same.role = ROLE_WORKER;
		else
			abort();
		break;
	case CK_NODE_LABEL:
		same.labels = &same_l;
		same.nlabels = 1;
		diff.labels = &diff_l;
		diff.nlabels = 1;
		/* Missing is never equal, always different. */
		if (constraint_match(c, &none) != !c->equal)
			abort();
		break;
	default:
		abort();
	}
	if (constraint_match(c, &same) != c->equal ||
	    constraint_match(c, &diff) != !c->equal)
		abort();
	if (!constraints_match(c, 0, &diff) ||
	    constraints_match(c, 1, &same) != c->equal)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct constraint zero;
	struct constraint c, back;
	char why[256], out[CONSTRAINT_MAX_TEXT], out2[CONSTRAINT_MAX_TEXT];
	char *buf;
	int r;

	if ((buf = fuzz_cstring(data, size)) == NULL)
		return 0;

	r = constraint_parse(buf, &c, why, sizeof(why));
	if (r != 0) {
		if (r != HUSH_E_FORMAT && r != HUSH_E_TOOBIG)
			abort();
		if (memcmp(&c, &zero, sizeof(c)) != 0)
			abort();
		check_why(why);
		free(buf);
		return 0;
	}
	if (why[0] != '\0')
		abort();
	if (c.key == CK_NODE_ID && !hush_id_valid(c.value))
		abort();
	if (c.key != CK_NODE_LABEL && c.label[0] != '\0')
		abort();

	if (constraint_format(&c, out, sizeof(out)) != 0)
		abort();
	memset(&back, 0xa5, sizeof(back));
	if (constraint_parse(out, &back, NULL, 0) != 0 ||
	    !constraint_equal(&c, &back))
		abort();
	if (constraint_format(&back, out2, sizeof(out2)) != 0 ||
	    strcmp(out, out2) != 0)
		abort();
	check_semantics(&c);
	free(buf);
	return 0;
}

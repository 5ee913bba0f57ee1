/*
 * libFuzzer harness for the run directory's container records
 * (daemon/parent/containers_record.c, ctr_record_parse()).  Each input is
 * a record file's content.  It is parsed once under a fixed name, and --
 * so that the checks after the name's are reached too -- again under the
 * name its id would have.  Whatever is accepted must be within bounds:
 * absolute paths, a valid service name, a real pid, a 36-byte boot id,
 * and it must write back to a record that parses to the same container.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "names.h"
#include "parent/containers.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct container *c, const char *boot)
{
	struct container back;
	char name[CTR_RECORD_NAME_MAX], b[CTR_BOOT_ID_LEN + 1], why[256];
	char *text;

	if (c->id[0] == '\0' || c->root[0] != '/' || c->target[0] != '/' ||
	    c->pid < 2 || strlen(boot) != CTR_BOOT_ID_LEN ||
	    service_name_check(c->service, strlen(c->service), why, sizeof(why)) != 0)
		abort();
	if ((text = ctr_record_text(c, boot)) == NULL)
		abort();	/* it came from JSON: it goes back to JSON */
	ctr_record_name(c->id, ".json", name, sizeof(name));
	memset(&back, 0, sizeof(back));
	if (ctr_record_parse(name, text, strlen(text), &back, b, why, sizeof(why)) != 0 ||
	    strcmp(back.id, c->id) != 0 || strcmp(back.root, c->root) != 0 ||
	    back.pid != c->pid || back.start != c->start || back.view_id != c->view_id ||
	    strcmp(b, boot) != 0)
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct container c;
	char name[CTR_RECORD_NAME_MAX], boot[CTR_BOOT_ID_LEN + 1], why[256];
	const char *text = (const char *)data;
	int r;

	memset(&c, 0, sizeof(c));
	r = ctr_record_parse("00000000000000000000000000000000.json", text, size,
	    &c, boot, why, sizeof(why));
	if (r == 0)
		check(&c, boot);
	else if (r != HUSH_E_FORMAT)
		abort();
	if (c.id[0] == '\0')
		return 0;
	ctr_record_name(c.id, ".json", name, sizeof(name));
	memset(&c, 0, sizeof(c));
	r = ctr_record_parse(name, text, size, &c, boot, why, sizeof(why));
	if (r == 0)
		check(&c, boot);
	else if (r != HUSH_E_FORMAT)
		abort();
	return 0;
}

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg.h"
#include "store_fixture.h"

const uint8_t test_memory_dek[32] = { 0x42 };

struct store *
store_fixture_new(void)
{
	struct store *s = malloc(sizeof(*s));

	assert_non_null(s);
	assert_int_equal(store_init(s), 0);
	store_use_key(s, test_memory_dek);
	return s;
}

void
store_fixture_del(struct store *s)
{
	store_free(s);
	free(s);
}

void
store_fixture_req(uint8_t rid[16], uint8_t fill)
{
	static uint32_t counter;

	memset(rid, fill, 16);
	counter++;
	rid[12] = (uint8_t)(counter >> 24);
	rid[13] = (uint8_t)(counter >> 16);
	rid[14] = (uint8_t)(counter >> 8);
	rid[15] = (uint8_t)counter;
}

void
store_fixture_apply(struct store *s, struct wire_enc *e)
{
	static const uint16_t cmd_types[] = {
		CMD_CLUSTER_INIT, CMD_TOKEN_ROTATE, CMD_SECRET_CREATE, CMD_SECRET_RM,
		CMD_CLUSTER_UPDATE, CMD_NODE_ADD, CMD_NODE_UPDATE, CMD_NODE_REMOVE,
		CMD_SERVICE_CREATE, CMD_SERVICE_UPDATE, CMD_SERVICE_RM, CMD_SECRET_UPDATE,
		CMD_FORCE_NEW_CLUSTER, CMD_STORE_LOAD, CMD_BACKUP_MARK, 0
	};
	static struct wire_msg cmd;	/* big: off the stack */
	const uint8_t *buf;
	size_t len;
	char why[256];
	unsigned changed;

	assert_int_equal(wire_enc_finish(e, &buf, &len), 0);
	if (msg_parse(buf, len, WIRE_MAX_MSG, cmd_types, &cmd, why, sizeof(why)) != 0)
		fail_msg("command does not parse: %s", why);
	assert_int_equal(store_apply(s, &cmd, &changed), 0);
	wire_enc_free(e);
}

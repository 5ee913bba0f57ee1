/*
 * keyring.c against the real kernel keyring.  The whole binary first joins
 * a private session keyring so its keys never land in the user-session
 * keyring every other root process shares.  Children report through their
 * exit status: cmocka's asserts must only run in the parent.
 */
#include <errno.h>
#include <keyutils.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "keyring.h"
#include "secbuf.h"

#define PERM_POSSESSOR_ONLY	0x3f000000u

/* Exit status of a child: 0 if it ran to the end, else the failing step. */
static int
wait_child(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static unsigned int
key_perm(key_serial_t id)
{
	char *desc = NULL, *p;
	unsigned int perm;
	int field;

	/* "type;uid;gid;perm;description", perm in hex */
	assert_true(keyctl_describe_alloc(id, &desc) > 0);
	for (p = desc, field = 0; field < 3; p++) {
		assert_true(*p != '\0');
		if (*p == ';')
			field++;
	}
	assert_int_equal(sscanf(p, "%x;", &perm), 1);
	free(desc);
	return perm;
}

static key_serial_t
session_key_id(const char *desc)
{
	long id = keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", desc, 0);

	assert_true(id > 0);
	return (key_serial_t)id;
}

static void
test_round_trip(void **state)
{
	uint8_t data[32], small[5] = { 1, 2, 3, 4, 5 };
	struct secbuf b = SECBUF_INIT;

	randombytes_buf(data, sizeof(data));
	assert_int_equal(keyring_put("hush:test:rt", data, sizeof(data)), 0);
	assert_int_equal(keyring_get("hush:test:rt", &b), 0);
	assert_non_null(b.p);
	assert_int_equal(b.len, sizeof(data));
	assert_memory_equal(b.p, data, sizeof(data));
	secbuf_free(&b);

	/* put on an existing description replaces the payload, size included */
	assert_int_equal(keyring_put("hush:test:rt", small, sizeof(small)), 0);
	assert_int_equal(keyring_get("hush:test:rt", &b), 0);
	assert_int_equal(b.len, sizeof(small));
	assert_memory_equal(b.p, small, sizeof(small));
	secbuf_free(&b);

	assert_int_equal(keyring_drop("hush:test:rt"), 0);
}

/* Into the caller's buffer: the payload, or a refusal (and a wiped buffer) if it is larger. */
static void
test_get_into(void **state)
{
	uint8_t data[32], buf[32], small[16];
	size_t len = 0;

	randombytes_buf(data, sizeof(data));
	assert_int_equal(keyring_put("hush:test:into", data, sizeof(data)), 0);
	assert_int_equal(keyring_get_into("hush:test:into", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	memset(small, 0xaa, sizeof(small));
	assert_int_equal(keyring_get_into("hush:test:into", small, sizeof(small), &len),
	    HUSH_E_TOOBIG);
	for (size_t i = 0; i < sizeof(small); i++)
		assert_int_equal(small[i], 0);
	assert_int_equal(keyring_get_into("hush:test:never-put", buf, sizeof(buf), &len),
	    HUSH_E_NOTFOUND);
	assert_int_equal(keyring_drop("hush:test:into"), 0);
}

static void
test_get_missing(void **state)
{
	struct secbuf b = SECBUF_INIT;

	assert_int_equal(keyring_get("hush:test:never-put", &b), HUSH_E_NOTFOUND);
	assert_null(b.p);
	assert_int_equal(keyring_get("", &b), HUSH_E_INVAL);
	assert_int_equal(keyring_get(NULL, &b), HUSH_E_INVAL);
}

static void
test_perms_possessor_only(void **state)
{
	uint8_t data[16] = { 0 };
	key_serial_t id;

	assert_int_equal(keyring_put("hush:test:perm", data, sizeof(data)), 0);
	id = session_key_id("hush:test:perm");
	assert_int_equal(key_perm(id), PERM_POSSESSOR_ONLY);
	/* an update must not widen them */
	assert_int_equal(keyring_put("hush:test:perm", data, 3), 0);
	assert_int_equal(session_key_id("hush:test:perm"), id);
	assert_int_equal(key_perm(id), PERM_POSSESSOR_ONLY);
	/* and the keyring itself was restricted by keyring_join_private() */
	assert_int_equal(key_perm(KEY_SPEC_SESSION_KEYRING), PERM_POSSESSOR_ONLY);
	assert_int_equal(keyring_drop("hush:test:perm"), 0);
}

/* The parent's key from a child, with or without a fresh session keyring. */
static void
child_probe(const char *desc, key_serial_t id, const uint8_t *data, size_t len,
    int join)
{
	struct secbuf b = SECBUF_INIT;
	char buf[64];
	int r;

	if (!join) {
		/* control: inheriting the session keyring keeps possession */
		if (keyring_get(desc, &b) != 0)
			_exit(10);
		if (b.len != len || memcmp(b.p, data, len) != 0)
			_exit(11);
		_exit(0);
	}
	if (keyring_join_private() != 0)
		_exit(20);
	if ((r = keyring_get(desc, &b)) != HUSH_E_NOTFOUND)
		_exit(r == 0 ? 21 : 22);
	/* knowing the serial does not help: same uid, but no rights */
	if (keyctl_read(id, buf, sizeof(buf)) != -1 || errno != EACCES)
		_exit(23);
	if (keyctl_describe(id, buf, sizeof(buf)) != -1 || errno != EACCES)
		_exit(24);
	_exit(0);
}

static void
test_child_cut_off(void **state)
{
	uint8_t data[24];
	key_serial_t id;
	pid_t pid;

	randombytes_buf(data, sizeof(data));
	assert_int_equal(keyring_put("hush:test:fork", data, sizeof(data)), 0);
	id = session_key_id("hush:test:fork");

	for (int join = 0; join <= 1; join++) {
		assert_true((pid = fork()) >= 0);
		if (pid == 0)
			child_probe("hush:test:fork", id, data, sizeof(data), join);
		assert_int_equal(wait_child(pid), 0);
	}
	/* the child's keyring_join_private() left ours alone */
	assert_int_equal(session_key_id("hush:test:fork"), id);
	assert_int_equal(keyring_drop("hush:test:fork"), 0);
}

static void
test_drop(void **state)
{
	uint8_t data[8] = { 7 }, buf[8];
	struct secbuf b = SECBUF_INIT;
	key_serial_t id, other;

	assert_int_equal(keyring_put("hush:test:drop", data, sizeof(data)), 0);
	id = session_key_id("hush:test:drop");
	/* a second link we still possess after the session keyring's is gone */
	other = add_key("keyring", "hush:test:other", NULL, 0,
	    KEY_SPEC_SESSION_KEYRING);
	assert_true(other > 0);
	assert_int_equal(keyctl_link(id, other), 0);

	assert_int_equal(keyring_drop("hush:test:drop"), 0);
	assert_int_equal(keyring_get("hush:test:drop", &b), HUSH_E_NOTFOUND);
	/*
	 * The key itself is dead, not merely unlinked from the session: were
	 * it alive, the link from "other" would still make it possessed and
	 * readable.  (Until the garbage collector runs the read fails with
	 * EACCES, since searches skip invalidated keys, afterwards ENOKEY.)
	 */
	assert_int_equal(keyctl_read(id, (char *)buf, sizeof(buf)), -1);
	assert_int_equal(keyctl_search(other, "user", "hush:test:drop", 0), -1);
	assert_true(errno == ENOKEY || errno == EKEYREVOKED);
	assert_int_equal(keyctl_invalidate(other), 0);
	/* dropping what is not there is fine */
	assert_int_equal(keyring_drop("hush:test:drop"), 0);
}

static void
test_payload_limits(void **state)
{
	uint8_t *big = malloc(KEYRING_MAX_PAYLOAD + 1);
	struct secbuf b = SECBUF_INIT;

	assert_non_null(big);
	randombytes_buf(big, KEYRING_MAX_PAYLOAD + 1);
	assert_int_equal(keyring_put("hush:test:big", big,
	    KEYRING_MAX_PAYLOAD + 1), HUSH_E_TOOBIG);
	assert_int_equal(keyring_get("hush:test:big", &b), HUSH_E_NOTFOUND);

	assert_int_equal(keyring_put("hush:test:big", big,
	    KEYRING_MAX_PAYLOAD), 0);
	assert_int_equal(keyring_get("hush:test:big", &b), 0);
	assert_int_equal(b.len, KEYRING_MAX_PAYLOAD);
	assert_memory_equal(b.p, big, KEYRING_MAX_PAYLOAD);
	secbuf_free(&b);
	assert_int_equal(keyring_drop("hush:test:big"), 0);

	assert_int_equal(keyring_put("hush:test:big", big, 0), HUSH_E_INVAL);
	assert_int_equal(keyring_put(NULL, big, 1), HUSH_E_INVAL);
	assert_int_equal(keyring_put("", big, 1), HUSH_E_INVAL);
	free(big);
}

static int
child_user_lookup(const char *desc, const uint8_t *data, size_t len)
{
	struct secbuf b = SECBUF_INIT;

	/* like pam_keyinit: a session keyring that links the user keyring */
	if (keyctl_join_session_keyring(NULL) == -1)
		return 30;
	if (keyctl_link(KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING) == -1)
		return 31;
	if (keyring_user_lookup(desc, &b) != 0)
		return 32;
	if (b.len != len || memcmp(b.p, data, len) != 0)
		return 33;
	secbuf_free(&b);
	return 0;
}

/* The user keyring is shared by every process of this uid and outlives us. */
static char user_desc[64];

static int
teardown_user_key(void **state)
{
	long id;

	while ((id = keyctl_search(KEY_SPEC_USER_KEYRING, "user", user_desc,
	    0)) > 0)
		if (keyctl_unlink((key_serial_t)id, KEY_SPEC_USER_KEYRING) == -1)
			return -1;
	return 0;
}

static void
test_user_lookup(void **state)
{
	struct secbuf b = SECBUF_INIT;
	const char *desc = user_desc;
	uint8_t data[20];
	key_serial_t id;
	pid_t pid;

	snprintf(user_desc, sizeof(user_desc), "hush:test:unlock:%ld",
	    (long)getpid());
	randombytes_buf(data, sizeof(data));
	assert_int_equal(keyring_user_lookup(desc, &b), HUSH_E_NOTFOUND);

	/* what systemd-ask-password does: default rights, user keyring */
	id = add_key("user", desc, data, sizeof(data), KEY_SPEC_USER_KEYRING);
	assert_true(id > 0);

	/* our private session keyring does not reach the user keyring */
	assert_int_equal(keyctl_read(id, (char *)b.p, 0), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(keyring_user_lookup(desc, &b), 0);
	assert_int_equal(b.len, sizeof(data));
	assert_memory_equal(b.p, data, sizeof(data));
	secbuf_free(&b);
	/* the temporary link that made it readable is gone again */
	assert_int_equal(keyctl_search(KEY_SPEC_THREAD_KEYRING, "user", desc, 0),
	    -1);

	/* and with a session keyring that does reach it */
	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(child_user_lookup(desc, data, sizeof(data)));
	assert_int_equal(wait_child(pid), 0);

	/*
	 * We do not possess it, so invalidation is refused, but unlinking
	 * from the user keyring drops the last reference.
	 */
	assert_int_equal(keyctl_unlink(id, KEY_SPEC_USER_KEYRING), 0);
	assert_int_equal(keyring_user_lookup(desc, &b), HUSH_E_NOTFOUND);
	assert_null(b.p);
}

static int
group_setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	return keyring_join_private() == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_get_missing),
		cmocka_unit_test(test_get_into),
		cmocka_unit_test(test_perms_possessor_only),
		cmocka_unit_test(test_child_cut_off),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_payload_limits),
		cmocka_unit_test_teardown(test_user_lookup, teardown_user_key),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}

#include <errno.h>
#include <keyutils.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "keyring.h"
#include "secbuf.h"

/*
 * Everything for the possessor, nothing for user, group or other: a process
 * running as the same uid but outside our session keyring gets no access.
 */
#define KEYRING_PERM_POSSESSOR	(KEY_POS_VIEW | KEY_POS_READ | KEY_POS_WRITE | \
	KEY_POS_SEARCH | KEY_POS_LINK | KEY_POS_SETATTR)

/* A payload that changes size between our two reads more often is absurd. */
#define KEYRING_READ_TRIES	4

/*
 * A revoked, expired or invalidated key is one we must treat as gone, so
 * the search failures the kernel distinguishes all mean "not found" here.
 */
static int
key_search_error(void)
{
	switch (errno) {
	case ENOKEY:
	case EKEYREVOKED:
	case EKEYEXPIRED:
		return HUSH_E_NOTFOUND;
	default:
		return HUSH_E_SYS;
	}
}

static int
key_find(key_serial_t ring, const char *desc, key_serial_t *id)
{
	long r;

	if (desc == NULL || *desc == '\0')
		return HUSH_E_INVAL;
	if ((r = keyctl_search(ring, "user", desc, 0)) == -1)
		return key_search_error();
	*id = (key_serial_t)r;
	return 0;
}

/*
 * Reads a payload straight into guarded memory.  keyctl_read_alloc() would
 * leave a copy in ordinary heap memory, so size it first and read again;
 * another writer may replace the payload in between, hence the retry.
 */
static int
key_read_secbuf(key_serial_t id, struct secbuf *out)
{
	struct secbuf b = SECBUF_INIT;
	long want, got;
	int r;

	for (int i = 0; i < KEYRING_READ_TRIES; i++) {
		if ((want = keyctl_read(id, NULL, 0)) == -1)
			return key_search_error();
		if ((r = secbuf_alloc(&b, (size_t)want)) != 0)
			return r;
		if ((got = keyctl_read(id, (char *)b.p, (size_t)want)) == -1) {
			int save = errno;

			r = key_search_error();
			secbuf_free(&b);
			errno = save;
			return r;
		}
		if (got <= want) {
			/* sodium_free() knows the real size; len is ours. */
			b.len = (size_t)got;
			*out = b;
			return 0;
		}
		secbuf_free(&b);
	}
	return HUSH_E_UNAVAIL;
}

int
keyring_join_private(void)
{
	if (keyctl_join_session_keyring(NULL) == -1)
		return HUSH_E_SYS;
	/*
	 * A new session keyring also grants view and read to its uid; without
	 * this another process of ours could list which keys hushd holds.
	 */
	if (keyctl_setperm(KEY_SPEC_SESSION_KEYRING, KEYRING_PERM_POSSESSOR) == -1)
		return HUSH_E_SYS;
	return 0;
}

int
keyring_put(const char *desc, const void *data, size_t len)
{
	key_serial_t id;

	if (desc == NULL || *desc == '\0' || data == NULL || len == 0)
		return HUSH_E_INVAL;
	if (len > KEYRING_MAX_PAYLOAD)
		return HUSH_E_TOOBIG;
	if ((id = add_key("user", desc, data, len, KEY_SPEC_SESSION_KEYRING)) == -1)
		return HUSH_E_SYS;
	/*
	 * add_key() cannot take permissions, so a new key briefly carries the
	 * kernel default, which only adds view for the uid: the description
	 * may be seen in that window, never the payload.
	 */
	if (keyctl_setperm(id, KEYRING_PERM_POSSESSOR) == -1) {
		int save = errno;

		(void)keyctl_invalidate(id);
		errno = save;
		return HUSH_E_SYS;
	}
	return 0;
}

int
keyring_get(const char *desc, struct secbuf *out)
{
	key_serial_t id;
	int r;

	if ((r = key_find(KEY_SPEC_SESSION_KEYRING, desc, &id)) != 0)
		return r;
	return key_read_secbuf(id, out);
}

int
keyring_get_into(const char *desc, uint8_t *buf, size_t cap, size_t *len)
{
	key_serial_t id;
	long got;
	int r;

	if ((r = key_find(KEY_SPEC_SESSION_KEYRING, desc, &id)) != 0)
		return r;
	if ((got = keyctl_read(id, (char *)buf, cap)) == -1)
		return key_search_error();
	if ((size_t)got > cap) {
		sodium_memzero(buf, cap);
		return HUSH_E_TOOBIG;
	}
	*len = (size_t)got;
	return 0;
}

int
keyring_drop(const char *desc)
{
	key_serial_t id;
	int r;

	if ((r = key_find(KEY_SPEC_SESSION_KEYRING, desc, &id)) != 0)
		return r == HUSH_E_NOTFOUND ? 0 : r;
	/*
	 * Invalidate first: it destroys the payload even if the key was linked
	 * elsewhere, and once unlinked the key would no longer be possessed so
	 * our possessor-only rights would not let us invalidate it.
	 */
	if (keyctl_invalidate(id) == -1)
		return errno == ENOKEY ? 0 : HUSH_E_SYS;
	/* The garbage collector may have unlinked it already. */
	if (keyctl_unlink(id, KEY_SPEC_SESSION_KEYRING) == -1 &&
	    errno != ENOKEY && errno != ENOENT)
		return HUSH_E_SYS;
	return 0;
}

int
keyring_user_lookup(const char *desc, struct secbuf *out)
{
	key_serial_t id;
	long linked;
	int r, save;

	if ((r = key_find(KEY_SPEC_USER_KEYRING, desc, &id)) != 0)
		return r;
	if ((r = key_read_secbuf(id, out)) != HUSH_E_SYS || errno != EACCES)
		return r;
	/*
	 * The key grants read to its possessor only, and after
	 * keyring_join_private() the user keyring is no longer reachable from
	 * our session keyring, so we do not possess it.  Linking it into the
	 * thread keyring (which no child inherits) makes it possessed for just
	 * as long as the read takes.
	 */
	if ((linked = keyctl_search(KEY_SPEC_USER_KEYRING, "user", desc,
	    KEY_SPEC_THREAD_KEYRING)) == -1)
		return key_search_error();
	r = key_read_secbuf((key_serial_t)linked, out);
	save = errno;
	(void)keyctl_unlink((key_serial_t)linked, KEY_SPEC_THREAD_KEYRING);
	errno = save;
	return r;
}

/*
 * libFuzzer harness for the mounter's messages: msg_parse() over the
 * MNTR_* types and their replies, then what the mounter does with a
 * request that passed, mnt_files_decode(); and each input alone as the
 * nested REC_FILE and REC_MOUNT records.  Whatever is accepted must obey
 * what the mounter relies on: every file has a name secretfs would
 * publish, permission bits only, an owner other than -1, and data that
 * lies inside the input (never copied) and within HUSH_SECRET_MAX.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mounter/mounter_int.h"
#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t mnt_types[] = {
	MNTR_ATTACH, MNTR_PUBLISH, MNTR_DETACH, MNTR_LIST, MNTR_EVENT,
	MNTR_ATTACH | MSG_REPLY, MNTR_PUBLISH | MSG_REPLY,
	MNTR_DETACH | MSG_REPLY, MNTR_LIST | MSG_REPLY, MSG_ERROR, 0
};

static struct wire_msg msg;

static int
mount_rec(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	char id[MNT_ID_MAX + 1];
	uint32_t u;

	(void)arg;
	(void)raw;
	(void)len;
	if (wire_get_str(rec, T_CONTAINER_ID, id, sizeof(id)) != 0 ||
	    wire_get_u32(rec, T_PID, &u) != 0 ||
	    wire_get_u32(rec, T_COUNT, &u) != 0)
		abort();
	return 0;
}

static void
check_files(const struct wire_msg *m, const uint8_t *data, size_t size)
{
	struct mnt_files fs;
	char why[512];
	int r;

	why[0] = '\0';
	r = mnt_files_decode(m, &fs, why, sizeof(why));
	if (r != 0) {
		/* refused whole, with a reason */
		if (r > 0 || fs.n != 0 || fs.f != NULL ||
		    (r != HUSH_E_NOMEM && why[0] == '\0'))
			abort();
		return;
	}
	if (fs.n != wire_count(m, T_FILE))
		abort();
	for (size_t i = 0; i < fs.n; i++) {
		const struct secretfs_file *f = &fs.f[i];

		if (!secretfs_name_ok(f->name, NULL, 0) ||
		    (f->mode & ~(mode_t)0777) != 0 ||
		    f->uid == (uid_t)-1 || f->gid == (gid_t)-1 ||
		    f->len > HUSH_SECRET_MAX ||
		    (f->len > 0 && (f->data < data ||
		    f->data + f->len > data + size)))
			abort();
	}
	mnt_files_free(&fs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512];

	if (msg_parse(data, size, WIRE_MAX_MSG, mnt_types, &msg, why,
	    sizeof(why)) == 0) {
		switch (msg.hdr.type) {
		case MNTR_ATTACH:
		case MNTR_PUBLISH:
			check_files(&msg, data, size);
			break;
		case MNTR_LIST | MSG_REPLY:
			(void)msg_records_each(&msg, T_MOUNT, REC_MOUNT,
			    mount_rec, NULL);
			break;
		default:
			break;
		}
	}
	if (msg_parse_record(data, size, REC_FILE, &msg, why,
	    sizeof(why)) == 0) {
		uint32_t u;

		if (wire_get_u32(&msg, T_UID, &u) != 0 ||
		    wire_get_u32(&msg, T_GID, &u) != 0 ||
		    wire_get_u32(&msg, T_MODE, &u) != 0 ||
		    wire_count(&msg, T_NAME) != 1)
			abort();
	}
	(void)msg_parse_record(data, size, REC_MOUNT, &msg, why, sizeof(why));
	return 0;
}

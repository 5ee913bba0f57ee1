/*
 * The REC_FILE records of a request, checked and turned into the
 * secretfs_file array secretfs_publish() takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mounter_int.h"

void
mnt_files_free(struct mnt_files *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free((char *)fs->f[i].name);
	free(fs->f);
	memset(fs, 0, sizeof(*fs));
}

static int
decode_one(const struct wire_field *fld, size_t idx, struct wire_msg *rec,
    struct secretfs_file *f, char *why, size_t whylen)
{
	char detail[256], *name;
	uint32_t uid, gid, mode;
	const uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if ((r = msg_parse_record(fld->val, fld->len, REC_FILE, rec, detail,
	    sizeof(detail))) != 0) {
		snprintf(why, whylen, "file %zu: %s", idx + 1, detail);
		return HUSH_E_PROTO;
	}
	if (wire_get_u32(rec, T_UID, &uid) != 0 ||
	    wire_get_u32(rec, T_GID, &gid) != 0 ||
	    wire_get_u32(rec, T_MODE, &mode) != 0)
		return HUSH_E_PROTO;	/* validated: cannot happen */
	r = wire_get_bytes(rec, T_DATA, &data, &len);
	if (r != 0 && r != HUSH_E_NOTFOUND)
		return HUSH_E_PROTO;
	if ((name = malloc(SECRETFS_NAME_MAX + 1)) == NULL)
		return HUSH_E_NOMEM;
	if (wire_get_str(rec, T_NAME, name, SECRETFS_NAME_MAX + 1) != 0) {
		free(name);
		snprintf(why, whylen, "file %zu: bad name", idx + 1);
		return HUSH_E_PROTO;
	}
	if (!secretfs_name_ok(name, detail, sizeof(detail))) {
		free(name);
		snprintf(why, whylen, "file %zu: %s", idx + 1, detail);
		return HUSH_E_INVAL;
	}
	/* -1 would make fchown() leave the file root's */
	if ((mode & ~0777u) != 0 || uid == UINT32_MAX || gid == UINT32_MAX) {
		snprintf(why, whylen, "file %zu: mode %#o, uid %u, gid %u: "
		    "mode must be within 0777 and ids other than -1", idx + 1,
		    mode, uid, gid);
		free(name);
		return HUSH_E_INVAL;
	}
	f->name = name;
	f->data = data;		/* into the message: no copy of a secret */
	f->len = len;
	f->uid = (uid_t)uid;
	f->gid = (gid_t)gid;
	f->mode = (mode_t)mode;
	return 0;
}

int
mnt_files_decode(const struct wire_msg *m, struct mnt_files *out, char *why,
    size_t whylen)
{
	struct wire_msg *rec;
	size_t n = wire_count(m, T_FILE);
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (n > SECRETFS_MAX_FILES) {
		snprintf(why, whylen, "%zu files; at most %d", n,
		    SECRETFS_MAX_FILES);
		return HUSH_E_INVAL;
	}
	if (n == 0)
		return 0;
	if ((rec = malloc(sizeof(*rec))) == NULL ||
	    (out->f = calloc(n, sizeof(*out->f))) == NULL) {
		free(rec);
		return HUSH_E_NOMEM;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if ((r = decode_one(wire_find(m, T_FILE, i), i, rec,
		    &out->f[out->n], why, whylen)) == 0) {
			out->n++;
		}
	}
	free(rec);
	if (r != 0)
		mnt_files_free(out);
	return r;
}

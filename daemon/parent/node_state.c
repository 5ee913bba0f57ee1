#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "msg.h"
#include "node_state.h"

static int
path_in(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? HUSH_E_TOOBIG : 0;
}

int
write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const uint8_t *p = data;
	int fd, dfd, r = HUSH_E_IO;
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return HUSH_E_TOOBIG;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)) < 0)
		return HUSH_E_IO;
	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOSPC)
				r = HUSH_E_NOSPACE;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, (mode_t)mode) != 0)
		goto fail;
	if (fsync(fd) != 0) {
		if (errno == ENOSPC)
			r = HUSH_E_NOSPACE;
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return HUSH_E_IO;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return r;
}

/*
 * The raft process runs as the unprivileged user in a directory of its
 * own below a state dir that stays root's and 0700: it is started in it
 * while still root (child_desc.workdir), so it never walks the path.  The
 * raft dir is the user's, with group root allowed in (0770) so that the
 * parent, which keeps no capability over file permissions once confined,
 * can still empty it (leave, a failed init); it never reads what raft
 * writes there.
 */
static int
prepare_dir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;
	int fd, r = 0;

	if (mkdir(path, mode) != 0 && errno != EEXIST)
		return HUSH_E_IO;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return HUSH_E_IO;
	if (fstat(fd, &st) != 0 ||
	    ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) != 0) ||
	    ((st.st_mode & 07777) != mode && fchmod(fd, mode) != 0))
		r = HUSH_E_IO;
	close(fd);
	return r;
}

/*
 * A raft log written before the raft process ran as the user: hand its
 * files over.  Only plain files with one link that are root's -- never
 * through a symlink, never a hard link to a file elsewhere.
 */
static int
adopt_raft_files(const char *raft_dir, uid_t uid, gid_t gid)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	if ((d = opendir(raft_dir)) == NULL)
		return HUSH_E_IO;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != 0)
			continue;
		if (fchownat(dirfd(d), de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
			r = HUSH_E_IO;
	}
	closedir(d);
	return r;
}

int
node_state_prepare(const char *state_dir, uid_t raft_uid, gid_t raft_gid, char *why,
    size_t whylen)
{
	char path[PATH_MAX];

	if (prepare_dir(state_dir, 0, 0, 0700) != 0) {
		snprintf(why, whylen, "cannot create state directory %s: %s", state_dir,
		    strerror(errno));
		return HUSH_E_IO;
	}
	if (path_in(path, sizeof(path), state_dir, "certificates") != 0 ||
	    prepare_dir(path, 0, 0, 0700) != 0) {
		snprintf(why, whylen, "cannot create %s/certificates: %s", state_dir,
		    strerror(errno));
		return HUSH_E_IO;
	}
	if (path_in(path, sizeof(path), state_dir, "raft") != 0 ||
	    prepare_dir(path, raft_uid, 0, 0770) != 0 ||
	    adopt_raft_files(path, raft_uid, raft_gid) != 0) {
		snprintf(why, whylen, "cannot create %s/raft for its user: %s", state_dir,
		    strerror(errno));
		return HUSH_E_IO;
	}
	return 0;
}

void
remove_dir_files(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
}

bool
node_state_has_leftovers(const char *state_dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (path_in(path, sizeof(path), state_dir, "node.keys") == 0 && stat(path, &st) == 0)
		return true;
	if (path_in(path, sizeof(path), state_dir, "raft/metadata1") == 0 && stat(path, &st) == 0)
		return true;
	return false;
}

static int
json_str(json_t *o, const char *k, char *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (s == NULL || strlen(s) >= cap)
		return HUSH_E_CORRUPT;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int
node_state_load(const char *state_dir, struct node_state *n, char *why, size_t whylen)
{
	char path[PATH_MAX], role[16];
	json_error_t jerr;
	json_t *o;
	int r = 0;

	memset(n, 0, sizeof(*n));
	if ((r = path_in(path, sizeof(path), state_dir, "node.json")) != 0)
		return r;
	if (access(path, F_OK) != 0)
		return 0;	/* not initialized */
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(why, whylen, "%s: %s (line %d)", path, jerr.text, jerr.line);
		return HUSH_E_CORRUPT;
	}
	if (json_str(o, "node_id", n->node_id, sizeof(n->node_id)) != 0 ||
	    json_str(o, "cluster_id", n->cluster_id, sizeof(n->cluster_id)) != 0 ||
	    json_str(o, "role", role, sizeof(role)) != 0 ||
	    json_str(o, "advertise_addr", n->advertise, sizeof(n->advertise)) != 0 ||
	    !json_is_integer(json_object_get(o, "cert_not_after")) ||
	    !hush_id_valid(n->node_id) || !hush_id_valid(n->cluster_id)) {
		snprintf(why, whylen, "%s: missing or malformed fields", path);
		r = HUSH_E_CORRUPT;
		goto out;
	}
	if (strcmp(role, "manager") == 0)
		n->role = ROLE_MANAGER;
	else if (strcmp(role, "worker") == 0)
		n->role = ROLE_WORKER;
	else {
		snprintf(why, whylen, "%s: unknown role '%s'", path, role);
		r = HUSH_E_CORRUPT;
		goto out;
	}
	n->cert_not_after = json_integer_value(json_object_get(o, "cert_not_after"));
	if (json_str(o, "listen_addr", n->listen, sizeof(n->listen)) != 0)
		snprintf(n->listen, sizeof(n->listen), "0.0.0.0:4477");
	{
		json_t *a = json_object_get(o, "managers"), *v;
		size_t i;

		json_array_foreach(a, i, v) {
			const char *m = json_string_value(v);

			if (m != NULL && strlen(m) < sizeof(n->managers[0]) &&
			    n->nmanagers < sizeof(n->managers) / sizeof(n->managers[0]))
				memcpy(n->managers[n->nmanagers++], m, strlen(m) + 1);
		}
	}
	n->initialized = true;
out:
	json_decref(o);
	return r;
}

int
node_state_save(const char *state_dir, const struct node_state *n)
{
	char path[PATH_MAX], *text;
	json_t *o;
	int r;

	if ((r = path_in(path, sizeof(path), state_dir, "node.json")) != 0)
		return r;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}",
	    "node_id", n->node_id, "cluster_id", n->cluster_id,
	    "role", n->role == ROLE_MANAGER ? "manager" : "worker",
	    "advertise_addr", n->advertise, "listen_addr", n->listen,
	    "cert_not_after", (json_int_t)n->cert_not_after);
	if (o == NULL)
		return HUSH_E_NOMEM;
	{
		json_t *a = json_array();

		for (size_t i = 0; a != NULL && i < n->nmanagers; i++)
			json_array_append_new(a, json_string(n->managers[i]));
		if (a == NULL || json_object_set_new(o, "managers", a) != 0) {
			json_decref(o);
			return HUSH_E_NOMEM;
		}
	}
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		return HUSH_E_NOMEM;
	r = write_file_atomic(path, text, strlen(text), 0600);
	free(text);
	return r;
}

char *
node_state_read_cert(const char *state_dir, const char *name)
{
	char path[PATH_MAX], *buf;
	FILE *f;
	size_t n;

	if (snprintf(path, sizeof(path), "%s/certificates/%s", state_dir, name) >= (int)sizeof(path))
		return NULL;
	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	buf = calloc(1, NODE_CERT_MAX + 1);
	n = buf != NULL ? fread(buf, 1, NODE_CERT_MAX + 1, f) : 0;
	fclose(f);
	/* Empty, or larger than any certificate we write: not ours. */
	if (buf != NULL && (n == 0 || n > NODE_CERT_MAX)) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

int
node_state_write_cert(const char *state_dir, const char *name, const char *pem)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/certificates/%s", state_dir, name) >= (int)sizeof(path))
		return HUSH_E_TOOBIG;
	return write_file_atomic(path, pem, strlen(pem), 0644);
}

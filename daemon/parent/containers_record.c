/*
 * What a restarted hushd needs to take back the containers the previous
 * one attached: one small JSON file per container in the run directory
 * (--run-dir, default /run/hush), written when the mounter confirms an
 * attach or adoption and removed when the container is forgotten.
 *
 * Not in the state directory: nothing there may name anything in clear
 * (with autolock nothing there can be read without the unlock key), and
 * containers do not outlive a boot, which a tmpfs like /run does not
 * either.  The records name no secret, only the container, its service,
 * process and paths.  For the same reason no fsync: a record that did not
 * reach the disk describes a container that did not survive either.
 *
 * A record is untrusted input when read back: every field is checked,
 * and a bad record is logged and removed, never fatal.  One from another
 * boot (boot_id) or whose process has ended or been replaced (pid and
 * start time) is removed without asking the mounter anything.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers.h"
#include "err.h"
#include "log.h"
#include "proc_start.h"

/* Ample for the longest id and paths, even with every byte escaped. */
#define RECORD_MAX	(64 * 1024)

/*
 * "<hex>.json": a hash of the id names the file, because an id may hold
 * any character, '/' included.
 */
void
ctr_record_name(const char *id, const char *suffix, char *out, size_t outlen)
{
	unsigned char h[CTR_RECORD_HEX / 2];
	char hex[CTR_RECORD_HEX + 1];

	crypto_generichash(h, sizeof(h), (const unsigned char *)id, strlen(id),
	    NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, outlen, "%s%s", hex, suffix);
}

/* Whether name is CTR_RECORD_HEX lowercase hex digits followed by suffix. */
static bool
named_like(const char *name, const char *suffix)
{
	for (size_t i = 0; i < CTR_RECORD_HEX; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' &&
		    name[i] <= 'f')))
			return false;
	return strcmp(name + CTR_RECORD_HEX, suffix) == 0;
}

static int
read_boot_id(char *out, size_t outlen, char *why, size_t whylen)
{
	char buf[64];
	ssize_t n;
	int fd;

	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)) == -1 ||
	    (n = read(fd, buf, sizeof(buf) - 1)) < CTR_BOOT_ID_LEN) {
		snprintf(why, whylen, "cannot read this boot's id from "
		    "/proc/sys/kernel/random/boot_id: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return HUSH_E_SYS;
	}
	close(fd);
	if (outlen <= CTR_BOOT_ID_LEN)
		return HUSH_E_INTERNAL;
	memcpy(out, buf, CTR_BOOT_ID_LEN);
	out[CTR_BOOT_ID_LEN] = '\0';
	return 0;
}

int
containers_run_dir_open(struct parent *p, char *why, size_t whylen)
{
	const char *dir = p->cfg.run_dir;
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create run directory %s: %s", dir,
		    strerror(errno));
		return HUSH_E_IO;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) != 0) {
		snprintf(why, whylen, "cannot open run directory %s: %s", dir,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return HUSH_E_IO;
	}
	/* Its records say which containers to write into: ours alone. */
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "run directory %s belongs to uid %u, not to "
		    "hushd's", dir, (unsigned)st.st_uid);
		close(fd);
		return HUSH_E_PERM;
	}
	if ((st.st_mode & 077) != 0 && fchmod(fd, 0700) != 0) {
		snprintf(why, whylen, "cannot make run directory %s private: %s", dir,
		    strerror(errno));
		close(fd);
		return HUSH_E_IO;
	}
	/* Two daemons adopting each other's containers would publish the
	 * wrong services into them. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(why, whylen, "another hushd is using run directory %s", dir);
		close(fd);
		return HUSH_E_EXISTS;
	}
	if (read_boot_id(p->containers.boot_id, sizeof(p->containers.boot_id), why, whylen) != 0) {
		close(fd);
		return HUSH_E_SYS;
	}
	p->containers.run_fd = fd;
	return 0;
}

char *
ctr_record_text(const struct container *c, const char *boot_id)
{
	char *text = NULL;
	json_t *o;

	if (c->start > INT64_MAX || c->view_id > INT64_MAX)
		return NULL;
	/* NULL for a string that is not UTF-8: such an id cannot be recorded */
	o = json_pack("{s:i, s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:I, s:I}",
	    "version", CTR_RECORD_VERSION, "id", c->id, "service", c->service,
	    "pid", (int)c->pid, "start", (json_int_t)c->start,
	    "boot_id", boot_id, "root", c->root, "target", c->target,
	    "view_id", (json_int_t)c->view_id, "attached", (json_int_t)c->attached);
	if (o != NULL)
		text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

void
ctr_record_write(struct parent *p, const struct container *c)
{
	char name[CTR_RECORD_NAME_MAX], tmp[CTR_RECORD_NAME_MAX];
	const char *why = NULL;
	size_t len, off;
	ssize_t n;
	char *text;
	int fd = -1;

	if (p->containers.run_fd < 0)
		return;
	ctr_record_name(c->id, ".json", name, sizeof(name));
	ctr_record_name(c->id, ".tmp", tmp, sizeof(tmp));
	if ((text = ctr_record_text(c, p->containers.boot_id)) == NULL) {
		why = "its id or root path cannot be written as JSON";
		goto out;
	}
	if ((fd = openat(p->containers.run_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		why = strerror(errno);
		goto out;
	}
	len = strlen(text);
	for (off = 0; off < len; off += (size_t)n) {
		if ((n = write(fd, text + off, len - off)) <= 0) {
			why = n < 0 ? strerror(errno) : "short write";
			goto out;
		}
	}
	if (close(fd) != 0) {
		fd = -1;
		why = strerror(errno);
		goto out;
	}
	fd = -1;
	if (renameat(p->containers.run_fd, tmp, p->containers.run_fd, name) != 0)
		why = strerror(errno);
 out:
	if (fd != -1)
		close(fd);
	if (why != NULL) {
		(void)unlinkat(p->containers.run_fd, tmp, 0);
		log_warn("container %.64s: cannot record it in %s (%s); it will not be "
		    "taken back after a restart of hushd", c->id, p->cfg.run_dir, why);
	}
	free(text);
}

void
ctr_record_remove(struct parent *p, const char *id)
{
	char name[CTR_RECORD_NAME_MAX];

	if (p->containers.run_fd < 0)
		return;
	ctr_record_name(id, ".json", name, sizeof(name));
	if (unlinkat(p->containers.run_fd, name, 0) != 0 && errno != ENOENT)
		log_warn("container %.64s: cannot remove its record from %s: %s", id,
		    p->cfg.run_dir, strerror(errno));
}

/* The string at key, 1 to cap - 1 bytes without a NUL, into out. */
static bool
get_str(json_t *o, const char *key, char *out, size_t cap)
{
	json_t *v = json_object_get(o, key);
	size_t len;

	if (!json_is_string(v))
		return false;
	len = json_string_length(v);
	if (len == 0 || len >= cap || strlen(json_string_value(v)) != len)
		return false;
	memcpy(out, json_string_value(v), len + 1);
	return true;
}

/* The integer at key, within [min, max]. */
static bool
get_int(json_t *o, const char *key, json_int_t min, json_int_t max, json_int_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return false;
	*out = json_integer_value(v);
	return true;
}

int
ctr_record_parse(const char *name, const char *text, size_t len, struct container *c,
    char *boot_id, char *why, size_t whylen)
{
	char expect[CTR_RECORD_NAME_MAX], sub[256];
	json_int_t version, pid, start, view, attached;
	json_error_t jerr;
	json_t *o;
	int r = HUSH_E_FORMAT;

	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(why, whylen, "not JSON (line %d: %.80s)", jerr.line, jerr.text);
		return HUSH_E_FORMAT;
	}
	if (!json_is_object(o) || !get_int(o, "version", 1, INT32_MAX, &version)) {
		snprintf(why, whylen, "no version");
		goto out;
	}
	if (version != CTR_RECORD_VERSION) {
		snprintf(why, whylen, "version %lld, not %d", (long long)version,
		    CTR_RECORD_VERSION);
		goto out;
	}
	if (!get_str(o, "id", c->id, sizeof(c->id))) {
		snprintf(why, whylen, "bad container id");
		goto out;
	}
	ctr_record_name(c->id, ".json", expect, sizeof(expect));
	if (strcmp(name, expect) != 0) {
		snprintf(why, whylen, "its name is not that of container %.64s", c->id);
		goto out;
	}
	if (!get_str(o, "service", c->service, sizeof(c->service)) ||
	    service_name_check(c->service, strlen(c->service), sub, sizeof(sub)) != 0) {
		snprintf(why, whylen, "bad service name");
		goto out;
	}
	if (!get_int(o, "pid", 2, INT32_MAX, &pid) ||
	    !get_int(o, "start", 0, INT64_MAX, &start) ||
	    !get_int(o, "view_id", 1, INT64_MAX, &view) ||
	    !get_int(o, "attached", 0, INT64_MAX, &attached)) {
		snprintf(why, whylen, "bad pid, start time, view id or attach time");
		goto out;
	}
	if (!get_str(o, "boot_id", boot_id, CTR_BOOT_ID_LEN + 1) ||
	    strlen(boot_id) != CTR_BOOT_ID_LEN) {
		snprintf(why, whylen, "bad boot id");
		goto out;
	}
	if (!get_str(o, "root", c->root, sizeof(c->root)) || c->root[0] != '/' ||
	    !get_str(o, "target", c->target, sizeof(c->target)) || c->target[0] != '/') {
		snprintf(why, whylen, "the root and target must be absolute paths");
		goto out;
	}
	c->pid = (pid_t)pid;
	c->start = (uint64_t)start;
	c->view_id = (uint64_t)view;
	c->attached = attached;
	r = 0;
 out:
	json_decref(o);
	return r;
}

/* Reads name whole: a regular file of ours, at most RECORD_MAX bytes. */
static int
read_record(int dir, const char *name, char **text, size_t *len, char *why,
    size_t whylen)
{
	struct stat st;
	ssize_t n;
	int fd;

	*text = NULL;
	/* O_NONBLOCK: a FIFO planted here must not hang the daemon. */
	if ((fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) != 0) {
		snprintf(why, whylen, "cannot open it: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return HUSH_E_IO;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size <= 0 ||
	    st.st_size > RECORD_MAX) {
		snprintf(why, whylen, "not a regular file of hushd's of 1 to %d bytes",
		    RECORD_MAX);
		close(fd);
		return HUSH_E_FORMAT;
	}
	if ((*text = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return HUSH_E_NOMEM;
	}
	for (*len = 0; *len < (size_t)st.st_size; *len += (size_t)n) {
		if ((n = read(fd, *text + *len, (size_t)st.st_size - *len)) <= 0)
			break;
	}
	close(fd);
	return 0;
}

/*
 * Whether the record names a process that still runs, the one it was
 * written for: HUSH_E_NOTFOUND with why if not.
 */
static int
still_there(const struct parent *p, const struct container *c, const char *boot,
    char *why, size_t whylen)
{
	uint64_t start;
	bool dead;

	if (strcmp(boot, p->containers.boot_id) != 0) {
		snprintf(why, whylen, "it was attached in an earlier boot");
		return HUSH_E_NOTFOUND;
	}
	if (proc_start_time(c->pid, &start, &dead) != 0 || dead || start != c->start) {
		snprintf(why, whylen, "process %ld ended while hushd was not running",
		    (long)c->pid);
		return HUSH_E_NOTFOUND;
	}
	return 0;
}

static void
load_one(struct parent *p, int dir, const char *name)
{
	struct container *c;
	char why[512], boot[CTR_BOOT_ID_LEN + 1], *text;
	size_t len = 0;
	int r;

	if ((c = ctr_new()) == NULL)
		return;
	if ((r = read_record(dir, name, &text, &len, why, sizeof(why))) == 0) {
		if ((r = ctr_record_parse(name, text, len, c, boot, why, sizeof(why))) == 0)
			r = still_there(p, c, boot, why, sizeof(why));
		free(text);
	}
	if (r == HUSH_E_NOTFOUND)
		log_info("container %.64s: %s; its record is removed", c->id, why);
	else if (r == 0 && ctr_find(p, c->id) != NULL)
		r = 1;		/* attached again since: that record is this file */
	else if (r == 0 && (r = ctr_kernel_maps(c, why, sizeof(why))) != 0)
		log_warn("container %.64s: %s; its record is removed", c->id, why);
	else if (r != 0 && r != HUSH_E_NOMEM)
		log_warn("%s/%s: a bad container record (%s); removed",
		    p->cfg.run_dir, name, why);
	if (r != 0) {
		if (r != 1 && r != HUSH_E_NOMEM)
			(void)unlinkat(dir, name, 0);
		ctr_free(c);
		return;
	}
	c->state = CTR_ADOPT;
	c->next = p->containers.list;
	p->containers.list = c;
	log_info("container %.64s: attached before hushd started (service %s, process "
	    "%ld); taking it back", c->id, c->service, (long)c->pid);
}

void
ctr_records_load(struct parent *p)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (p->containers.run_fd < 0 || (fd = dup(p->containers.run_fd)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) == CTR_RECORD_HEX + 4 && named_like(de->d_name, ".tmp"))
			(void)unlinkat(p->containers.run_fd, de->d_name, 0);	/* an interrupted write */
		else if (strlen(de->d_name) == CTR_RECORD_HEX + 5 &&
		    named_like(de->d_name, ".json"))
			load_one(p, p->containers.run_fd, de->d_name);
	}
	closedir(d);
}

/*
 * Reading what the runtime gives the hook, always with a bound: the state
 * on stdin and the bundle's config.json.  Neither is trusted to be small.
 * Either may hold a claim, so no copy is freed unwiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "hook.h"
#include "oci_json.h"

#define READ_CHUNK	65536

int
read_all(int fd, size_t max, const char *what, char **out, size_t *outlen,
    char *why, size_t whylen)
{
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;
	int r;

	*out = NULL;
	*outlen = 0;
	for (;;) {
		/* Room for one byte past max: that byte says "too large". */
		if (len == cap) {
			cap = cap == 0 ? READ_CHUNK : cap * 2;
			if (cap > max + 1)
				cap = max + 1;
			/* Not realloc(): the old block is wiped first. */
			if ((nbuf = malloc(cap + 1)) == NULL) {
				r = HUSH_E_NOMEM;
				oci_why(why, whylen, "%s: %s", what,
				    hush_strerror(r));
				goto fail;
			}
			if (buf != NULL) {
				memcpy(nbuf, buf, len);
				sodium_memzero(buf, len);
				free(buf);
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			oci_why(why, whylen, "%s: cannot read: %s", what,
			    strerror(errno));
			r = HUSH_E_IO;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			oci_why(why, whylen, "%s is larger than %zu bytes", what,
			    max);
			r = HUSH_E_TOOBIG;
			goto fail;
		}
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		r = HUSH_E_NOMEM;
		oci_why(why, whylen, "%s: %s", what, hush_strerror(r));
		goto fail;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
fail:
	if (buf != NULL)
		sodium_memzero(buf, len);
	free(buf);
	return r;
}

int
read_config(const char *bundle, char **buf, size_t *len, char *why,
    size_t whylen)
{
	char path[PATH_MAX + 16];
	struct stat sb;
	int fd, r;

	*buf = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	/* O_NONBLOCK: a FIFO planted there must not hang the runtime. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		oci_why(why, whylen, "%s: cannot open: %s", path, strerror(errno));
		return errno == ENOENT ? HUSH_E_NOTFOUND : HUSH_E_IO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		oci_why(why, whylen, "%s: not a regular file", path);
		close(fd);
		return HUSH_E_FORMAT;
	}
	/* Checked again while reading: the file may grow in between. */
	if (sb.st_size > OCI_CONFIG_MAX) {
		oci_why(why, whylen, "%s is larger than %d bytes", path,
		    OCI_CONFIG_MAX);
		close(fd);
		return HUSH_E_TOOBIG;
	}
	r = read_all(fd, OCI_CONFIG_MAX, path, buf, len, why, whylen);
	close(fd);
	return r;
}

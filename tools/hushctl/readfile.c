/*
 * Reading an operator's file (a secret's value, a backup's passphrase)
 * into guarded memory, bounded whatever the input (readfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "hushctl.h"
#include "readfile.h"

int
read_bounded(const char *cmd, const char *path, size_t max, bool regular,
    struct secbuf *buf, size_t *len)
{
	const char *shown;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, r, saved;

	*len = 0;
	if (path == NULL || strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
		shown = "standard input";
	} else {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
			return fail("%s: cannot open %s: %s", cmd, path, strerror(errno));
		shown = path;
	}
	if (regular && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		if (fd != STDIN_FILENO)
			close(fd);
		return fail("%s: %s is not a regular file", cmd, shown);
	}
	/* One byte more than the maximum is enough to know it is too large. */
	if ((r = secbuf_alloc(buf, max + 1)) != 0) {
		if (fd != STDIN_FILENO)
			close(fd);
		return fail("%s: %s", cmd, hush_strerror(r));
	}
	while (got < buf->len) {
		n = read(fd, buf->p + got, buf->len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			if (fd != STDIN_FILENO)
				close(fd);
			secbuf_free(buf);
			return fail("%s: cannot read %s: %s", cmd, shown, strerror(saved));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*len = got;
	return 0;
}

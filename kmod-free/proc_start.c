/*
 * Which process a pid names.  A container is tracked by its init's pid
 * and start time together: pids are reused, and an exit event or a kill(0)
 * about a pid says nothing about our container unless the start time
 * matches.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "proc_start.h"

int
proc_start_time(pid_t pid, uint64_t *start, bool *dead)
{
	char path[64], buf[1024], *p, *end;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ESRCH ? HUSH_E_NOTFOUND :
		    HUSH_E_SYS;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n == 0 || errno == ESRCH ? HUSH_E_NOTFOUND : HUSH_E_SYS;
	buf[n] = '\0';
	/* "pid (comm) state ...": comm may hold spaces and ')', so the last ')' */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return HUSH_E_FORMAT;
	p += 2;
	*dead = *p == 'Z' || *p == 'X';
	/* p is at field 3; starttime is field 22 */
	for (field = 3; field < 22; field++) {
		if ((p = strchr(p, ' ')) == NULL)
			return HUSH_E_FORMAT;
		p++;
	}
	errno = 0;
	*start = strtoull(p, &end, 10);
	if (errno != 0 || end == p || (*end != ' ' && *end != '\0'))
		return HUSH_E_FORMAT;
	return 0;
}

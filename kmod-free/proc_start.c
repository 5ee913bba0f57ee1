/*
 * Which process a pid names.  A container is tracked by its init's pid
 * and start time together: pids are reused, and an exit event or a kill(0)
 * about a pid says nothing about our container unless the start time
 * matches.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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

int
proc_pidfd_pid(int pidfd, pid_t *pid)
{
	char path[64], buf[2048], *p, *end;
	ssize_t n;
	long v;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	if (pidfd < 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return HUSH_E_INVAL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return HUSH_E_INVAL;
	buf[n] = '\0';
	/* only a pidfd's fdinfo has this line */
	if ((p = strstr(buf, "\nPid:\t")) == NULL)
		return HUSH_E_INVAL;
	errno = 0;
	v = strtol(p + 6, &end, 10);
	if (errno != 0 || end == p + 6 || *end != '\n')
		return HUSH_E_INVAL;
	if (v <= 0)		/* -1: ended and reaped; 0: not in our pid namespace */
		return HUSH_E_NOTFOUND;
	*pid = (pid_t)v;
	return 0;
}

/*
 * A pidfd polls readable once its process has exited (a zombie too).
 * poll(), not pidfd_send_signal(pidfd, 0): a Landlock domain that scopes
 * signals, as the parent's does, refuses even signal 0 to a process
 * outside it.
 */
int
proc_pidfd_alive(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int n;

	while ((n = poll(&pfd, 1, 0)) == -1 && errno == EINTR)
		;
	return n == 0 ? 0 : HUSH_E_NOTFOUND;
}

int
proc_pin(pid_t pid, uint64_t start, int *pidfd)
{
	uint64_t now;
	bool dead;
	int fd;

	*pidfd = -1;
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return errno == ESRCH ? HUSH_E_NOTFOUND : HUSH_E_SYS;
	/* the start time read after the pidfd was taken, while it lives */
	if (proc_start_time(pid, &now, &dead) != 0 || dead || now != start ||
	    proc_pidfd_alive(fd) != 0) {
		close(fd);
		return HUSH_E_NOTFOUND;
	}
	*pidfd = fd;
	return 0;
}

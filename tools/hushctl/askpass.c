#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "askpass.h"
#include "err.h"

/* Reads the child's stdout to EOF into out; HUSH_E_TOOBIG past ASKPASS_MAX. */
static int
read_all(int fd, struct secbuf *out, size_t *len, char *why, size_t whylen)
{
	size_t n = 0;
	ssize_t got;

	for (;;) {
		if (n == ASKPASS_MAX) {
			snprintf(why, whylen, "%s printed more than %d bytes",
			    ASKPASS_PROGRAM, ASKPASS_MAX);
			return HUSH_E_TOOBIG;
		}
		got = read(fd, out->p + n, ASKPASS_MAX - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(why, whylen, "cannot read from %s: %s", ASKPASS_PROGRAM,
			    strerror(errno));
			return HUSH_E_IO;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	out->p[n] = '\0';
	*len = n;
	return 0;
}

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

int
askpass_systemd(const char *keyname, const char *prompt, bool accept_cached,
    struct secbuf *out, size_t *len, char *why, size_t whylen)
{
	char keyarg[128];
	char *argv[7];
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int n = 0, status, exec_errno, r;
	ssize_t got;
	pid_t pid;

	*len = 0;
	snprintf(keyarg, sizeof(keyarg), "--keyname=%s", keyname);
	argv[n++] = (char *)ASKPASS_PROGRAM;
	argv[n++] = keyarg;
	if (accept_cached)
		argv[n++] = (char *)"--accept-cached";
	/* Every cached key, not only the oldest: an older one may be stale. */
	argv[n++] = (char *)"--multiple";
	argv[n++] = (char *)"--";
	argv[n++] = (char *)prompt;
	argv[n] = NULL;

	if ((r = secbuf_alloc(out, ASKPASS_MAX + 1)) != 0) {
		snprintf(why, whylen, "%s", hush_strerror(r));
		return r;
	}
	/* errp carries execvp()'s errno back; close-on-exec, so EOF means it ran. */
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "cannot create a pipe: %s", strerror(errno));
		close_pair(outp);
		close_pair(errp);
		secbuf_free(out);
		return HUSH_E_SYS;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "cannot fork: %s", strerror(errno));
		close_pair(outp);
		close_pair(errp);
		secbuf_free(out);
		return HUSH_E_SYS;
	}
	if (pid == 0) {
		if (dup2(outp[1], STDOUT_FILENO) >= 0)
			execvp(ASKPASS_PROGRAM, argv);
		exec_errno = errno;
		(void)!write(errp[1], &exec_errno, sizeof(exec_errno));
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	do
		got = read(errp[0], &exec_errno, sizeof(exec_errno));
	while (got < 0 && errno == EINTR);
	close(errp[0]);
	if (got == (ssize_t)sizeof(exec_errno)) {
		close(outp[0]);
		(void)waitpid(pid, NULL, 0);
		secbuf_free(out);
		snprintf(why, whylen, "cannot run %s: %s", ASKPASS_PROGRAM,
		    strerror(exec_errno));
		return HUSH_E_NOTFOUND;
	}
	r = read_all(outp[0], out, len, why, whylen);
	close(outp[0]);
	if (r != 0)
		(void)kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		if (status != -1 && WIFSIGNALED(status))
			snprintf(why, whylen, "%s was killed by signal %d", ASKPASS_PROGRAM,
			    WTERMSIG(status));
		else
			snprintf(why, whylen, "%s failed (exit status %d); no key was read",
			    ASKPASS_PROGRAM, status != -1 && WIFEXITED(status) ?
			    WEXITSTATUS(status) : -1);
		r = HUSH_E_IO;
	}
	if (r != 0) {
		secbuf_free(out);
		*len = 0;
	}
	return r;
}

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "err.h"
#include "proc_harden.h"

extern char **environ;

/*
 * The argv and environment strings the kernel copied onto our stack: the
 * only memory /proc/PID/cmdline shows, so the only place a title can go.
 */
static char	*title_area;
static size_t	 title_size;
/* Where the kernel's idea of the argv strings ends (mm->arg_end). */
static char	*title_arg_end;

int
proc_harden(void)
{
	const struct rlimit zero = { 0, 0 };

	/*
	 * Same order as OpenSSH's sandbox: resource limits first, and
	 * NO_NEW_PRIVS last, right before the seccomp filter the caller
	 * installs next and which may well forbid setrlimit() and prctl().
	 *
	 * Both core limit and non-dumpable: "dumpable" is reset by execve()
	 * and credential changes, while a hard limit of 0 cannot be raised
	 * again; and with fs.suid_dumpable=2 even non-dumpable processes dump
	 * through core_pattern, where the limit lets systemd-coredump skip us.
	 * Non-dumpable also stops ptrace and /proc/PID/mem from same-uid
	 * processes, which the limit does not.
	 */
	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		return HUSH_E_SYS;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return HUSH_E_SYS;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return HUSH_E_SYS;
	return 0;
}

int
proc_die_with_parent(pid_t parent)
{
	/*
	 * The death signal fires when the thread that forked us exits, so
	 * hush forks children from the main thread only.  A setuid() in the
	 * child clears it again: call this after any credential change.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		return HUSH_E_SYS;
	/* The parent may have died between fork() and the prctl(). */
	if (getppid() != parent)
		_exit(1);
	return 0;
}

static void
free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

void
proc_title_init(int argc, char **argv)
{
	char **env = NULL, **args, *start, *end;
	bool argv_whole = true;
	size_t nenv = 0, nargs = 0;

	if (title_area != NULL || argc < 1 || argv == NULL || argv[0] == NULL)
		return;

	/* Only strings laid out back to back are ours to reuse. */
	start = end = argv[0];
	for (int i = 0; i < argc; i++) {
		if (argv[i] != end) {
			argv_whole = false;
			break;
		}
		end += strlen(argv[i]) + 1;
		nargs++;
	}
	if ((args = calloc(nargs, sizeof(*args))) == NULL)
		return;
	for (size_t i = 0; i < nargs; i++) {
		if ((args[i] = strdup(argv[i])) == NULL) {
			free_strings(args, i);
			free(args);
			return;
		}
	}
	title_arg_end = argv_whole ? end : NULL;

	/*
	 * The environment follows the argv strings; taking it too gives room
	 * for a title longer than the command line.  Failing to copy it only
	 * costs that room.
	 */
	if (argv_whole && environ != NULL) {
		while (environ[nenv] != NULL)
			nenv++;
		if ((env = calloc(nenv + 1, sizeof(*env))) != NULL) {
			for (size_t i = 0; i < nenv; i++) {
				if ((env[i] = strdup(environ[i])) == NULL) {
					free_strings(env, i);
					free(env);
					env = NULL;
					break;
				}
			}
		}
		if (env != NULL) {
			for (size_t i = 0; i < nenv && environ[i] == end; i++)
				end += strlen(environ[i]) + 1;
			environ = env;
		}
	}

	for (size_t i = 0; i < nargs; i++)
		argv[i] = args[i];
	free(args);
	/* err(3) and friends print these, and they pointed into the area. */
	program_invocation_name = argv[0];
	if ((program_invocation_short_name = strrchr(argv[0], '/')) != NULL)
		program_invocation_short_name++;
	else
		program_invocation_short_name = argv[0];

	title_area = start;
	title_size = (size_t)(end - start);
}

void
proc_set_title(const char *title)
{
	size_t n;

	/* comm is what top, pgrep and the audit log show; 15 bytes kept. */
	(void)prctl(PR_SET_NAME, (unsigned long)title, 0, 0, 0);
	if (title_area == NULL || title_size < 2)
		return;
	n = strnlen(title, title_size - 1);
	memcpy(title_area, title, n);
	memset(title_area + n, 0, title_size - n);
	/*
	 * /proc/PID/cmdline returns the whole original argv area, NULs and
	 * all, when its last byte is NUL; when that byte is not NUL it assumes
	 * a rewritten title and stops at the first NUL.  A non-NUL byte there
	 * (past our title's terminator, so no reader of the string sees it)
	 * makes cmdline exactly the title.
	 */
	if (title_arg_end != NULL && title_arg_end - 1 > title_area + n)
		title_arg_end[-1] = '.';
}

int
proc_close_fds_from(int lowfd, const int *keep, size_t nkeep)
{
	unsigned int cur, next;
	bool found;

	if (lowfd < 0 || (nkeep > 0 && keep == NULL))
		return HUSH_E_INVAL;
	/*
	 * Close the gaps between kept fds in ascending order.  close_range()
	 * (Linux 5.9) is older than Landlock, which hush requires anyway.
	 */
	cur = (unsigned int)lowfd;
	for (;;) {
		found = false;
		next = 0;
		for (size_t i = 0; i < nkeep; i++) {
			if (keep[i] < 0 || (unsigned int)keep[i] < cur)
				continue;
			if (!found || (unsigned int)keep[i] < next) {
				next = (unsigned int)keep[i];
				found = true;
			}
		}
		if (!found)
			break;
		if (next > cur && close_range(cur, next - 1, 0) == -1)
			return HUSH_E_SYS;
		/* keep[i] <= INT_MAX, so this cannot wrap */
		cur = next + 1;
	}
	if (close_range(cur, ~0U, 0) == -1)
		return HUSH_E_SYS;
	return 0;
}

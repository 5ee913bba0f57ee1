#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "readkey.h"

/* Signals that end a process at a prompt; each must leave echo back on. */
static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NSIGNALS	(sizeof(fatal_signals) / sizeof(fatal_signals[0]))

/* State the signal handler needs: the terminal and how to put it back. */
static int		tty_in = -1;
static struct termios	tty_saved;

static void
restore_tty(void)
{
	if (tty_in >= 0)
		(void)tcsetattr(tty_in, TCSAFLUSH, &tty_saved);
}

static void
on_signal(int sig)
{
	struct sigaction sa;

	/* tcsetattr, sigaction and raise are all async-signal-safe. */
	restore_tty();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(sig, &sa, NULL);
	(void)raise(sig);
}

/* Reads up to the newline; the terminal or pipe hands us bytes one by one. */
static int
read_line(int fd, struct secbuf *buf, size_t *len, char *why, size_t whylen)
{
	size_t n = 0;
	ssize_t got;
	char c;

	for (;;) {
		got = read(fd, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(why, whylen, "cannot read the key: %s",
			    strerror(errno));
			return HUSH_E_IO;
		}
		if (got == 0 || c == '\n')
			break;
		if (n == READKEY_MAX) {
			snprintf(why, whylen, "input is longer than %d bytes",
			    READKEY_MAX);
			return HUSH_E_TOOBIG;
		}
		buf->p[n++] = (uint8_t)c;
	}
	buf->p[n] = '\0';
	*len = n;
	return 0;
}

static int
read_tty(const char *prompt, struct secbuf *buf, size_t *len, char *why,
    size_t whylen)
{
	struct sigaction sa, old[NSIGNALS];
	struct termios quiet;
	size_t i;
	int out, r;

	if (tcgetattr(STDIN_FILENO, &tty_saved) != 0) {
		snprintf(why, whylen, "cannot read terminal settings: %s",
		    strerror(errno));
		return HUSH_E_SYS;
	}
	/* The prompt belongs on the terminal even if stderr is redirected. */
	if ((out = open("/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		out = STDERR_FILENO;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NSIGNALS; i++)
		(void)sigaction(fatal_signals[i], &sa, &old[i]);
	/* Handlers first: a signal between these two lines still restores. */
	tty_in = STDIN_FILENO;
	quiet = tty_saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
		snprintf(why, whylen, "cannot turn off terminal echo: %s",
		    strerror(errno));
		r = HUSH_E_SYS;
		goto done;
	}
	(void)!write(out, prompt, strlen(prompt));
	r = read_line(STDIN_FILENO, buf, len, why, whylen);
	/* Echo was off, so the operator's Enter did not move the cursor. */
	(void)!write(out, "\n", 1);

done:
	restore_tty();
	tty_in = -1;
	for (i = 0; i < NSIGNALS; i++)
		(void)sigaction(fatal_signals[i], &old[i], NULL);
	if (out != STDERR_FILENO)
		close(out);
	return r;
}

int
readkey(const char *prompt, struct secbuf *buf, size_t *len, char *why,
    size_t whylen)
{
	int r;

	*len = 0;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = secbuf_alloc(buf, READKEY_MAX + 1)) != 0) {
		snprintf(why, whylen, "%s", hush_strerror(r));
		return r;
	}
	if (isatty(STDIN_FILENO))
		r = read_tty(prompt, buf, len, why, whylen);
	else
		r = read_line(STDIN_FILENO, buf, len, why, whylen);
	if (r != 0)
		secbuf_free(buf);
	return r;
}

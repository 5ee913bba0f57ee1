/*
 * Autolock: unlock a manager that restarted locked, and show or rotate
 * the unlock key.  Key bytes only ever sit in guarded memory here (and,
 * unavoidably, in the wiped request and reply buffers).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "askpass.h"
#include "client.h"
#include "err.h"
#include "hushctl.h"
#include "msg.h"
#include "output.h"
#include "readkey.h"
#include "secbuf.h"
#include "unlock_key.h"

static const char unlock_help[] =
    "Usage:  hushctl unlock [--ask]\n"
    "\n"
    "Unlock a locked manager with the unlock key.  The key is read from the\n"
    "terminal without echo, or as one line from standard input.\n"
    "\n"
    "With --ask, do nothing (and succeed) if hushd is not locked; otherwise\n"
    "ask through systemd-ask-password, which prompts on the terminal or,\n"
    "without one, through systemd's password agents (at boot: the console),\n"
    "and which caches the key as 'hush-unlock' in root's user keyring for a\n"
    "few minutes: a hushd that starts locked meanwhile unlocks itself with\n"
    "it.  A cached key is used without asking.  Without systemd-ask-password,\n"
    "ask on the terminal as without --ask.\n"
    "\n"
    "Options:\n"
    "      --ask    Ask as described above (hush-unlock.service uses this)\n"
    "  -h, --help   Print this help\n";

static const char unlock_key_help[] =
    "Usage:  hushctl unlock-key [OPTIONS]\n"
    "\n"
    "Show or rotate the key that unlocks a manager after it restarts\n"
    "\n"
    "Options:\n"
    "  -q, --quiet    Only print the key\n"
    "      --rotate   Replace the key; the old one stops working\n"
    "  -h, --help     Print this help\n";

/* Parses the typed key into kek (guarded); prints the error itself. */
int
read_kek(struct secbuf *kek)
{
	struct secbuf line = SECBUF_INIT;
	char why[256];
	size_t len, start, klen;
	int r;

	if ((r = readkey("Enter unlock key: ", &line, &len, why,
	    sizeof(why))) != 0)
		return fail("unlock: %s", why);
	if ((r = secbuf_alloc(kek, UNLOCK_KEY_BYTES)) != 0) {
		secbuf_free(&line);
		return fail("unlock: %s", hush_strerror(r));
	}
	trim_span((const char *)line.p, len, &start, &klen);
	if (klen == 0) {
		secbuf_free(&line);
		secbuf_free(kek);
		return fail("invalid unlock key: no key given");
	}
	r = unlock_key_parse((const char *)line.p + start, klen, kek->p, why,
	    sizeof(why));
	secbuf_free(&line);
	if (r != 0) {
		secbuf_free(kek);
		return fail("invalid unlock key: %s", why);
	}
	return 0;
}

/* What hushd adds to a successful unlock: the store is not serving yet, why. */
static void
print_unlock_note(const struct wire_msg *m)
{
	char text[257], safe[257];

	if (wire_get_str(m, T_STATUS_TEXT, text, sizeof(text)) == 0) {
		sanitize(text, safe, sizeof(safe));
		fprintf(stderr, "hushctl: %s\n", safe);
	}
}

/* Sends one unlock request; prints only hushd's note (the caller words the outcome). */
static int
send_unlock(const struct ctl *ctl, const struct secbuf *kek, struct ctl_error *err)
{
	struct wire_enc e;
	struct ctl_reply rep;
	int r;

	client_request(&e, CTL_UNLOCK);
	wire_put_bytes(&e, T_KEK, kek->p, kek->len);
	r = ctl_call(ctl->socket, "unlock", &e, &rep, NULL, err);
	wire_enc_free(&e);
	if (r == 0) {
		print_unlock_note(rep.msg);
		ctl_reply_free(&rep);
	}
	return r;
}

/* Whether hushd is locked now; prints the error itself. */
static int
is_locked(const struct ctl *ctl, bool *locked)
{
	struct wire_enc e;
	struct reply rep;
	int r;

	client_request(&e, CTL_STATUS);
	r = client_call(ctl->socket, "status", &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return r;
	*locked = false;
	(void)wire_get_bool(rep.msg, T_LOCKED, locked);
	reply_free(&rep);
	return 0;
}

/*
 * Tries each key of text (one a line, as systemd-ask-password --multiple
 * prints them) in order.  0 once one unlocks; HUSH_E_BADKEY (and the last
 * reason in why) when none is a key that opens this node; another code,
 * already printed, when hushd failed otherwise.
 */
static int
try_keys(const struct ctl *ctl, const char *text, size_t len, char *why, size_t whylen)
{
	struct secbuf kek = SECBUF_INIT;
	struct ctl_error err;
	size_t off, llen, start, klen;
	const char *nl;
	int r, result = HUSH_E_BADKEY;

	snprintf(why, whylen, "no key given");
	if ((r = secbuf_alloc(&kek, UNLOCK_KEY_BYTES)) != 0) {
		snprintf(why, whylen, "%s", hush_strerror(r));
		return r;
	}
	for (off = 0; off < len && result == HUSH_E_BADKEY; off += llen + 1) {
		nl = memchr(text + off, '\n', len - off);
		llen = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		trim_span(text + off, llen, &start, &klen);
		if (klen == 0)
			continue;
		if (unlock_key_parse(text + off + start, klen, kek.p, why, whylen) != 0)
			continue;
		r = send_unlock(ctl, &kek, &err);
		if (r == HUSH_E_BADKEY)
			snprintf(why, whylen, "hushd refused it: it does not open this "
			    "node's keys (another cluster's key, or one rotated away)");
		else if (r == 0 || (r == HUSH_E_INVAL && strstr(err.text, "not locked") != NULL))
			result = 0;	/* unlocked, now or meanwhile (a restart used the cache) */
		else {
			fprintf(stderr, "hushctl: %s\n", err.text);
			result = r;
		}
	}
	secbuf_free(&kek);
	return result;
}

/*
 * unlock --ask: systemd-ask-password first with what it has cached, then
 * (if that was refused) once more asking afresh; without the program, the
 * terminal prompt.
 */
static int
unlock_ask(const struct ctl *ctl)
{
	struct secbuf text = SECBUF_INIT;
	char why[256];
	size_t len;
	bool locked;
	int r;

	if (is_locked(ctl, &locked) != 0)
		return EXIT_FAIL;
	if (!locked) {
		fprintf(stderr, "hushctl: hushd is not locked: nothing to unlock\n");
		return EXIT_OK;
	}
	for (int round = 0; round < 2; round++) {
		r = askpass_systemd(UNLOCK_KEY_CACHE_NAME, "Unlock key for hush:",
		    round == 0, &text, &len, why, sizeof(why));
		if (r == HUSH_E_NOTFOUND) {
			fprintf(stderr, "hushctl: %s; asking on the terminal instead\n", why);
			if ((r = readkey("Unlock key for hush: ", &text, &len, why,
			    sizeof(why))) != 0)
				return fail("unlock: %s", why);
			r = try_keys(ctl, (const char *)text.p, len, why, sizeof(why));
			secbuf_free(&text);
			if (r == HUSH_E_BADKEY)
				return fail("invalid unlock key: %s", why);
			return r == 0 ? EXIT_OK : EXIT_FAIL;
		}
		if (r != 0)
			return fail("unlock: %s", why);
		r = try_keys(ctl, (const char *)text.p, len, why, sizeof(why));
		secbuf_free(&text);
		if (r == 0)
			return EXIT_OK;
		if (r != HUSH_E_BADKEY)
			return EXIT_FAIL;
		fprintf(stderr, "hushctl: invalid unlock key: %s%s\n", why,
		    round == 0 ? "; asking again" : "");
	}
	return EXIT_FAIL;
}

int
cmd_unlock(const struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_ASK = OPT_LONG_BASE };
	static const struct option opts[] = {
		{ "ask",	no_argument, NULL, OPT_ASK },
		OPTS_HELP_END,
	};
	struct secbuf kek = SECBUF_INIT;
	struct wire_enc e;
	struct reply rep;
	bool ask = false;
	int c, r, stop;

	while ((c = cmd_getopt("unlock", unlock_help, argc, argv, ":h", opts, &stop)) != -1) {
		switch (c) {
		case OPT_ASK:
			ask = true;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	/* Never on the command line: argv is visible to every local user. */
	if (optind < argc)
		return usage_error("unlock", "unexpected argument '%.64s' (the "
		    "key is read from the terminal or standard input)",
		    argv[optind]);
	if (ask)
		return unlock_ask(ctl);
	if ((r = read_kek(&kek)) != 0)
		return r;

	client_request(&e, CTL_UNLOCK);
	wire_put_bytes(&e, T_KEK, kek.p, kek.len);
	secbuf_free(&kek);
	r = client_call(ctl->socket, "unlock", &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	print_unlock_note(rep.msg);
	reply_free(&rep);
	return EXIT_OK;
}

int
cmd_unlock_key(const struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_ROTATE = OPT_LONG_BASE };
	int quiet = 0, rotate = 0;	/* flags: set by cmd_flags() */
	const struct option opts[] = {
		{ "quiet",	no_argument, &quiet, 'q' },
		{ "rotate",	no_argument, &rotate, OPT_ROTATE },
		OPTS_HELP_END,
	};
	struct secbuf text = SECBUF_INIT;
	struct wire_enc e;
	struct reply rep;
	const uint8_t *kek;
	size_t len;
	int r;

	if ((r = cmd_flags("unlock-key", unlock_key_help, argc, argv, ":qh", opts)) >= 0)
		return r;
	if (optind < argc)
		return usage_error("unlock-key", "unexpected argument '%.64s'",
		    argv[optind]);

	client_request(&e, CTL_UNLOCK_KEY);
	client_put_req_id(&e);
	wire_put_bool(&e, T_ROTATE, rotate != 0);
	r = client_call(ctl->socket, "unlock-key", &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	if (wire_get_bytes(rep.msg, T_KEK, &kek, &len) != 0 ||
	    len != UNLOCK_KEY_BYTES) {
		reply_free(&rep);
		return fail("unlock-key: bad reply from hushd: no key");
	}
	r = EXIT_OK;
	if (quiet) {
		if (secbuf_alloc(&text, UNLOCK_KEY_LEN + 1) != 0 ||
		    unlock_key_format(kek, (char *)text.p, text.len) != 0)
			r = fail("unlock-key: cannot format the key");
		else {
			printf("%s\n", (const char *)text.p);
			fflush(stdout);
		}
		secbuf_free(&text);
	} else {
		if (rotate)
			printf("Successfully rotated manager unlock key.\n\n");
		if (print_unlock_key(kek, stdout) != 0)
			r = fail("unlock-key: cannot print the key");
	}
	reply_free(&rep);
	return r;
}

/*
 * Autolock: unlock a manager that restarted locked, and show or rotate
 * the unlock key.  Key bytes only ever sit in guarded memory here (and,
 * unavoidably, in the wiped request and reply buffers).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "err.h"
#include "hushctl.h"
#include "msg.h"
#include "output.h"
#include "readkey.h"
#include "secbuf.h"
#include "unlock_key.h"

static const char unlock_help[] =
    "Usage:  hushctl unlock\n"
    "\n"
    "Unlock a locked manager with the unlock key.  The key is read from the\n"
    "terminal without echo, or as one line from standard input.\n"
    "\n"
    "Options:\n"
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
static int
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

int
cmd_unlock(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help",	no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct secbuf kek = SECBUF_INIT;
	struct wire_enc e;
	struct reply rep;
	int c, r;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return show_help(unlock_help);
		default:
			return getopt_error("unlock", c, argv);
		}
	}
	/* Never on the command line: argv is visible to every local user. */
	if (optind < argc)
		return usage_error("unlock", "unexpected argument '%.64s' (the "
		    "key is read from the terminal or standard input)",
		    argv[optind]);
	if ((r = read_kek(&kek)) != 0)
		return r;

	client_request(&e, CTL_UNLOCK);
	wire_put_bytes(&e, T_KEK, kek.p, kek.len);
	secbuf_free(&kek);
	r = client_call(ctl->socket, "unlock", &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	reply_free(&rep);
	return EXIT_OK;
}

int
cmd_unlock_key(const struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_ROTATE = OPT_LONG_BASE };
	static const struct option opts[] = {
		{ "quiet",	no_argument, NULL, 'q' },
		{ "rotate",	no_argument, NULL, OPT_ROTATE },
		{ "help",	no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct secbuf text = SECBUF_INIT;
	struct wire_enc e;
	struct reply rep;
	const uint8_t *kek;
	size_t len;
	bool quiet = false, rotate = false;
	int c, r;

	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case OPT_ROTATE:
			rotate = true;
			break;
		case 'h':
			return show_help(unlock_key_help);
		default:
			return getopt_error("unlock-key", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("unlock-key", "unexpected argument '%.64s'",
		    argv[optind]);

	client_request(&e, CTL_UNLOCK_KEY);
	client_put_req_id(&e);
	wire_put_bool(&e, T_ROTATE, rotate);
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

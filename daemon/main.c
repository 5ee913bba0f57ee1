/*
 * hushd — the hush daemon.  Runs in the foreground and logs to stderr, as a
 * systemd service expects.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "keyheap.h"
#include "log.h"
#include "parent/parent.h"
#include "proc_harden.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hushd [--state-dir DIR] [--control-socket PATH] [--run-dir DIR]\n"
	    "             [--log-level LEVEL] [--snapshot-threshold N] [--user NAME]\n"
	    "\n"
	    "  --state-dir DIR         keys, certificates and the raft log (default %s)\n"
	    "  --control-socket PATH   where hushctl connects (default %s)\n"
	    "  --run-dir DIR           which containers hold secrets, so that a restarted\n"
	    "                          hushd takes them back; a tmpfs (default %s)\n"
	    "  --log-level LEVEL       error, warning, info or debug (default info)\n"
	    "  --snapshot-threshold N  raft entries between snapshots (default 1024)\n"
	    "  --user NAME             the system user the processes that need no root\n"
	    "                          run as (default %s); it must exist\n"
	    "  --version               print the version and exit\n",
	    HUSH_DEFAULT_STATE_DIR, HUSH_DEFAULT_CONTROL, HUSH_DEFAULT_RUN_DIR,
	    HUSH_DEFAULT_USER);
}

static int
copy_path(char *dst, size_t cap, const char *src, const char *what)
{
	if (src[0] != '/') {
		fprintf(stderr, "hushd: %s must be an absolute path: '%s'\n", what, src);
		return -1;
	}
	if (strlen(src) >= cap) {
		fprintf(stderr, "hushd: %s is too long\n", what);
		return -1;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "control-socket", required_argument, NULL, 'c' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "snapshot-threshold", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct hushd_config cfg;
	enum log_level level = LOG_LVL_INFO;
	char *end;
	unsigned long n;
	int ch;

	/* Before OpenSSL's first allocation, or it will not take it. */
	if (keyheap_wipe_openssl_frees() != 0) {
		fprintf(stderr, "hushd: OpenSSL was used before hushd could set its "
		    "allocator\n");
		return 1;
	}
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", HUSH_DEFAULT_STATE_DIR);
	snprintf(cfg.control_socket, sizeof(cfg.control_socket), "%s", HUSH_DEFAULT_CONTROL);
	snprintf(cfg.run_dir, sizeof(cfg.run_dir), "%s", HUSH_DEFAULT_RUN_DIR);
	snprintf(cfg.user, sizeof(cfg.user), "%s", HUSH_DEFAULT_USER);
	cfg.snapshot_threshold = 1024;
	cfg.snapshot_trailing = 128;
	proc_title_init(argc, argv);

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (copy_path(cfg.state_dir, sizeof(cfg.state_dir), optarg, "--state-dir") != 0)
				return 2;
			break;
		case 'c':
			if (copy_path(cfg.control_socket, sizeof(cfg.control_socket), optarg,
			    "--control-socket") != 0)
				return 2;
			break;
		case 'r':
			if (copy_path(cfg.run_dir, sizeof(cfg.run_dir), optarg, "--run-dir") != 0)
				return 2;
			break;
		case 'l':
			if (log_level_parse(optarg, &level) != 0) {
				fprintf(stderr, "hushd: unknown --log-level '%s' (use error, "
				    "warning, info or debug)\n", optarg);
				return 2;
			}
			break;
		case 't':
			n = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 16 || n > 1000000) {
				fprintf(stderr, "hushd: --snapshot-threshold must be a number "
				    "from 16 to 1000000, not '%s'\n", optarg);
				return 2;
			}
			cfg.snapshot_threshold = (unsigned)n;
			cfg.snapshot_trailing = (unsigned)(n / 8 > 1 ? n / 8 : 1);
			break;
		case 'u':
			if (*optarg == '\0' || strlen(optarg) >= sizeof(cfg.user)) {
				fprintf(stderr, "hushd: --user must be a user name of at most "
				    "%zu characters\n", sizeof(cfg.user) - 1);
				return 2;
			}
			snprintf(cfg.user, sizeof(cfg.user), "%s", optarg);
			break;
		case 'V':
			printf("hushd %s\n", HUSH_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "hushd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "hushd: must run as root (it manages the kernel keyring, "
		    "mounts and its own sandbox)\n");
		return 1;
	}
	log_init("hushd", level);
	return parent_main(&cfg);
}

/*
 * Disaster recovery: init --force-new-cluster, backup (and --verify),
 * restore.  The file's format is lib/backup_file.h (the sealed container)
 * and lib/backup_contents.h (what it holds); hushctl opens the files, the
 * daemon reads and writes them through the descriptor it is passed, so it
 * needs no path of the operator's.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup_contents.h"
#include "backup_file.h"
#include "client.h"
#include "err.h"
#include "hushctl.h"
#include "msg.h"
#include "output.h"
#include "readfile.h"
#include "readkey.h"
#include "secbuf.h"

static const char backup_help[] =
    "Usage:  hushctl backup [OPTIONS] FILE\n"
    "        hushctl backup --verify [OPTIONS] FILE\n"
    "\n"
    "Write a sealed backup of the cluster's store into FILE, which must not\n"
    "exist: every secret, service and node, the CA and the join tokens, as\n"
    "committed when the backup began.  Nothing in FILE is readable without\n"
    "its key: the cluster's unlock key under autolock, else a passphrase.\n"
    "With --verify, check FILE and show what it holds, changing nothing.\n"
    "\n"
    "Options:\n"
    "      --force                    Back up this manager's copy as it is,\n"
    "                                 without asking the leader (no quorum)\n"
    "      --passphrase-file FILE     Seal with (or open with) the passphrase\n"
    "                                 in FILE instead of the unlock key\n"
    "      --verify                   Check FILE: the key opens it, it is\n"
    "                                 whole and unchanged, and what it holds\n"
    "  -h, --help                     Print this help\n";

static const char restore_help[] =
    "Usage:  hushctl restore [OPTIONS] FILE\n"
    "\n"
    "Make this node, uninitialized, the only manager of the cluster backed up\n"
    "in FILE: same cluster, CA, join tokens, unlock key, secrets, services\n"
    "and workers.  The managers the backup knew are removed.  The key is the\n"
    "cluster's unlock key (typed, or one line on standard input) or, for a\n"
    "backup sealed with a passphrase, that passphrase.\n"
    "\n"
    "Options:\n"
    "      --advertise-addr ADDR[:PORT]  Address other nodes reach this node at\n"
    "      --listen-addr ADDR[:PORT]     Address to listen on for other nodes\n"
    "      --passphrase-file FILE        The backup's passphrase, from FILE\n"
    "  -h, --help                        Print this help\n";

enum {
	OPT_FORCE = OPT_LONG_BASE,
	OPT_PASSFILE,
	OPT_VERIFY,
	OPT_ADVERTISE,
	OPT_LISTEN,
};

/* ---- init --force-new-cluster ---- */

int
init_force_new_cluster(const struct ctl *ctl, bool force)
{
	struct client_opts opts = { .reply_ms = 60000, .fd = -1 };
	char node[HUSH_ID_LEN + 1], cluster[HUSH_ID_LEN + 1], id[HUSH_ID_LEN + 1];
	struct wire_enc e;
	struct reply rep;
	size_t n;
	int r;

	client_request(&e, CTL_FORCE_NEW_CLUSTER);
	client_put_req_id(&e);
	if (force)
		wire_put_bool(&e, T_FORCE, true);
	r = client_call_opts(ctl->socket, "init --force-new-cluster", &e, &rep, &opts);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	if (wire_get_str(rep.msg, T_NODE_ID, node, sizeof(node)) != 0 ||
	    wire_get_str(rep.msg, T_CLUSTER_ID, cluster, sizeof(cluster)) != 0) {
		reply_free(&rep);
		return fail("init --force-new-cluster: bad reply from hushd");
	}
	printf("This node (%s) is now the only manager of cluster %s.\n", node, cluster);
	n = wire_count(rep.msg, T_PEER_ID);
	for (size_t i = 0; i < n; i++)
		if (wire_field_str(wire_find(rep.msg, T_PEER_ID, i), id, sizeof(id)) == 0)
			printf("removed manager %s\n", id);
	printf("\nWorkers reconnect by themselves.  To add managers again, run "
	    "'hushctl join-token manager'\nand follow the instructions.\n");
	reply_free(&rep);
	return EXIT_OK;
}

/* ---- the key ---- */

/* The passphrase in path, its last newline dropped; guarded memory. */
#define PASSPHRASE_FILE_MAX	4096
static int
passphrase_file(const char *cmd, const char *path, struct secbuf *out, size_t *len)
{
	size_t got;
	int r;

	if ((r = read_bounded(cmd, path, PASSPHRASE_FILE_MAX, true, out, &got)) != 0)
		return r;
	if (got > PASSPHRASE_FILE_MAX) {
		secbuf_free(out);
		return fail("%s: the passphrase file %s is larger than %d bytes", cmd, path,
		    PASSPHRASE_FILE_MAX);
	}
	if (got > 0 && out->p[got - 1] == '\n')
		got--;
	if (got > 0 && out->p[got - 1] == '\r')
		got--;
	if (got == 0) {
		secbuf_free(out);
		return fail("%s: the passphrase file %s is empty", cmd, path);
	}
	*len = got;
	return 0;
}

/* A passphrase from passfile, else typed (twice when new) or piped. */
static int
get_passphrase(const char *cmd, const char *passfile, bool confirm, struct secbuf *pw,
    size_t *len)
{
	struct secbuf again = SECBUF_INIT;
	char why[256];
	size_t alen;

	if (passfile != NULL)
		return passphrase_file(cmd, passfile, pw, len);
	if (readkey("Backup passphrase: ", pw, len, why, sizeof(why)) != 0)
		return fail("%s: %s", cmd, why);
	if (*len == 0) {
		secbuf_free(pw);
		return fail("%s: no passphrase given", cmd);
	}
	if (confirm && isatty(STDIN_FILENO)) {
		if (readkey("Again: ", &again, &alen, why, sizeof(why)) != 0) {
			secbuf_free(pw);
			return fail("%s: %s", cmd, why);
		}
		if (alen != *len || sodium_memcmp(again.p, pw->p, alen) != 0) {
			secbuf_free(&again);
			secbuf_free(pw);
			return fail("%s: the passphrases differ", cmd);
		}
		secbuf_free(&again);
	}
	return 0;
}

/* The key that opens a backup with header h: the unlock key's, or a passphrase's. */
static int
open_key(const char *cmd, const struct backup_hdr *h, const char *passfile,
    uint8_t key[BACKUP_KEY_BYTES])
{
	struct secbuf s = SECBUF_INIT;
	size_t len;
	int r;

	if (h->kind == BACKUP_KEY_UNLOCK) {
		if (passfile != NULL)
			return fail("%s: this backup is sealed with the cluster's unlock "
			    "key, not a passphrase: give the unlock key instead", cmd);
		if ((r = read_kek(&s)) != 0)
			return r;
		r = backup_key_from_kek(s.p, h, key);
	} else {
		if ((r = get_passphrase(cmd, passfile, false, &s, &len)) != 0)
			return r;
		r = backup_key_from_passphrase((const char *)s.p, len, h, key);
	}
	secbuf_free(&s);
	if (r != 0)
		return fail("%s: cannot derive the backup's key: %s", cmd, hush_strerror(r));
	return 0;
}

/* ---- backup ---- */

static void
print_when(int64_t t)
{
	char when[64];

	if (fmt_utc(t, when, sizeof(when)) != 0)
		snprintf(when, sizeof(when), "%lld", (long long)t);
	printf("%s", when);
}

/* The local node's cluster id, if a hushd answers and is in one; else "". */
static void
local_cluster(const struct ctl *ctl, char *out, size_t cap)
{
	struct ctl_opts co = { .reply_ms = 5000, .once = true };
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;

	out[0] = '\0';
	ctl_request(&e, CTL_STATUS);
	if (ctl_call(ctl->socket, "status", &e, &rep, &co, &err) == 0) {
		if (wire_get_str(rep.msg, T_CLUSTER_ID, out, cap) != 0)
			out[0] = '\0';
		ctl_reply_free(&rep);
	}
	wire_enc_free(&e);
}

static int
verify(const struct ctl *ctl, const char *path, const char *passfile)
{
	struct backup_contents bc;
	struct backup_reader rd;
	uint8_t key[BACKUP_KEY_BYTES];
	char why[600], here[HUSH_ID_LEN + 1];
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail("backup --verify: cannot open %s: %s", path, strerror(errno));
	if ((r = backup_reader_open_fd(&rd, fd, why, sizeof(why))) != 0) {
		close(fd);
		return fail("backup --verify: %s: %s", path, why);
	}
	if ((r = open_key("backup --verify", backup_reader_hdr(&rd), passfile, key)) != 0) {
		backup_reader_close(&rd);
		close(fd);
		return r;
	}
	backup_contents_init(&bc, false);
	if ((r = backup_reader_key(&rd, key, why, sizeof(why))) == 0)
		r = backup_contents_read(&bc, &rd, why, sizeof(why));
	sodium_memzero(key, sizeof(key));
	backup_reader_close(&rd);
	close(fd);
	if (r != 0) {
		backup_contents_free(&bc);
		return fail("backup --verify: %s: %s", path, why);
	}
	local_cluster(ctl, here, sizeof(here));
	if (here[0] != '\0' && strcmp(here, bc.man.cluster_id) != 0) {
		fail("backup --verify: %s is a backup of cluster %s, and this node is in "
		    "cluster %s", path, bc.man.cluster_id, here);
		backup_contents_free(&bc);
		return EXIT_FAIL;
	}
	printf("%s: a whole, unchanged backup\n", path);
	printf("Cluster:   %s%s\n", bc.man.cluster_id, bc.man.autolock ? " (autolock)" : "");
	printf("Taken on:  %s at ", bc.man.node_id);
	print_when(bc.man.created);
	printf(", raft index %llu%s\n", (unsigned long long)bc.man.index,
	    bc.man.force ? " (--force: this manager's copy, without the leader)" : "");
	printf("Holds:     %llu secrets, %llu services, %llu nodes\n",
	    (unsigned long long)bc.man.secrets, (unsigned long long)bc.man.services,
	    (unsigned long long)bc.man.nodes);
	backup_contents_free(&bc);
	return EXIT_OK;
}

/* FILE's temporary sibling, made 0600 and empty, opened for writing. */
static int
temp_beside(const char *path, char *tmp, size_t cap)
{
	char copy[PATH_MAX], base[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(base, sizeof(base), "%s", basename(copy));
	snprintf(copy, sizeof(copy), "%s", path);
	if ((size_t)snprintf(tmp, cap, "%s/.%s.XXXXXX", dirname(copy), base) >= cap)
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -1;
	return fd;
}

static int
backup(const struct ctl *ctl, const char *path, const char *passfile, bool force)
{
	struct client_opts opts = { .reply_ms = 120000, .send_fd = true, .fd = -1 };
	uint8_t hdr[BACKUP_HDR_BYTES], key[BACKUP_KEY_BYTES];
	char tmp[PATH_MAX], cluster[HUSH_ID_LEN + 1];
	struct backup_hdr h;
	struct secbuf pw = SECBUF_INIT;
	struct wire_enc e;
	struct reply rep;
	uint64_t secrets = 0, services = 0, nodes = 0, index = 0, bytes = 0;
	size_t len;
	int fd, r;

	if (access(path, F_OK) == 0)
		return fail("backup: %s exists: a backup never overwrites a file", path);
	client_request(&e, CTL_BACKUP);
	client_put_req_id(&e);
	if (force)
		wire_put_bool(&e, T_FORCE, true);
	/* Without a passphrase, the daemon seals with the cluster's unlock key. */
	if (passfile != NULL) {
		if ((r = get_passphrase("backup", passfile, true, &pw, &len)) != 0) {
			wire_enc_free(&e);
			return r;
		}
		backup_hdr_new(&h, BACKUP_KEY_PASSPHRASE);
		r = backup_key_from_passphrase((const char *)pw.p, len, &h, key);
		secbuf_free(&pw);
		if (r != 0) {
			wire_enc_free(&e);
			return fail("backup: cannot derive the key: %s", hush_strerror(r));
		}
		backup_hdr_encode(&h, hdr);
		wire_put_bytes(&e, T_BACKUP_HDR, hdr, sizeof(hdr));
		wire_put_bytes(&e, T_BACKUP_KEY, key, sizeof(key));
		sodium_memzero(key, sizeof(key));
	}
	if ((fd = temp_beside(path, tmp, sizeof(tmp))) < 0) {
		wire_enc_free(&e);
		return fail("backup: cannot create a file beside %s: %s", path, strerror(errno));
	}
	opts.fd = fd;
	r = client_call_opts(ctl->socket, "backup", &e, &rep, &opts);
	wire_enc_free(&e);
	if (r != 0) {
		close(fd);
		unlink(tmp);
		return EXIT_FAIL;
	}
	wire_get_str(rep.msg, T_CLUSTER_ID, cluster, sizeof(cluster));
	wire_get_u64(rep.msg, T_STORE_SECRETS, &secrets);
	wire_get_u64(rep.msg, T_STORE_SERVICES, &services);
	wire_get_u64(rep.msg, T_STORE_NODES, &nodes);
	wire_get_u64(rep.msg, T_RAFT_INDEX, &index);
	wire_get_u64(rep.msg, T_BYTES, &bytes);
	reply_free(&rep);
	/* Whole on disk before it has its name, and never over another file. */
	if (fsync(fd) != 0 || close(fd) != 0 ||
	    renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
		int e2 = errno;

		unlink(tmp);
		return fail("backup: cannot put the backup in place at %s: %s", path,
		    strerror(e2));
	}
	printf("Backup of cluster %s written to %s (%llu bytes): %llu secrets, %llu "
	    "services, %llu nodes, as of raft index %llu; sealed with %s.\n", cluster, path,
	    (unsigned long long)bytes, (unsigned long long)secrets,
	    (unsigned long long)services, (unsigned long long)nodes,
	    (unsigned long long)index, passfile != NULL ? "the passphrase" :
	    "the cluster's unlock key");
	return EXIT_OK;
}

int
cmd_backup(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force",		no_argument,	   NULL, OPT_FORCE },
		{ "passphrase-file",	required_argument, NULL, OPT_PASSFILE },
		{ "verify",		no_argument,	   NULL, OPT_VERIFY },
		OPTS_HELP_END,
	};
	const char *passfile = NULL;
	bool force = false, check = false;
	int c, stop;

	while ((c = cmd_getopt("backup", backup_help, argc, argv, ":h", opts, &stop)) != -1) {
		switch (c) {
		case OPT_FORCE:
			force = true;
			break;
		case OPT_PASSFILE:
			passfile = optarg;
			break;
		case OPT_VERIFY:
			check = true;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if (optind + 1 != argc)
		return usage_error("backup", optind >= argc ? "no FILE given" :
		    "one FILE only");
	if (check && force)
		return usage_error("backup", "--force writes a backup; --verify reads one");
	if (check)
		return verify(ctl, argv[optind], passfile);
	return backup(ctl, argv[optind], passfile, force);
}

/* ---- restore ---- */

int
cmd_restore(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "advertise-addr",	required_argument, NULL, OPT_ADVERTISE },
		{ "listen-addr",	required_argument, NULL, OPT_LISTEN },
		{ "passphrase-file",	required_argument, NULL, OPT_PASSFILE },
		OPTS_HELP_END,
	};
	struct client_opts copts = { .reply_ms = 300000, .send_fd = true, .fd = -1,
	    .once = true, .unsure = "run 'hushctl status' to see whether the node is "
	    "initialized" };
	const char *passfile = NULL, *advertise = NULL, *path;
	char listen_addr[ADDR_MAX + 1], why[600], id[HUSH_ID_LEN + 1];
	char node[HUSH_ID_LEN + 1] = "", cluster[HUSH_ID_LEN + 1] = "";
	uint8_t key[BACKUP_KEY_BYTES];
	struct backup_reader rd;
	struct wire_enc e;
	struct reply rep;
	bool have_listen = false;
	uint64_t secrets = 0, services = 0, nodes = 0, index = 0;
	int c, stop, fd, r;

	while ((c = cmd_getopt("restore", restore_help, argc, argv, ":h", opts, &stop)) != -1) {
		switch (c) {
		case OPT_ADVERTISE:
			if (arg_addr(optarg, why, sizeof(why)) != 0)
				return usage_error("restore", "%s", why);
			advertise = optarg;
			break;
		case OPT_LISTEN:
			if (arg_hostport("--listen-addr", optarg, listen_addr,
			    sizeof(listen_addr), why, sizeof(why)) != 0)
				return usage_error("restore", "%s", why);
			have_listen = true;
			break;
		case OPT_PASSFILE:
			passfile = optarg;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if (optind + 1 != argc)
		return usage_error("restore", optind >= argc ? "no FILE given" :
		    "one FILE only");
	path = argv[optind];
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail("restore: cannot open %s: %s", path, strerror(errno));
	/* The header says which key; the daemon reads the file from its start. */
	if ((r = backup_reader_open_fd(&rd, fd, why, sizeof(why))) != 0) {
		close(fd);
		return fail("restore: %s: %s", path, why);
	}
	r = open_key("restore", backup_reader_hdr(&rd), passfile, key);
	backup_reader_close(&rd);
	if (r != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		sodium_memzero(key, sizeof(key));
		return r != 0 ? r : fail("restore: cannot read %s again", path);
	}
	client_request(&e, CTL_RESTORE);
	client_put_req_id(&e);
	wire_put_bytes(&e, T_BACKUP_KEY, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	if (advertise != NULL)
		wire_put_str(&e, T_ADVERTISE_ADDR, advertise);
	if (have_listen)
		wire_put_str(&e, T_LISTEN_ADDR, listen_addr);
	copts.fd = fd;
	r = client_call_opts(ctl->socket, "restore", &e, &rep, &copts);
	wire_enc_free(&e);
	close(fd);
	if (r != 0)
		return EXIT_FAIL;
	wire_get_str(rep.msg, T_NODE_ID, node, sizeof(node));
	wire_get_str(rep.msg, T_CLUSTER_ID, cluster, sizeof(cluster));
	wire_get_u64(rep.msg, T_STORE_SECRETS, &secrets);
	wire_get_u64(rep.msg, T_STORE_SERVICES, &services);
	wire_get_u64(rep.msg, T_STORE_NODES, &nodes);
	wire_get_u64(rep.msg, T_RAFT_INDEX, &index);
	printf("Cluster %s restored from %s: this node (%s) is its only manager.\n"
	    "It holds %llu secrets, %llu services and %llu nodes, as of raft index %llu "
	    "of the old cluster.\n", cluster, path, node, (unsigned long long)secrets,
	    (unsigned long long)services, (unsigned long long)nodes,
	    (unsigned long long)index);
	for (size_t i = 0; i < wire_count(rep.msg, T_PEER_ID); i++)
		if (wire_field_str(wire_find(rep.msg, T_PEER_ID, i), id, sizeof(id)) == 0)
			printf("removed manager %s\n", id);
	printf("\nWorkers reconnect if this node took an old manager's address; others "
	    "join again\nwith 'hushctl join-token worker'.  The join tokens and the unlock "
	    "key are the backup's.\n");
	reply_free(&rep);
	return EXIT_OK;
}

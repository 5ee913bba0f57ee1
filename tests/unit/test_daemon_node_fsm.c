/*
 * Unit tests for daemon/parent/node_fsm.c, driven through the parent's
 * own code: every (state, event) pair, for a manager and for a worker,
 * against a table written out here by hand from the diagram in node_fsm.c
 * (not derived from the code's table); what entering a state does to the
 * state dir and the keyring; and a restart of each child in every state
 * (lifecycle_child_started, cluster_child_started: what the supervisor
 * calls after a spawn).  No child process runs: their pids are 0, so
 * whatever the entry actions would send a child is refused, as it is in
 * hushd while that child is being restarted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "keyring.h"
#include "mounter/mounter.h"
#include "net/net.h"
#include "parent/parent.h"
#include "pki/pki.h"
#include "raft/raft_proc.h"

/* What an event does in a state: X refused, S stays, else the new state. */
#define X	(-1)
#define S	(-2)

static const int manager_table[NE_COUNT][PS_COUNT] = {
	/* columns: BOOTING UNINITIALIZED INITIALIZING LOCKED STARTING READY DEGRADED */
	[NE_BOOT_EMPTY]    = { PS_UNINITIALIZED, X, X, X, X, X, X },
	[NE_BOOT_SEALED]   = { PS_LOCKED, X, X, X, X, X, X },
	[NE_KEYS_LOADED]   = { PS_STARTING, X, X, PS_STARTING, X, X, X },
	[NE_SETUP_BEGIN]   = { X, PS_INITIALIZING, X, X, X, X, X },
	[NE_SETUP_FAILED]  = { X, X, PS_UNINITIALIZED, X, X, X, X },
	[NE_SETUP_DONE]    = { X, X, PS_STARTING, X, X, X, X },
	[NE_STORE_UP]      = { X, S, S, S, PS_READY, S, S },
	[NE_STORE_DOWN]    = { X, S, S, S, S, PS_STARTING, S },
	[NE_STORE_DAMAGED] = { X, S, S, S, PS_DEGRADED, PS_DEGRADED, S },
	[NE_REPAIR]        = { X, X, X, X, PS_STARTING, PS_STARTING, PS_STARTING },
	[NE_PROMOTED]      = { X, X, X, X, X, PS_STARTING, X },
	[NE_DEMOTED]       = { X, X, X, X, PS_READY, PS_READY, PS_READY },
	[NE_LEFT]          = { X, X, X, PS_UNINITIALIZED, PS_UNINITIALIZED, PS_UNINITIALIZED,
	    PS_UNINITIALIZED },
};

/* A worker keeps no store: where a manager would wait for one, it is READY. */
static int
worker_expect(enum node_event ev, int st)
{
	if (ev == NE_KEYS_LOADED && manager_table[ev][st] == PS_STARTING)
		return PS_READY;
	if (ev == NE_SETUP_DONE && st == PS_INITIALIZING)
		return PS_READY;
	if (ev == NE_STORE_DOWN && st == PS_READY)
		return S;
	return manager_table[ev][st];
}

static struct parent P;
static char dir[64];

static void
put_file(const char *rel)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static bool
exists(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return access(path, F_OK) == 0;
}

static bool
in_keyring(const char *desc)
{
	struct secbuf b = SECBUF_INIT;
	bool found = keyring_get(desc, &b) == 0;

	secbuf_free(&b);
	return found;
}

/* A node of the given role in state st, its files and keys in place. */
static struct parent *
node_in(enum parent_state st, enum node_role role)
{
	struct parent *p = &P;

	memset(p, 0, sizeof(*p));
	snprintf(p->cfg.state_dir, sizeof(p->cfg.state_dir), "%s", dir);
	p->listen_fd = p->sig_fd = p->lock_fd = p->containers.run_fd = p->timer_fd = -1;
	p->containers.loaded = true;	/* no run dir here */
	child_init(&p->pki, &pki_child);
	child_init(&p->raft, &raft_child);
	child_init(&p->net, &net_child);
	child_init(&p->mounter, &mounter_child);
	p->state = st;
	p->node.role = role;
	p->node.initialized = st != PS_BOOTING && st != PS_UNINITIALIZED;
	snprintf(p->node.node_id, sizeof(p->node.node_id), "node1");
	put_file("node.json");
	put_file("node.keys");
	put_file("certificates/node.crt");
	put_file("raft/1-2");
	assert_int_equal(keyring_put(KEY_DEK, "0123456789abcdef0123456789abcdef", 32), 0);
	assert_int_equal(keyring_put(KEY_NODE, "node key", 8), 0);
	assert_int_equal(keyring_put(KEY_SEAL, "seal key", 8), 0);
	if (st == PS_DEGRADED)
		snprintf(p->store.health, sizeof(p->store.health), "degraded: test");
	return p;
}

static void
check_pairs(enum node_role role)
{
	for (int ev = 0; ev < NE_COUNT; ev++) {
		for (int st = 0; st < PS_COUNT; st++) {
			struct parent *p = node_in((enum parent_state)st, role);
			int want = role == ROLE_MANAGER ? manager_table[ev][st] :
			    worker_expect((enum node_event)ev, st);
			int r = node_event(p, (enum node_event)ev);

			if (want == X) {
				assert_int_equal(r, HUSH_E_INVAL);
				assert_int_equal(p->state, st);
			} else {
				assert_int_equal(r, 0);
				assert_int_equal(p->state, want == S ? st : want);
			}
			assert_int_equal(node_next_state(node_in((enum parent_state)st, role),
			    (enum node_event)ev), want == S ? st : want);
		}
	}
}

static void
test_every_pair_manager(void **state)
{
	check_pairs(ROLE_MANAGER);
}

static void
test_every_pair_worker(void **state)
{
	check_pairs(ROLE_WORKER);
}

/* An init whose store came up to commit the cluster is READY at once. */
static void
test_setup_done_with_store_up(void **state)
{
	struct parent *p = node_in(PS_INITIALIZING, ROLE_MANAGER);

	p->store.phase = RAFT_UP;
	assert_int_equal(node_event(p, NE_SETUP_DONE), 0);
	assert_int_equal(p->state, PS_READY);
}

/* Leaving, and a failed init or join: nothing of the cluster remains. */
static void
test_forgetting_the_cluster(void **state)
{
	static const struct { enum parent_state st; enum node_event ev; } ways[] = {
		{ PS_LOCKED, NE_LEFT }, { PS_STARTING, NE_LEFT }, { PS_READY, NE_LEFT },
		{ PS_DEGRADED, NE_LEFT }, { PS_INITIALIZING, NE_SETUP_FAILED },
	};

	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		struct parent *p = node_in(ways[i].st, ROLE_MANAGER);

		p->view.nmanagers = 3;
		p->view.removed_self = true;
		p->settings.autolock = true;
		p->settings.have_digest = true;
		p->store.bootstrap = true;
		assert_int_equal(node_event(p, ways[i].ev), 0);
		assert_int_equal(p->state, PS_UNINITIALIZED);
		assert_false(exists("node.json"));
		assert_false(exists("node.keys"));
		assert_false(exists("certificates/node.crt"));
		assert_false(exists("raft/1-2"));
		assert_false(in_keyring(KEY_DEK));
		assert_false(in_keyring(KEY_NODE));
		assert_false(in_keyring(KEY_SEAL));
		assert_false(p->node.initialized);
		assert_string_equal(p->node.node_id, "");
		assert_int_equal(p->view.nmanagers, 0);
		assert_false(p->view.removed_self);
		assert_false(p->settings.autolock);
		assert_false(p->settings.have_digest);
		assert_false(p->store.bootstrap);
		assert_string_equal(p->store.health, "");
	}
}

/* A boot that finds no node.json must not touch anything on disk. */
static void
test_boot_deletes_nothing(void **state)
{
	struct parent *p = node_in(PS_BOOTING, ROLE_MANAGER);

	assert_int_equal(node_event(p, NE_BOOT_EMPTY), 0);
	assert_int_equal(p->state, PS_UNINITIALIZED);
	assert_true(exists("node.json"));
	assert_true(exists("raft/1-2"));
	assert_true(in_keyring(KEY_DEK));
}

static void
test_degraded_and_repair(void **state)
{
	struct parent *p = node_in(PS_READY, ROLE_MANAGER);

	p->store.damaged = 3;
	snprintf(p->store.error, sizeof(p->store.error), "raft/1-2: bad checksum at byte 9");
	assert_int_equal(node_event(p, NE_STORE_DAMAGED), 0);
	assert_int_equal(p->state, PS_DEGRADED);
	assert_non_null(strstr(p->store.health, "degraded: raft/1-2: bad checksum at byte 9"));
	/* no other manager was seen: there is no one to repair from */
	assert_non_null(strstr(p->store.health, "this is the only manager"));
	assert_int_equal(node_event(p, NE_REPAIR), 0);
	assert_int_equal(p->state, PS_STARTING);
	assert_string_equal(p->store.health, "");
	assert_string_equal(p->store.error, "");
	assert_int_equal(p->store.damaged, 0);
	/* the raft data is the repair's business: it moves it aside itself */
	assert_true(exists("raft/1-2"));
}

/* A demoted manager drops its copy of the store; its identity stays. */
static void
test_demotion_drops_the_store(void **state)
{
	struct parent *p = node_in(PS_READY, ROLE_WORKER);

	p->store.phase = RAFT_UP;
	assert_int_equal(node_event(p, NE_DEMOTED), 0);
	assert_int_equal(p->state, PS_READY);
	assert_int_equal(p->store.phase, RAFT_IDLE);
	assert_false(exists("raft/1-2"));
	assert_true(exists("node.json"));
	assert_true(exists("node.keys"));
	assert_true(in_keyring(KEY_NODE));
}

/*
 * Each child restarted in each state: only a manager's READY rests on a
 * child (the raft process), and becomes STARTING; the phases the parent
 * keeps of the restarted child start over.
 */
static void
test_restart_in_every_state(void **state)
{
	for (int role = ROLE_MANAGER; role <= ROLE_WORKER; role++) {
		for (int st = 0; st < PS_COUNT; st++) {
			struct parent *p = node_in((enum parent_state)st, (enum node_role)role);
			int want = role == ROLE_MANAGER && st == PS_READY ? PS_STARTING : st;

			p->store.phase = RAFT_UP;
			p->view.net = NET_UP;
			p->settings.ca = PKI_CA_LOADED;
			lifecycle_child_started(p, &p->raft);
			assert_int_equal(p->state, want);
			assert_int_equal(p->store.phase, RAFT_IDLE);
			cluster_child_started(p, &p->net);
			assert_int_equal(p->view.net, NET_IDLE);
			lifecycle_child_started(p, &p->pki);
			assert_int_equal(p->settings.ca, PKI_NO_CA);
			assert_int_equal(p->state, want);
		}
	}
}

/* The control requests each state serves (control.c's W_* columns). */
static void
test_what_each_state_serves(void **state)
{
	static const unsigned want[PS_COUNT] = {
		[PS_BOOTING] = 0, [PS_UNINITIALIZED] = W_UNINIT,
		[PS_INITIALIZING] = W_BUSY, [PS_LOCKED] = W_LOCKED,
		[PS_STARTING] = W_BUSY, [PS_READY] = W_READY, [PS_DEGRADED] = W_DEGRADED,
	};

	for (int st = 0; st < PS_COUNT; st++)
		assert_int_equal(node_serves(node_in((enum parent_state)st, ROLE_MANAGER)),
		    want[st]);
}

static void
test_names(void **state)
{
	for (int st = 0; st < PS_COUNT; st++)
		assert_string_not_equal(node_state_name((enum parent_state)st), "?");
	for (int ev = 0; ev < NE_COUNT; ev++)
		assert_string_not_equal(node_event_name((enum node_event)ev), "?");
	assert_string_equal(node_state_name((enum parent_state)PS_COUNT), "?");
	assert_int_equal(node_next_state(node_in(PS_READY, ROLE_MANAGER),
	    (enum node_event)NE_COUNT), -1);
}

static int
setup(void **state)
{
	char path[PATH_MAX];

	snprintf(dir, sizeof(dir), "/tmp/hush-fsm-XXXXXX");
	if (sodium_init() < 0 || mkdtemp(dir) == NULL || keyring_join_private() != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/certificates", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/raft", dir);
	mkdir(path, 0700);
	snprintf(raft_proc_dir, sizeof(raft_proc_dir), "%s/raft", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_pair_manager),
		cmocka_unit_test(test_every_pair_worker),
		cmocka_unit_test(test_setup_done_with_store_up),
		cmocka_unit_test(test_forgetting_the_cluster),
		cmocka_unit_test(test_boot_deletes_nothing),
		cmocka_unit_test(test_degraded_and_repair),
		cmocka_unit_test(test_demotion_drops_the_store),
		cmocka_unit_test(test_restart_in_every_state),
		cmocka_unit_test(test_what_each_state_serves),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

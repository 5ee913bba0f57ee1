/*
 * A leader that stood still.  A process stopped (SIGSTOP, a frozen VM or
 * container) or starved for longer than an election timeout may have been
 * replaced meanwhile, yet libraft still calls it leader until its own
 * check-quorum runs, and that check may pass once more on contact from
 * before the stall.  For that window the process would answer "leader" and
 * take writes it can no longer commit.  So after a stall of an election
 * timeout or more, in a cluster of more than one voter, its leadership is
 * unconfirmed until a barrier commits in the current term (a quorum still
 * follows it) or, failing that, until two election timeouts have passed
 * with it still leader (libraft's check-quorum has then run with fresh
 * contact).  Meanwhile status does not call it leader and requests are
 * answered "unavailable, retry".
 */
#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "raft_proc.h"

static struct {
	bool			unconfirmed;
	bool			pending;	/* a barrier is out */
	uint64_t		since_ms;	/* when the stall was seen */
	struct raft_barrier	barrier;
} S;

static void
confirmed(struct raft_barrier *req, int status)
{
	S.pending = false;
	if (status == 0 && S.unconfirmed) {
		S.unconfirmed = false;
		log_info("still the raft leader after a stall: a quorum confirmed it");
	}
}

/* Voters in the configuration: with one, no other leader can arise. */
static unsigned
voters(const struct raft *raft)
{
	unsigned n = 0;

	for (unsigned i = 0; i < raft->configuration.n; i++)
		if (raft->configuration.servers[i].role == RAFT_VOTER)
			n++;
	return n;
}

void
stall_seen(struct raft *raft, uint64_t late_ms, uint64_t now_ms)
{
	/*
	 * Shorter than an election timeout, no follower can have started an
	 * election (a busy loop is late by that much under load, and must
	 * not cost a round of refusals); and a lone voter has no rival.
	 */
	if (late_ms < raft->election_timeout || raft_state(raft) != RAFT_LEADER ||
	    voters(raft) <= 1)
		return;
	if (!S.unconfirmed)
		log_info("this process stood still as raft leader: confirming that "
		    "it still leads before it answers as leader");
	S.unconfirmed = true;
	S.since_ms = now_ms;
	if (!S.pending && raft_barrier(raft, &S.barrier, confirmed) == 0)
		S.pending = true;
}

bool
stall_unconfirmed(struct raft *raft, uint64_t now_ms)
{
	if (!S.unconfirmed)
		return false;
	if (raft_state(raft) != RAFT_LEADER) {
		S.unconfirmed = false;	/* it stepped down: nothing to confirm */
		return false;
	}
	if (now_ms - S.since_ms > 2u * raft->election_timeout + 50) {
		S.unconfirmed = false;
		return false;
	}
	return true;
}

/*
 * Admission of unauthenticated inbound connections: who may start a TLS
 * handshake or a join, and for how long, so that strangers cost bounded
 * memory and CPU and can never keep the cluster's own members, or a
 * legitimate join, from being served.
 *
 * Every connection we accept is counted against its *source*: an IPv4
 * address, or the /64 of an IPv6 one (one host usually holds a whole /64).
 * Until it authenticates (a verified certificate) or its join is accepted,
 * it holds a slot in one of two pools:
 *
 *   known     sources that have proven themselves: a peer that presented a
 *             certificate of this cluster, an address whose join was
 *             accepted, a manager address the parent told us to dial.
 *             NET_HS_KNOWN slots that strangers can never take.
 *   stranger  everyone else: NET_HS_STRANGERS slots.
 *
 * In either pool one source holds at most NET_HS_PER_SOURCE slots.  Once
 * NET_HS_EARLY stranger slots are in use, a source's second and later
 * connections are refused at random, more often as the pool fills (OpenSSH
 * MaxStartups "start:rate:full", here 16:30:64), while a source's first
 * connection is never dropped early.  A full pool does not refuse a source
 * that holds fewer slots than another: the newcomer takes the slot of the
 * source that holds the most (max-min fairness).  Failing that, sock.c gives
 * it the slot of the oldest connection that has had NET_HS_STALE_MS and
 * still not authenticated (a real peer needs a few round trips), so even an
 * attacker with one address per slot keeps a newcomer out only by being
 * faster than it, and is soon penalised.
 *
 * Penalties (OpenSSH PerSourcePenalties): a stranger that idles until its
 * deadline, stalls its handshake, sends something that is not a hush TLS
 * handshake, or hangs up before authenticating is charged some seconds;
 * once its charge passes NET_PEN_MIN_MS it is refused outright until the
 * charge runs out.  The charge drains at one second a second, so a source
 * that fails now and then is never refused.  Known sources are never
 * penalised: their pool and the per-source limit bound them instead.
 *
 * Tables are fixed-size: NET_SRC_MAX sources (those holding slots, and
 * those with a charge; when full, the charge that ends soonest is
 * forgotten) and NET_KNOWN_MAX known addresses (the least recently seen is
 * forgotten).  The source table is hashed with a random SipHash key, so
 * nobody can choose addresses that collide.
 *
 * This file decides; it never touches a socket, and time and randomness
 * are arguments, so tests/unit/test_daemon_net.c drives it directly.
 */
#ifndef HUSH_NET_ADMIT_H
#define HUSH_NET_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* How long a slot is held: unauthenticated inbound connections only. */
#define NET_FIRST_BYTE_MS	2000	/* accept to the first byte */
#define NET_HS_INBOUND_MS	5000	/* accept to a finished handshake */
#define NET_JOIN_REQUEST_MS	5000	/* join: handshake to the request */
#define NET_HS_STALE_MS		1000	/* older, in a full pool: evicted first */

#define NET_HS_STRANGERS	64	/* unauthenticated slots for strangers */
#define NET_HS_KNOWN		32	/* more, only for known sources */
#define NET_HS_MAX		(NET_HS_STRANGERS + NET_HS_KNOWN)
#define NET_HS_PER_SOURCE	8	/* slots one source may hold, per pool */
#define NET_HS_EARLY		16	/* random early drop from here... */
#define NET_HS_EARLY_PCT	30	/* ...at this rate, rising to 100 % when full */
#define NET_SRC_MAX		1024	/* sources with slots or a charge */
#define NET_SRC_BUCKETS		2048
#define NET_KNOWN_MAX		256	/* addresses of proven members */

/* Charges, ms; a stranger is refused once its charge passes NET_PEN_MIN_MS. */
#define NET_PEN_IDLE_MS		10000	/* silent until its deadline */
#define NET_PEN_SLOW_MS		10000	/* handshake not done in time */
#define NET_PEN_BAD_MS		5000	/* not a hush handshake, or a refused join */
#define NET_PEN_EOF_MS		1000	/* hung up before authenticating */
#define NET_PEN_MIN_MS		15000
#define NET_PEN_MAX_MS		(10 * 60000)

/*
 * The log: up to NET_ADMIT_LOG_BURST lines about single connections per
 * NET_ADMIT_REPORT_MS; past that, or once anything is refused, one line to
 * say so, a summary after NET_ADMIT_REPORT_MS and then at doubling
 * intervals up to NET_ADMIT_REPORT_MAX_MS, and one line once nothing has
 * happened for NET_ADMIT_QUIET_MS.
 */
#define NET_ADMIT_LOG_BURST	5
#define NET_ADMIT_REPORT_MS	30000
#define NET_ADMIT_REPORT_MAX_MS	(10 * 60000)
#define NET_ADMIT_QUIET_MS	30000

/* IPv4 address or IPv6 /64; an IPv4-mapped IPv6 address is its IPv4 one. */
struct admit_key {
	uint8_t	fam;		/* 4 or 6; 0 for anything else (all one source) */
	uint8_t	b[8];
};

enum admit_pool { POOL_STRANGER, POOL_KNOWN, POOL_N };

enum admit_verdict {
	ADMIT_OK,
	ADMIT_EVICT,		/* admit, after closing one of the victim's slots */
	ADMIT_PENALISED,
	ADMIT_SOURCE_FULL,	/* this source holds NET_HS_PER_SOURCE already */
	ADMIT_EARLY_DROP,
	ADMIT_POOL_FULL,
	ADMIT_NVERDICTS
};

/* Why an unauthenticated connection ended, for its source's charge. */
enum admit_fault {
	FAULT_NONE,		/* authenticated, joined, or ended by us */
	FAULT_IDLE,
	FAULT_SLOW,
	FAULT_BAD,
	FAULT_EOF,
	FAULT_N
};

struct admit_src {
	struct admit_key key;
	int32_t		 next;		/* bucket chain or free list, -1 ends */
	bool		 used;
	uint16_t	 n[POOL_N];	/* slots held */
	uint64_t	 charge_until;	/* ms; the charge is charge_until - now */
	bool		 penalised;	/* refused until charge_until */
	uint32_t	 refused;	/* since the last report */
};

struct admit_stats {
	uint64_t	 accepted;
	uint64_t	 verdicts[ADMIT_NVERDICTS];
	uint64_t	 faults[FAULT_N];
	uint64_t	 new_penalties;
	uint64_t	 forgotten;	/* charges dropped for room in the table */
	uint64_t	 unlogged;	/* per-connection lines left out */
};

struct admit {
	uint8_t		 hashkey[16];
	struct admit_src src[NET_SRC_MAX];
	int32_t		 bucket[NET_SRC_BUCKETS];
	int32_t		 free_list;
	size_t		 nsrc;
	unsigned	 used[POOL_N];
	struct admit_key known[NET_KNOWN_MAX];
	uint64_t	 known_seen[NET_KNOWN_MAX];
	size_t		 nknown;
	/* the log */
	struct admit_stats st;		/* this report period */
	uint64_t	 limiting_since;	/* ms, 0 = not limiting */
	uint64_t	 last_event;	/* ms: the last refusal, eviction or failure */
	uint64_t	 period_start, next_report, report_every;
	uint64_t	 refused_total;	/* while limiting */
	unsigned	 lines_left;
	uint64_t	 lines_refill;	/* ms: a new allowance from then */
};

/* Empty tables and a fresh hash key (libsodium must be initialised). */
void	admit_init(struct admit *a);
void	admit_key_from_sockaddr(const struct sockaddr *sa, socklen_t len,
	    struct admit_key *k);
/* "10.0.0.1", "2001:db8:1:2::/64" */
void	admit_key_string(const struct admit_key *k, char *buf, size_t len);
bool	admit_key_equal(const struct admit_key *x, const struct admit_key *y);
bool	admit_is_known(const struct admit *a, const struct admit_key *k);
/* The source proved itself: room in the known pool, no more charges. */
void	admit_learn(struct admit *a, const struct admit_key *k, uint64_t now);

/*
 * May a new connection from k start?  *pool says which pool it would use;
 * for ADMIT_EVICT, *victim is the source to take a slot from (the caller
 * closes one of its connections in *pool and calls admit_release() for it,
 * or refuses the newcomer with ADMIT_POOL_FULL if it has none to give).
 * pct is a uniformly random number below 100, for the early drop.  Changes
 * nothing.
 */
enum admit_verdict admit_decide(const struct admit *a, const struct admit_key *k,
	    uint64_t now, uint32_t pct, enum admit_pool *pool, struct admit_key *victim);
/* Count an admitted connection; 0, or HUSH_E_NOMEM if the table cannot hold it. */
int	admit_take(struct admit *a, const struct admit_key *k, enum admit_pool pool,
	    uint64_t now);
/* For the log: a verdict other than ADMIT_OK; for ADMIT_EVICT, k is the victim. */
void	admit_note(struct admit *a, const struct admit_key *k, enum admit_verdict v,
	    uint64_t now);
/* A slot is given back; fault charges a stranger. */
void	admit_release(struct admit *a, const struct admit_key *k, enum admit_pool pool,
	    enum admit_fault fault, uint64_t now);
/* Is k refused right now?  (Also ends a charge that has run out.) */
bool	admit_penalised(struct admit *a, const struct admit_key *k, uint64_t now);
/* Slots in use in pool; held by k in pool. */
unsigned admit_used(const struct admit *a, enum admit_pool pool);
unsigned admit_held(const struct admit *a, const struct admit_key *k, enum admit_pool pool);
/*
 * May one more line about one unauthenticated connection be logged?  Past
 * NET_ADMIT_LOG_BURST a period, no: the summary counts what was left out.
 */
bool	admit_log_ok(struct admit *a, uint64_t now);
/* Log the summary when due; the next time it is due (ms), or 0. */
uint64_t admit_timer(struct admit *a, uint64_t now);
const char *admit_verdict_string(enum admit_verdict v);

#endif

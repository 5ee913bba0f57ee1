/*
 * Admission of unauthenticated connections: the per-source table, the two
 * pools, early drop, fair eviction, penalties, and the log that says what
 * happens in a few lines however many connections it happens to.  The
 * policy is described in admit.h; sock.c asks, conn.c and handshake.c
 * report how each connection ended.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "admit.h"
#include "err.h"
#include "log.h"

static const char *const verdict_names[ADMIT_NVERDICTS] = {
	[ADMIT_OK] = "admitted",
	[ADMIT_EVICT] = "admitted in place of the busiest source",
	[ADMIT_PENALISED] = "refused: the source is penalised",
	[ADMIT_SOURCE_FULL] = "refused: over the per-source limit",
	[ADMIT_EARLY_DROP] = "dropped early",
	[ADMIT_POOL_FULL] = "refused: no room",
};

static const char *const fault_names[FAULT_N] = {
	[FAULT_NONE] = "",
	[FAULT_IDLE] = "silent until its deadline",
	[FAULT_SLOW] = "a handshake too slow",
	[FAULT_BAD] = "not a hush handshake, or a refused join",
	[FAULT_EOF] = "hung up before authenticating",
};

static const uint32_t fault_cost[FAULT_N] = {
	[FAULT_NONE] = 0,
	[FAULT_IDLE] = NET_PEN_IDLE_MS,
	[FAULT_SLOW] = NET_PEN_SLOW_MS,
	[FAULT_BAD] = NET_PEN_BAD_MS,
	[FAULT_EOF] = NET_PEN_EOF_MS,
};

const char *
admit_verdict_string(enum admit_verdict v)
{
	return (unsigned)v < ADMIT_NVERDICTS ? verdict_names[v] : "?";
}

void
admit_init(struct admit *a)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	crypto_shorthash_keygen(a->hashkey);
	for (i = 0; i < NET_SRC_BUCKETS; i++)
		a->bucket[i] = -1;
	for (i = 0; i < NET_SRC_MAX; i++)
		a->src[i].next = i + 1 < NET_SRC_MAX ? (int32_t)(i + 1) : -1;
	a->free_list = 0;
	a->lines_left = NET_ADMIT_LOG_BURST;
}

/* ---- keys -------------------------------------------------------------------- */

void
admit_key_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct admit_key *k)
{
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*s4)) {
		s4 = (const struct sockaddr_in *)sa;
		k->fam = 4;
		memcpy(k->b, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(*s6)) {
		s6 = (const struct sockaddr_in6 *)sa;
		/* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			k->fam = 4;
			memcpy(k->b, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			k->fam = 6;
			memcpy(k->b, s6->sin6_addr.s6_addr, 8);
		}
	}
}

void
admit_key_string(const struct admit_key *k, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	uint8_t a6[16];

	if (k->fam == 4 && inet_ntop(AF_INET, k->b, ip, sizeof(ip)) != NULL) {
		snprintf(buf, len, "%s", ip);
		return;
	}
	if (k->fam == 6) {
		memset(a6, 0, sizeof(a6));
		memcpy(a6, k->b, 8);
		if (inet_ntop(AF_INET6, a6, ip, sizeof(ip)) != NULL) {
			snprintf(buf, len, "%s/64", ip);
			return;
		}
	}
	snprintf(buf, len, "an unknown address");
}

bool
admit_key_equal(const struct admit_key *x, const struct admit_key *y)
{
	return x->fam == y->fam && memcmp(x->b, y->b, sizeof(x->b)) == 0;
}

static size_t
key_bucket(const struct admit *a, const struct admit_key *k)
{
	uint8_t in[1 + sizeof(k->b)], h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	size_t i;

	in[0] = k->fam;
	memcpy(in + 1, k->b, sizeof(k->b));
	crypto_shorthash(h, in, sizeof(in), a->hashkey);
	for (i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	return (size_t)(v % NET_SRC_BUCKETS);
}

/* ---- the source table -------------------------------------------------------- */

static int32_t
src_index(const struct admit *a, const struct admit_key *k)
{
	int32_t i;

	for (i = a->bucket[key_bucket(a, k)]; i >= 0; i = a->src[i].next)
		if (admit_key_equal(&a->src[i].key, k))
			return i;
	return -1;
}

static struct admit_src *
src_find(struct admit *a, const struct admit_key *k)
{
	int32_t i = src_index(a, k);

	return i >= 0 ? &a->src[i] : NULL;
}

static const struct admit_src *
src_find_c(const struct admit *a, const struct admit_key *k)
{
	int32_t i = src_index(a, k);

	return i >= 0 ? &a->src[i] : NULL;
}

static void
src_remove(struct admit *a, int32_t idx)
{
	struct admit_src *s = &a->src[idx];
	int32_t *pp;

	for (pp = &a->bucket[key_bucket(a, &s->key)]; *pp >= 0; pp = &a->src[*pp].next) {
		if (*pp == idx) {
			*pp = s->next;
			break;
		}
	}
	memset(s, 0, sizeof(*s));
	s->next = a->free_list;
	a->free_list = idx;
	a->nsrc--;
}

static bool
src_idle(const struct admit_src *s)
{
	return s->n[POOL_STRANGER] == 0 && s->n[POOL_KNOWN] == 0;
}

/* An entry that holds no slot and no charge has nothing to remember. */
static void
src_maybe_free(struct admit *a, struct admit_src *s, uint64_t now)
{
	if (src_idle(s) && s->charge_until <= now)
		src_remove(a, (int32_t)(s - a->src));
}

/*
 * Room for one more: forget the idle entry whose charge ends first (one
 * that has run out, if any).  Entries holding slots are at most NET_HS_MAX,
 * far below NET_SRC_MAX, so there is always one to forget.
 */
static bool
src_make_room(struct admit *a, uint64_t now)
{
	int32_t i, best = -1;

	for (i = 0; i < NET_SRC_MAX; i++) {
		if (!a->src[i].used || !src_idle(&a->src[i]))
			continue;
		if (best < 0 || a->src[i].charge_until < a->src[best].charge_until)
			best = i;
	}
	if (best < 0)
		return false;
	if (a->src[best].charge_until > now)
		a->st.forgotten++;
	src_remove(a, best);
	return true;
}

static struct admit_src *
src_get(struct admit *a, const struct admit_key *k, uint64_t now)
{
	struct admit_src *s;
	size_t b;
	int32_t i;

	if ((s = src_find(a, k)) != NULL)
		return s;
	if (a->free_list < 0 && !src_make_room(a, now))
		return NULL;
	i = a->free_list;
	s = &a->src[i];
	a->free_list = s->next;
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->key = *k;
	b = key_bucket(a, k);
	s->next = a->bucket[b];
	a->bucket[b] = i;
	a->nsrc++;
	return s;
}

/* ---- known sources ------------------------------------------------------------ */

static ssize_t
known_index(const struct admit *a, const struct admit_key *k)
{
	size_t i;

	for (i = 0; i < a->nknown; i++)
		if (admit_key_equal(&a->known[i], k))
			return (ssize_t)i;
	return -1;
}

bool
admit_is_known(const struct admit *a, const struct admit_key *k)
{
	return k->fam != 0 && known_index(a, k) >= 0;
}

void
admit_learn(struct admit *a, const struct admit_key *k, uint64_t now)
{
	struct admit_src *s;
	ssize_t i;
	size_t j, oldest;

	/* Not an address we could tell apart from any other. */
	if (k->fam == 0)
		return;
	if ((i = known_index(a, k)) < 0) {
		if (a->nknown < NET_KNOWN_MAX) {
			i = (ssize_t)a->nknown++;
		} else {
			for (oldest = 0, j = 1; j < a->nknown; j++)
				if (a->known_seen[j] < a->known_seen[oldest])
					oldest = j;
			i = (ssize_t)oldest;
		}
		a->known[i] = *k;
	}
	a->known_seen[i] = now;
	/* Proven: whatever it was charged as a stranger no longer counts. */
	if ((s = src_find(a, k)) != NULL) {
		s->charge_until = 0;
		s->penalised = false;
		src_maybe_free(a, s, now);
	}
}

/* ---- decisions ------------------------------------------------------------------ */

static bool
src_penalised(const struct admit_src *s, uint64_t now)
{
	return s != NULL && s->penalised && s->charge_until > now;
}

static const struct admit_src *
busiest(const struct admit *a, enum admit_pool pool)
{
	const struct admit_src *best = NULL;
	size_t i;

	for (i = 0; i < NET_SRC_MAX; i++)
		if (a->src[i].used && a->src[i].n[pool] > 0 &&
		    (best == NULL || a->src[i].n[pool] > best->n[pool]))
			best = &a->src[i];
	return best;
}

enum admit_verdict
admit_decide(const struct admit *a, const struct admit_key *k, uint64_t now, uint32_t pct,
    enum admit_pool *pool, struct admit_key *victim)
{
	const struct admit_src *s = src_find_c(a, k), *v;
	unsigned mine, used, cap, drop;

	*pool = admit_is_known(a, k) ? POOL_KNOWN : POOL_STRANGER;
	if (*pool == POOL_STRANGER && src_penalised(s, now))
		return ADMIT_PENALISED;
	mine = s != NULL ? s->n[*pool] : 0;
	if (mine >= NET_HS_PER_SOURCE)
		return ADMIT_SOURCE_FULL;
	used = a->used[*pool];
	cap = *pool == POOL_KNOWN ? NET_HS_KNOWN : NET_HS_STRANGERS;
	if (used < cap) {
		/* A source's first connection is never dropped early. */
		if (*pool == POOL_STRANGER && mine > 0 && used >= NET_HS_EARLY) {
			drop = NET_HS_EARLY_PCT + (100 - NET_HS_EARLY_PCT) *
			    (used - NET_HS_EARLY) / (cap - NET_HS_EARLY);
			if (pct < drop)
				return ADMIT_EARLY_DROP;
		}
		return ADMIT_OK;
	}
	/* Full: a slot goes from whoever holds the most to whoever holds fewer. */
	if ((v = busiest(a, *pool)) != NULL && v->n[*pool] >= mine + 2) {
		*victim = v->key;
		return ADMIT_EVICT;
	}
	return ADMIT_POOL_FULL;
}

int
admit_take(struct admit *a, const struct admit_key *k, enum admit_pool pool, uint64_t now)
{
	struct admit_src *s;

	if ((s = src_get(a, k, now)) == NULL)
		return HUSH_E_NOMEM;
	if (s->penalised && s->charge_until <= now)
		s->penalised = false;
	s->n[pool]++;
	a->used[pool]++;
	a->st.accepted++;
	return 0;
}

/* ---- the log -------------------------------------------------------------------- */

/*
 * Something is being limited.  The first time, say so; then a summary after
 * NET_ADMIT_REPORT_MS, and at doubling intervals up to NET_ADMIT_REPORT_MAX_MS
 * while it lasts; and one line when nothing has happened for
 * NET_ADMIT_QUIET_MS.  Meanwhile no line per connection: they are counted.
 */
static void
alarm_on(struct admit *a, uint64_t now, const struct admit_key *k, const char *what)
{
	char addr[INET6_ADDRSTRLEN + 8];

	a->last_event = now;
	if (a->limiting_since != 0)
		return;
	a->limiting_since = now;
	a->report_every = NET_ADMIT_REPORT_MS;
	a->next_report = now + a->report_every;
	a->period_start = now;
	a->refused_total = 0;
	if (k == NULL) {
		log_warn("unauthenticated connections: more than %d failed within %d s; "
		    "from now on a summary says what happens to them", NET_ADMIT_LOG_BURST,
		    NET_ADMIT_REPORT_MS / 1000);
		return;
	}
	admit_key_string(k, addr, sizeof(addr));
	log_warn("unauthenticated connections are being limited (%s: %s); from now on "
	    "a summary says what happens to them", addr, what);
}

static void
charge(struct admit *a, struct admit_src *s, enum admit_fault f, uint64_t now)
{
	char what[100];

	if (s->charge_until < now)
		s->charge_until = now;
	s->charge_until += fault_cost[f];
	if (s->charge_until > now + NET_PEN_MAX_MS)
		s->charge_until = now + NET_PEN_MAX_MS;
	if (!s->penalised && s->charge_until - now > NET_PEN_MIN_MS) {
		s->penalised = true;
		a->st.new_penalties++;
		snprintf(what, sizeof(what), "penalised: %s", fault_names[f]);
		alarm_on(a, now, &s->key, what);
	}
}

void
admit_release(struct admit *a, const struct admit_key *k, enum admit_pool pool,
    enum admit_fault fault, uint64_t now)
{
	struct admit_src *s;

	if (a->used[pool] > 0)
		a->used[pool]--;
	if ((s = src_find(a, k)) == NULL)
		return;
	if (s->n[pool] > 0)
		s->n[pool]--;
	if ((unsigned)fault < FAULT_N && fault != FAULT_NONE) {
		a->st.faults[fault]++;
		if (a->limiting_since != 0)
			a->last_event = now;
		if (!admit_is_known(a, k))
			charge(a, s, fault, now);
	}
	src_maybe_free(a, s, now);
}

bool
admit_penalised(struct admit *a, const struct admit_key *k, uint64_t now)
{
	struct admit_src *s = src_find(a, k);

	if (s == NULL || !s->penalised)
		return false;
	if (s->charge_until > now)
		return true;
	s->penalised = false;
	src_maybe_free(a, s, now);
	return false;
}

unsigned
admit_used(const struct admit *a, enum admit_pool pool)
{
	return a->used[pool];
}

unsigned
admit_held(const struct admit *a, const struct admit_key *k, enum admit_pool pool)
{
	const struct admit_src *s = src_find_c(a, k);

	return s != NULL ? s->n[pool] : 0;
}

void
admit_note(struct admit *a, const struct admit_key *k, enum admit_verdict v, uint64_t now)
{
	struct admit_src *s;

	if ((unsigned)v >= ADMIT_NVERDICTS || v == ADMIT_OK)
		return;
	a->st.verdicts[v]++;
	if (v != ADMIT_EVICT) {
		a->refused_total++;
		if ((s = src_find(a, k)) != NULL)
			s->refused++;
	}
	alarm_on(a, now, k, admit_verdict_string(v));
}

bool
admit_log_ok(struct admit *a, uint64_t now)
{
	if (a->limiting_since == 0) {
		/* A fresh allowance each period. */
		if (now >= a->lines_refill) {
			a->lines_left = NET_ADMIT_LOG_BURST;
			a->lines_refill = now + NET_ADMIT_REPORT_MS;
		}
		if (a->lines_left > 0) {
			a->lines_left--;
			return true;
		}
	}
	a->st.unlogged++;
	alarm_on(a, now, NULL, NULL);
	return false;
}

static bool
period_quiet(const struct admit_stats *st)
{
	uint64_t n = st->new_penalties + st->unlogged;
	size_t i;

	for (i = 0; i < ADMIT_NVERDICTS; i++)
		if (i != ADMIT_OK)
			n += st->verdicts[i];
	for (i = 0; i < FAULT_N; i++)
		n += st->faults[i];
	return n == 0;
}

static void
report(struct admit *a, uint64_t now)
{
	const struct admit_stats *st = &a->st;
	const struct admit_src *top = NULL;
	char addr[INET6_ADDRSTRLEN + 8], more[64];
	size_t i, npen = 0;

	for (i = 0; i < NET_SRC_MAX; i++) {
		if (!a->src[i].used)
			continue;
		if (src_penalised(&a->src[i], now))
			npen++;
		if (a->src[i].refused > 0 && (top == NULL || a->src[i].refused > top->refused))
			top = &a->src[i];
	}
	if (top != NULL)
		admit_key_string(&top->key, addr, sizeof(addr));
	more[0] = '\0';
	if (st->unlogged > 0)
		snprintf(more, sizeof(more), "; %llu lines left out",
		    (unsigned long long)st->unlogged);
	log_warn("unauthenticated connections, last %d s: %llu admitted, %llu refused "
	    "(%llu from penalised sources, %llu over the per-source limit, %llu dropped "
	    "early, %llu with no room), %llu evicted; ended %llu silent, %llu too slow, "
	    "%llu bad, %llu hung up; %zu sources penalised (%llu new%s); busiest: %s "
	    "(%u refused)%s",
	    (int)((now - a->period_start) / 1000),
	    (unsigned long long)st->accepted,
	    (unsigned long long)(st->verdicts[ADMIT_PENALISED] + st->verdicts[ADMIT_SOURCE_FULL] +
	    st->verdicts[ADMIT_EARLY_DROP] + st->verdicts[ADMIT_POOL_FULL]),
	    (unsigned long long)st->verdicts[ADMIT_PENALISED],
	    (unsigned long long)st->verdicts[ADMIT_SOURCE_FULL],
	    (unsigned long long)st->verdicts[ADMIT_EARLY_DROP],
	    (unsigned long long)st->verdicts[ADMIT_POOL_FULL],
	    (unsigned long long)st->verdicts[ADMIT_EVICT],
	    (unsigned long long)st->faults[FAULT_IDLE],
	    (unsigned long long)st->faults[FAULT_SLOW],
	    (unsigned long long)st->faults[FAULT_BAD],
	    (unsigned long long)st->faults[FAULT_EOF],
	    npen, (unsigned long long)st->new_penalties,
	    st->forgotten > 0 ? "; the table was full and some charges were forgotten" : "",
	    top != NULL ? addr : "none", top != NULL ? top->refused : 0, more);
}

static void
period_reset(struct admit *a, uint64_t now)
{
	size_t i;

	memset(&a->st, 0, sizeof(a->st));
	for (i = 0; i < NET_SRC_MAX; i++)
		a->src[i].refused = 0;
	a->period_start = now;
}

uint64_t
admit_timer(struct admit *a, uint64_t now)
{
	uint64_t quiet;

	if (a->limiting_since == 0)
		return 0;
	quiet = a->last_event + NET_ADMIT_QUIET_MS;
	if (now >= quiet) {
		if (!period_quiet(&a->st))
			report(a, now);
		log_info("unauthenticated connections: no longer limited, after %llu s and "
		    "%llu refused", (unsigned long long)((a->last_event - a->limiting_since) /
		    1000), (unsigned long long)a->refused_total);
		a->limiting_since = 0;
		a->lines_left = NET_ADMIT_LOG_BURST;
		a->lines_refill = now + NET_ADMIT_REPORT_MS;
		period_reset(a, now);
		return 0;
	}
	if (now >= a->next_report) {
		report(a, now);
		period_reset(a, now);
		if ((a->report_every *= 2) > NET_ADMIT_REPORT_MAX_MS)
			a->report_every = NET_ADMIT_REPORT_MAX_MS;
		a->next_report = now + a->report_every;
	}
	return a->next_report < quiet ? a->next_report : quiet;
}

/*
 * storeload --target hush|etcd --op create|update|get|list --clients N
 *           --addr SOCKET|HOST:PORT [--addr ...] [--seconds S] [--warmup S]
 *           [--count N] [--keys K] [--value-size B] [--prefix P] [--tag T]
 *
 * Starts N clients together (a barrier); each sends requests one after
 * the other.  Timed runs discard the first --warmup seconds and count the
 * requests that start within the next --seconds; --count N instead sends
 * exactly N requests in all and counts every one (the scale fill).
 * Clients take the addresses in turn (client i uses addr i mod count), so
 * several sockets spread the load over the nodes that serve them.
 *
 * create names are PREFIX followed by a 9-digit sequence number, unique
 * in a run (two runs need two prefixes); update and get pick at random
 * among PREFIX000000000 .. PREFIX(K-1), which an earlier create run with
 * --count K and the same prefix made.  list is one whole listing (every
 * page).
 *
 * One line on stdout, key=value pairs:
 *   target op clients ops seconds ops_per_s p50_ms p99_ms p999_ms errors
 *   busy_retries [records] [tag]
 * Latency is each request's wall time (CLOCK_MONOTONIC), busy retries
 * included.  Any failed request makes the exit status 1 and is named on
 * stderr (the first one).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storeload.h"

static const char usage[] =
    "usage: storeload --target hush|etcd --op create|update|get|list --clients N\n"
    "                 --addr SOCKET|HOST:PORT [--addr ...] [--seconds S] [--warmup S]\n"
    "                 [--count N] [--keys K] [--value-size B] [--prefix P] [--tag T]\n";

static struct sl_config cfg;
static const struct sl_target_ops *ops;
static const char *tag;
static pthread_barrier_t start_line;
static uint64_t t_start, t_warm_end, t_end;	/* ns, CLOCK_MONOTONIC */
static uint64_t next_index;			/* create: the next name's number */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
note_error(struct sl_client *c, const char *text)
{
	c->errors++;
	if (c->first_err[0] == '\0')
		snprintf(c->first_err, sizeof(c->first_err), "%s", text);
}

static void *
client_main(void *arg)
{
	struct sl_client *c = arg;
	char name[SL_NAME_MAX], err[SL_ERR_MAX];
	uint64_t idx, t0, t1;
	unsigned busy, in_a_row = 0;
	bool counted;
	int r;

	err[0] = '\0';
	r = ops->open(c, err, sizeof(err));
	pthread_barrier_wait(&start_line);
	if (r != 0) {
		note_error(c, err);
		return NULL;
	}
	for (;;) {
		if (cfg.count > 0) {
			if ((idx = __atomic_fetch_add(&next_index, 1, __ATOMIC_RELAXED)) >=
			    cfg.count)
				break;
		} else if (now_ns() >= t_end)
			break;
		else if (cfg.op == OP_CREATE)
			idx = __atomic_fetch_add(&next_index, 1, __ATOMIC_RELAXED);
		else
			idx = cfg.keys > 0 ? xorshift(&c->rng) % cfg.keys : 0;
		snprintf(name, sizeof(name), "%s%09" PRIu64, cfg.prefix, idx);
		/* updates carry new data each time */
		c->value[0]++;
		err[0] = '\0';
		t0 = now_ns();
		r = ops->request(c, name, &busy, err, sizeof(err));
		t1 = now_ns();
		counted = cfg.count > 0 || t0 >= t_warm_end;
		if (r != 0) {
			note_error(c, err);
			if (++in_a_row >= SL_ERRORS_IN_A_ROW) {
				snprintf(err, sizeof(err), "client %u stopped after %u "
				    "failures in a row", c->id, in_a_row);
				note_error(c, err);
				break;
			}
			continue;
		}
		in_a_row = 0;
		if (!counted)
			continue;
		c->ops++;
		c->busy += busy;
		if (sl_lat_add(&c->lat, t1 - t0) != 0) {
			note_error(c, "out of memory for latencies");
			break;
		}
		/* the run lasts until its last counted request is answered */
		if (t1 > c->last_done)
			c->last_done = t1;
	}
	ops->close(c);
	return NULL;
}

static int
parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "storeload: --%s: '%s' is not a number from %" PRIu64
		    " to %" PRIu64 "\n", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_secs(const char *opt, const char *s, double min, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(*out >= min) || *out > 86400) {
		fprintf(stderr, "storeload: --%s: '%s' is not a number of seconds "
		    "from %g\n", opt, s, min);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "op", required_argument, NULL, 'o' },
		{ "clients", required_argument, NULL, 'c' },
		{ "addr", required_argument, NULL, 'a' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "keys", required_argument, NULL, 'k' },
		{ "value-size", required_argument, NULL, 'v' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "tag", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;
	bool have_target = false, have_op = false;

	cfg.seconds = 5;
	cfg.warmup = 1;
	cfg.value_size = 64;
	cfg.prefix = "b";
	cfg.clients = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			have_target = true;
			if (strcmp(optarg, "hush") == 0)
				cfg.target = TARGET_HUSH;
			else if (strcmp(optarg, "etcd") == 0)
				cfg.target = TARGET_ETCD;
			else
				goto bad;
			break;
		case 'o':
			have_op = true;
			if (strcmp(optarg, "create") == 0)
				cfg.op = OP_CREATE;
			else if (strcmp(optarg, "update") == 0)
				cfg.op = OP_UPDATE;
			else if (strcmp(optarg, "get") == 0)
				cfg.op = OP_GET;
			else if (strcmp(optarg, "list") == 0)
				cfg.op = OP_LIST;
			else
				goto bad;
			break;
		case 'c':
			if (parse_u64("clients", optarg, 1, SL_CLIENTS_MAX, &v) != 0)
				return -1;
			cfg.clients = (unsigned)v;
			break;
		case 'a':
			if (cfg.naddrs == SL_ADDRS_MAX) {
				fprintf(stderr, "storeload: at most %d --addr\n", SL_ADDRS_MAX);
				return -1;
			}
			cfg.addrs[cfg.naddrs++] = optarg;
			break;
		case 's':
			if (parse_secs("seconds", optarg, 0.1, &cfg.seconds) != 0)
				return -1;
			break;
		case 'w':
			if (parse_secs("warmup", optarg, 0, &cfg.warmup) != 0)
				return -1;
			break;
		case 'n':
			if (parse_u64("count", optarg, 1, 100000000, &cfg.count) != 0)
				return -1;
			break;
		case 'k':
			if (parse_u64("keys", optarg, 1, 1000000000, &cfg.keys) != 0)
				return -1;
			break;
		case 'v':
			if (parse_u64("value-size", optarg, 1, SL_VALUE_MAX, &v) != 0)
				return -1;
			cfg.value_size = (size_t)v;
			break;
		case 'p':
			cfg.prefix = optarg;
			break;
		case 'g':
			tag = optarg;
			break;
		default:
			goto bad;
		}
	}
	if (optind != argc || !have_target || !have_op || cfg.naddrs == 0)
		goto bad;
	/* names must be valid secret names: keep to [a-z0-9-], short */
	if (strlen(cfg.prefix) == 0 || strlen(cfg.prefix) > 32 ||
	    strspn(cfg.prefix, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(cfg.prefix) || cfg.prefix[0] == '-') {
		fprintf(stderr, "storeload: --prefix: 1 to 32 of a-z, 0-9 and '-', "
		    "not starting with '-'\n");
		return -1;
	}
	if ((cfg.op == OP_UPDATE || cfg.op == OP_GET) && cfg.keys == 0) {
		fprintf(stderr, "storeload: update and get need --keys K (names made "
		    "by an earlier create with --count K)\n");
		return -1;
	}
	return 0;
bad:
	fputs(usage, stderr);
	return -1;
}

static const char *const op_names[] = {
	[OP_CREATE] = "create", [OP_UPDATE] = "update", [OP_GET] = "get", [OP_LIST] = "list",
};

int
main(int argc, char **argv)
{
	struct sl_client *cl;
	struct sl_lat all = { NULL, 0, 0 };
	pthread_t *th;
	uint64_t total_ops = 0, errors = 0, busy = 0, last = 0, records = 0;
	const char *first_err = NULL;
	double secs;
	unsigned i;

	if (parse_args(argc, argv) != 0)
		return 2;
	if (sodium_init() < 0) {
		fprintf(stderr, "storeload: sodium_init failed\n");
		return 1;
	}
	ops = cfg.target == TARGET_HUSH ? &sl_hush : &sl_etcd;
	if ((cl = calloc(cfg.clients, sizeof(*cl))) == NULL ||
	    (th = calloc(cfg.clients, sizeof(*th))) == NULL) {
		fprintf(stderr, "storeload: out of memory\n");
		return 1;
	}
	if (pthread_barrier_init(&start_line, NULL, cfg.clients + 1) != 0) {
		fprintf(stderr, "storeload: pthread_barrier_init failed\n");
		return 1;
	}
	for (i = 0; i < cfg.clients; i++) {
		cl[i].cfg = &cfg;
		cl[i].id = i;
		cl[i].addr = cfg.addrs[i % cfg.naddrs];
		randombytes_buf(&cl[i].rng, sizeof(cl[i].rng));
		cl[i].rng |= 1;
		if ((cl[i].value = malloc(cfg.value_size)) == NULL) {
			fprintf(stderr, "storeload: out of memory\n");
			return 1;
		}
		randombytes_buf(cl[i].value, cfg.value_size);
		if ((errno = pthread_create(&th[i], NULL, client_main, &cl[i])) != 0) {
			fprintf(stderr, "storeload: pthread_create: %s\n", strerror(errno));
			return 1;
		}
	}
	/* every client is connected (etcd) and waiting: the clock starts */
	t_start = now_ns();
	t_warm_end = t_start + (cfg.count > 0 ? 0 : (uint64_t)(cfg.warmup * 1e9));
	t_end = t_warm_end + (uint64_t)(cfg.seconds * 1e9);
	pthread_barrier_wait(&start_line);
	for (i = 0; i < cfg.clients; i++) {
		pthread_join(th[i], NULL);
		total_ops += cl[i].ops;
		errors += cl[i].errors;
		busy += cl[i].busy;
		if (cl[i].last_done > last)
			last = cl[i].last_done;
		if (cl[i].records > records)
			records = cl[i].records;
		if (first_err == NULL && cl[i].first_err[0] != '\0')
			first_err = cl[i].first_err;
		if (sl_lat_merge(&all, &cl[i].lat) != 0) {
			fprintf(stderr, "storeload: out of memory\n");
			return 1;
		}
	}
	sl_lat_sort(&all);
	if (last > t_warm_end)
		secs = (double)(last - t_warm_end) / 1e9;
	else
		secs = cfg.count > 0 ? 0 : cfg.seconds;
	printf("target=%s op=%s clients=%u ops=%" PRIu64 " seconds=%.3f ops_per_s=%.1f "
	    "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f errors=%" PRIu64 " busy_retries=%" PRIu64,
	    cfg.target == TARGET_HUSH ? "hush" : "etcd", op_names[cfg.op], cfg.clients,
	    total_ops, secs, secs > 0 ? (double)total_ops / secs : 0,
	    sl_lat_pct_ms(&all, 50), sl_lat_pct_ms(&all, 99), sl_lat_pct_ms(&all, 99.9),
	    errors, busy);
	if (cfg.op == OP_LIST)
		printf(" records=%" PRIu64, records);
	if (tag != NULL)
		printf(" tag=%s", tag);
	printf("\n");
	fflush(stdout);
	if (errors > 0 || total_ops == 0) {
		fprintf(stderr, "storeload: %s %s: %" PRIu64 " failed requests, %" PRIu64
		    " counted; first failure: %s\n", cfg.target == TARGET_HUSH ? "hush" :
		    "etcd", op_names[cfg.op], errors, total_ops,
		    first_err != NULL ? first_err : "(none: no request was counted)");
		return 1;
	}
	return 0;
}

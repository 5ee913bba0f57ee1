/*
 * storeload: a load generator for the store benchmark (tests/bench/store.sh).
 * One pthread per client sends one kind of request (create, update, get,
 * list) as fast as its answers come, to hushd through the real client path
 * (lib/ctl_client.c) or to etcd's JSON gateway, and the run prints one
 * line of figures.  It measures, it never judges: the only failure it
 * reports is a request that failed.
 */
#ifndef STORELOAD_H
#define STORELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sl_target { TARGET_HUSH, TARGET_ETCD };
enum sl_op { OP_CREATE, OP_UPDATE, OP_GET, OP_LIST };

#define SL_CLIENTS_MAX	1024
#define SL_ADDRS_MAX	16
#define SL_NAME_MAX	64
#define SL_VALUE_MAX	(256 * 1024)
#define SL_ERR_MAX	512
/* A client that fails this many requests in a row stops: the target is gone. */
#define SL_ERRORS_IN_A_ROW 20

struct sl_config {
	enum sl_target	 target;
	enum sl_op	 op;
	unsigned	 clients;
	double		 seconds;	/* measured window (unless count) */
	double		 warmup;	/* before it, not counted */
	uint64_t	 count;		/* > 0: exactly this many requests, all counted */
	uint64_t	 keys;		/* update/get: names PREFIX0..keys-1 exist */
	size_t		 value_size;
	const char	*prefix;
	const char	*addrs[SL_ADDRS_MAX];	/* sockets (hush) or host:port (etcd) */
	unsigned	 naddrs;
};

/* Growable list of request latencies in nanoseconds. */
struct sl_lat {
	uint64_t	*ns;
	size_t		 n, cap;
};

struct sl_client {
	const struct sl_config *cfg;
	unsigned	 id;
	const char	*addr;		/* cfg->addrs[id % naddrs] */
	uint8_t		*value;
	uint64_t	 rng;		/* xorshift state: which key to update/get */
	struct sl_lat	 lat;
	uint64_t	 ops, errors, busy;
	uint64_t	 records;	/* list: records in the last full list */
	uint64_t	 last_done;	/* ns: when its last counted request ended */
	char		 first_err[SL_ERR_MAX];
	void		*conn;		/* the target's per-client state */
};

/*
 * One request of cfg->op for key name (unused by list).  Returns 0, or -1
 * with a message in err; *busy gets the attempts refused for room.
 */
struct sl_target_ops {
	int	(*open)(struct sl_client *c, char *err, size_t errlen);
	int	(*request)(struct sl_client *c, const char *name, unsigned *busy,
		    char *err, size_t errlen);
	void	(*close)(struct sl_client *c);
};

extern const struct sl_target_ops sl_hush;
extern const struct sl_target_ops sl_etcd;

int	sl_lat_add(struct sl_lat *l, uint64_t ns);
/* Sorts l and gives the nearest-rank percentile p (0 < p <= 100), in ms. */
double	sl_lat_pct_ms(struct sl_lat *l, double p);
int	sl_lat_merge(struct sl_lat *into, const struct sl_lat *from);
void	sl_lat_sort(struct sl_lat *l);
void	sl_lat_free(struct sl_lat *l);

#endif

/*
 * How hushctl shows things: times, tables and JSON.  Everything here is
 * pure (time and streams are parameters) so the unit tests pin the exact
 * text an operator or a script sees.
 */
#ifndef HUSHCTL_OUTPUT_H
#define HUSHCTL_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "id.h"
#include "msg.h"
#include "names.h"

/* Enough for every fmt_* result and its NUL. */
#define FMT_MAX		64

/*
 * Docker's wording for an elapsed time: "Less than a second", "1 second",
 * "About a minute", "5 minutes", "About an hour", "3 hours", "4 days",
 * "2 weeks", "3 months", "2 years".
 */
int	fmt_human_duration(uint64_t secs, char *out, size_t cap);
/* "<human duration> ago"; a time in the future (clock skew) counts as now. */
int	fmt_ago(int64_t then, int64_t now, char *out, size_t cap);
/* "in 89 days", "in 5 hours", "in 3 minutes"; past times "2 days ago". */
int	fmt_until(int64_t when, int64_t now, char *out, size_t cap);
/* RFC 3339 in UTC: "2027-02-21T10:00:00Z". */
int	fmt_rfc3339(int64_t t, char *out, size_t cap);
/* For people: "2027-02-21 10:00:00 UTC". */
int	fmt_utc(int64_t t, char *out, size_t cap);

/*
 * Copies s with control characters replaced by '?': strings from the
 * daemon go to a terminal, and a terminal obeys escape sequences.
 */
void	sanitize(const char *s, char *out, size_t cap);

/*
 * Columns laid out as docker's tabwriter does: each column as wide as its
 * widest cell plus TABLE_PAD, at least TABLE_MINWIDTH, the last unpadded.
 */
#define TABLE_PAD	3
#define TABLE_MINWIDTH	10

struct table {
	size_t	  ncols, nrows;		/* rows include the header */
	char	**cells;		/* nrows * ncols */
};

int	table_init(struct table *t, size_t ncols, const char *const *headers);
int	table_add(struct table *t, const char *const *cells);
int	table_print(const struct table *t, FILE *out);
void	table_free(struct table *t);

/* A secret's public metadata as the daemon reports it (REC_SECRET). */
struct secret_view {
	char	  id[HUSH_ID_LEN + 1];
	char	  name[SECRET_NAME_MAX + 1];
	int64_t	  created, updated;
	uint32_t  version, size;
	char	**labels;		/* "key=value" */
	size_t	  nlabels;
};

void	secret_view_free(struct secret_view *v);
void	secret_views_sort(struct secret_view *v, size_t n);
/* {"ID","Name","Labels","CreatedAt","UpdatedAt","Version","Size"}; NULL on ENOMEM. */
json_t	*secret_view_json(const struct secret_view *v);
/* The docker-like "ID  NAME  CREATED  UPDATED" listing. */
int	secret_views_table(const struct secret_view *v, size_t n, int64_t now,
	    FILE *out);

/* Longest T_AVAILABILITY, T_STATUS_TEXT and T_RAFT_STATE of a REC_NODE. */
#define NODE_TEXT_MAX	16

/* A node's labels, one "key=value\n" each (the store caps them at 4096 bytes). */
#define NODE_LABELS_TEXT	(4096 + 64 + 1)

/* A node as the daemon reports it (REC_NODE). */
struct node_view {
	char	 id[HUSH_ID_LEN + 1];
	char	 addr[ADDR_MAX + 1];			/* advertise address */
	char	 availability[NODE_TEXT_MAX + 1];	/* "active", "pause", "drain" */
	char	 status_text[NODE_TEXT_MAX + 1];	/* "removed"; "" if absent */
	char	 raft_state[NODE_TEXT_MAX + 1];		/* managers; "" if absent */
	char	 tls_status[NODE_TEXT_MAX + 1];		/* T_TLS_STATUS; "" if absent */
	uint8_t	 role;					/* enum node_role */
	bool	 reachable;				/* T_REACHABLE, false if absent */
	bool	 has_updated;
	int64_t	 created, updated;
	char	 labels[NODE_LABELS_TEXT];		/* "key=value\n" each */
};

/* "manager", "worker" or "unknown". */
const char *node_role_name(uint8_t role);
/* Whether the node has left or was removed: listings leave it out. */
bool	node_removed(const struct node_view *v);
/* Drops removed nodes, keeping the order of the rest; returns how many remain. */
size_t	node_views_live(struct node_view *v, size_t n);
/* docker node ls's STATUS: "Ready" when the node is reachable, else "Down". */
const char *node_status(const struct node_view *v);
/*
 * MANAGER STATUS: "Leader", "Reachable", "Unreachable" (or "Unknown") for
 * a manager, "" for a worker.
 */
const char *node_manager_status(const struct node_view *v);
/*
 * TLS STATUS as docker prints it, from the daemon's T_TLS_STATUS: "Ready"
 * (its certificate is from the root the cluster wants), "Needs Rotation"
 * (a CA rotation still waits for it to renew), or "Unknown" (absent, or
 * a word this hushctl does not know).
 */
const char *node_tls_status(const char *tls_status);
/* AVAILABILITY as docker prints it: "Active", "Pause", "Drain". */
void	node_availability(const struct node_view *v, char *out, size_t cap);
/* Managers first, then by address (numbers compared as numbers), then id. */
void	node_views_sort(struct node_view *v, size_t n);
/*
 * The docker-like "ID  ADDRESS  STATUS  AVAILABILITY  MANAGER STATUS  TLS
 * STATUS" listing; the node whose id is self (if not NULL) gets a "*".
 */
int	node_views_table(const struct node_view *v, size_t n, const char *self,
	    FILE *out);
/*
 * node ls: {"ID","Address","Role","Status","Availability","ManagerStatus",
 * "TLSStatus","CreatedAt"}.
 */
json_t	*node_view_json(const struct node_view *v);
/*
 * node inspect, shaped like docker's: {"ID","CreatedAt","UpdatedAt",
 * "Spec":{"Labels","Role","Availability"},"Status":{"State","Addr","TLSStatus"},
 * "ManagerStatus":{"Leader","Reachability","Addr"}} (managers only).
 */
json_t	*node_view_inspect_json(const struct node_view *v);

/*
 * A container holding this node's secrets, as hushd records it
 * (REC_CONTAINER) or as the mounter process does (REC_MOUNT, which has no
 * service and no time: both stay empty).
 */
struct container_view {
	char	 id[HUSH_CONTAINER_ID_MAX + 1];
	char	 service[SERVICE_NAME_MAX + 1];
	uint32_t pid, files;
	int64_t	 attached;			/* unix time */
};

/* Newest first, then by id. */
void	container_views_sort(struct container_view *v, size_t n);
/*
 * "CONTAINER ID  SERVICE  PID  FILES  ATTACHED" ("5 seconds ago"), or
 * with mounter "CONTAINER ID  PID  FILES".  Ids are shown whole: the
 * runtime's ids need not be hex, so a prefix could be ambiguous.
 */
int	container_views_table(const struct container_view *v, size_t n, bool mounter,
	    int64_t now, FILE *out);
/* {"ID","Service","Pid","Files","AttachedAt"}, or {"ID","Pid","Files"}. */
json_t	*container_view_json(const struct container_view *v, bool mounter);

/*
 * A JSON string even for bytes that are not UTF-8 (label values are free
 * text): such bytes become '?' rather than failing the whole output.
 * NULL only when out of memory.
 */
json_t	*json_text(const char *s);
/* Pretty JSON (4-space indent, like docker inspect) and a newline. */
int	print_json(const json_t *j, FILE *out);
/*
 * print_json() of an array of n objects, object i made by make(i, arg);
 * make returns NULL only when out of memory.  Every `ls --format json`.
 */
int	print_json_list(size_t n, json_t *(*make)(size_t i, const void *arg),
	    const void *arg, FILE *out);

/*
 * The paragraph that hands the operator the unlock key.  The key text
 * lives in guarded memory only while it is being written out.
 */
int	print_unlock_key(const uint8_t kek[32], FILE *out);

#endif

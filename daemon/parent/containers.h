/*
 * Shared by containers.c (the OCI hook's requests, updates, listing),
 * containers_adopt.c (taking containers back after the mounter or hushd
 * restarted) and containers_record.c (what survives a hushd restart).
 * Not for the rest of the parent, which goes through parent.h.
 */
#ifndef HUSH_PARENT_CONTAINERS_H
#define HUSH_PARENT_CONTAINERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "idmap.h"
#include "mounter/mounter.h"	/* MOUNTER_TARGET: where views go */
#include "names.h"
#include "parent.h"

/*
 * Whether the mounter holds the container.  A mounter that dies loses
 * its table, and a restarted hushd starts with an empty one: such
 * containers wait in CTR_ADOPT until a mounter takes their view back.
 */
enum ctr_state {
	CTR_HELD,		/* the mounter holds it: publishes reach it */
	CTR_ADOPT,		/* nobody holds it: adopt when we can */
	CTR_ADOPTING,		/* an adopting MNTR_ATTACH is on its way */
};

struct container {
	struct container	*next;
	char			 id[HUSH_CONTAINER_ID_MAX + 1];
	char			 service[SERVICE_NAME_MAX + 1];
	char			 root[HUSH_PATH_MAX + 1];
	char			 target[HUSH_PATH_MAX + 1];
	pid_t			 pid;
	/*
	 * A pidfd of pid, from the hook (-1 for a container known from its
	 * record after hushd restarted): what the mounter enters, and what
	 * an adopt after a mounter restart is pinned by.
	 */
	int			 pidfd;
	uint64_t		 start;		/* pid's start time: names the process */
	uint64_t		 view_id;	/* unique mount id of its view */
	uint32_t		 count;
	int64_t			 attached;	/* unix time, for 'hushctl container ls' */
	/* the container's id maps, for the files of later updates */
	struct idmap		 uids, gids;
	bool			 have_uids, have_gids;
	enum ctr_state		 state;
	uint64_t		 sent_gen;	/* assignments an adopt was built from */
	/* what its /run/secrets holds (ctr_set_print), to see that a refresh changes it */
	uint8_t			 print[16];
};

/* A zeroed container with no pidfd, or NULL; ctr_free() undoes it. */
struct container *ctr_new(void);
void	ctr_free(struct container *c);
struct container *ctr_find(struct parent *p, const char *id);
/* Off the list, its record removed, freed. */
void	ctr_forget(struct parent *p, struct container *c);
/* The service's set of files for c (svc NULL: none), as T_FILE fields. */
int	ctr_put_files(struct parent *p, struct wire_enc *e, const struct container *c,
	    const struct assigned_service *svc, char *why, size_t whylen);
/* c's uid and gid maps as the kernel has them for c->pid. */
int	ctr_kernel_maps(struct container *c, char *why, size_t whylen);
/* A digest of the set svc gives a container now (svc NULL: the empty set). */
void	ctr_set_print(const struct parent *p, const struct assigned_service *svc,
	    uint8_t out[16]);
/* An MNTR_PUBLISH of c's current set; false if it could not be sent. */
bool	ctr_publish(struct parent *p, struct container *c);

/* containers_adopt.c: send an adopting MNTR_ATTACH for every CTR_ADOPT. */
void	ctr_adopt_pending(struct parent *p);

/*
 * containers_record.c: one file per container in the run directory,
 * named by a hash of its id, so that a restarted hushd can adopt it.
 */
#define CTR_RECORD_VERSION	1
#define CTR_RECORD_HEX		32	/* hex digits of the hash naming a record */
#define CTR_RECORD_NAME_MAX	(CTR_RECORD_HEX + 8)
#define CTR_BOOT_ID_LEN		36	/* /proc/sys/kernel/random/boot_id */

void	ctr_record_write(struct parent *p, const struct container *c);
void	ctr_record_remove(struct parent *p, const char *id);
/* Every valid record of this boot whose process lives, as CTR_ADOPT. */
void	ctr_records_load(struct parent *p);
/* The file name for id: hex of a hash, then suffix (".json", ".tmp"). */
void	ctr_record_name(const char *id, const char *suffix, char *out, size_t outlen);
/* c as a record's JSON text (malloc'd), or NULL if it cannot be one. */
char	*ctr_record_text(const struct container *c, const char *boot_id);
/*
 * The record text[0..len) read from file name: every field checked, the
 * name that of its id.  Fills c's id, service, pid, start, view id,
 * root, target and attach time, and boot_id (CTR_BOOT_ID_LEN + 1 bytes).
 * HUSH_E_FORMAT with why for anything else.  Whether the process still
 * runs is the caller's question.
 */
int	ctr_record_parse(const char *name, const char *text, size_t len,
	    struct container *c, char *boot_id, char *why, size_t whylen);

#endif

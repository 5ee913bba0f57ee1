/* The requests of mounter_main.c, in ops.c. */
#ifndef HUSH_MOUNTER_OPS_H
#define HUSH_MOUNTER_OPS_H

#include "mounter.h"
#include "mounter_int.h"

/* *fdp: the pidfd that came with the request, or -1; taken. */
int	mnt_attach(const struct wire_msg *m, int *fdp, struct wire_enc *e,
	    uint64_t now_ms, char *why, size_t whylen);
/*
 * The T_ADOPT half of mnt_attach(), in adopt.c: c has its id, pid, pidfd,
 * start (already checked against the one the parent recorded), root and
 * target; this sets c->view_id and c->wfd, and publishes fs.  On failure c->wfd may be set
 * (the caller closes it) and the view has been emptied and unmounted if
 * it could be adopted at all.
 */
int	mnt_adopt(struct mnt_ctr *c, const struct wire_msg *m,
	    const struct mnt_files *fs, char *why, size_t whylen);
int	mnt_publish(const struct wire_msg *m, struct wire_enc *e,
	    uint64_t now_ms, char *why, size_t whylen);
int	mnt_detach(const struct wire_msg *m, char *why, size_t whylen);
int	mnt_list(const struct wire_msg *m, struct wire_enc *e);

/* The containers held, for the exit checks. */
struct mnt_ctr *mnt_ctr_list(void);
/* Forget c (and free it); unmount its view if its namespace is there. */
void	mnt_ctr_drop(struct mnt_ctr *c, bool unmount);
/* Remove c's kept old generation now. */
void	mnt_ctr_prune(struct mnt_ctr *c);

#endif

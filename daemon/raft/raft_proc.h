/*
 * The raft process: libraft (libuv I/O in <state>/raft) driving the state
 * machine of daemon/raft/store.c.  It never opens a socket: peer streams
 * reach it as fds from the parent (which gets them from net), already
 * authenticated, so libraft's decoders only ever see other managers.
 */
#ifndef HUSH_RAFT_PROC_H
#define HUSH_RAFT_PROC_H

#include <limits.h>
#include <stdbool.h>

#include <raft.h>
#include <raft/uv.h>

#include "child.h"
#include "msg.h"
#include "store.h"

#define RAFT_PROC_MAX_MSG (WIRE_MAX_MSG)
/*
 * The raft process's exit status when libraft's disk I/O may have failed
 * for good (see raft_proc.c, space_changed()): the parent starts it again
 * once the state directory has HUSH_RAFT_DISK_NEED free.
 */
#define RAFT_EXIT_DISK 75
/* The same, once space is back: the parent starts it again at once. */
#define RAFT_EXIT_REFRESH 76
#define ENTRY_PURPOSE "hush/raft-entry"
#define SNAPSHOT_PURPOSE "hush/snapshot"
#define SNAPSHOT_MAGIC "HUSHSNP1"

extern const struct child_desc raft_child;
/* Its Landlock rules and system call allow-list: raft_sandbox.c */
extern const struct sandbox_policy raft_sandbox;

/* Set by the parent before the child is forked. */
extern char raft_proc_dir[PATH_MAX];

void	raft_heap_install_zeroing(void);

/*
 * entry.c: a log entry is one sealed record whose plaintext is a command
 * padded with zeros, because libraft's disk format wants entry lengths that
 * are multiples of 8; the command's own header says where it ends.
 */
int	entry_seal(const uint8_t *dek, const uint8_t *cmd, size_t len, struct raft_buffer *out);
/* Opens into *plain (free with lockmem_free(), which wipes); *cmdlen excludes padding. */
int	entry_open(const uint8_t *dek, const struct raft_buffer *in, uint8_t **plain,
	    size_t *plainlen, size_t *cmdlen);

/* fsm.c */
struct raft_fsm;
int	fsm_init(struct raft_fsm *fsm, struct store *store, const uint8_t *dek);
/* Called by fsm.c after each applied command that changed STORE_CHG_* state. */
void	raft_proc_changed(unsigned what);

/* raft_proc.c: messages to the parent. */
void	raft_proc_send(struct wire_enc *e);
void	raft_proc_error(uint32_t id, int code, const char *detail);

/*
 * How the raft process exits when its data is damaged (a file does not
 * load, a committed entry does not open): the parent counts these and,
 * after a few, stops restarting it and reports the node degraded.
 */
#define RAFT_EXIT_DAMAGED	3
/* raft_proc.c: the start failed or an entry is damaged; reports and exits. */
void	raft_proc_damaged(const char *detail) __attribute__((__noreturn__));
/* The index of the entry being applied (for naming a damaged one). */
unsigned long long raft_proc_applying(void);
/*
 * After each applied entry: a snapshot costs time in proportion to the
 * records it holds, so the log may grow in proportion too before one.
 */
void	raft_proc_scale_snapshots(size_t nrecords);
/* After each snapshot taken: how long the loop stood still for it. */
void	raft_proc_snapshot_took(unsigned ms);

/*
 * damage.c: raft_damage_scan() names the first damaged file of the raft
 * directory (the working directory) it can tell, with its byte range or
 * entry index, in out; 1 if it found one.  raft_set_aside() moves every
 * file of the directory into the new subdirectory dir (a plain name),
 * deleting nothing.
 */
int	raft_damage_scan(const uint8_t *dek, char *out, size_t cap);
/*
 * The checks of one file's bytes (name is only for the message): 1 and
 * what is wrong in out if damaged, 0 if sound.  Any bytes are safe to pass.
 */
int	raft_damage_metadata(const char *name, const uint8_t *b, size_t len, char *out,
	    size_t cap);
int	raft_damage_snapshot_meta(const char *name, const uint8_t *b, size_t len, char *out,
	    size_t cap);
int	raft_damage_snapshot(const char *name, const uint8_t *b, size_t len,
	    const uint8_t *dek, char *out, size_t cap);
/* open-N: a bad batch is damage unless it is the torn tail of a crash. */
int	raft_damage_open_segment(const char *name, const uint8_t *b, size_t len, char *out,
	    size_t cap);
int	raft_set_aside(const char *dir, char *why, size_t whylen);
/* Whether the raft directory holds a segment or a snapshot (raft_recover() asserts so). */
bool	raft_dir_has_log(void);

/* membership.c */
/*
 * stall.c: the process's tick came late_ms late at now_ms (a stall if
 * that is an election timeout or more); while stall_unconfirmed(), a
 * leader does not answer as one.
 */
void	stall_seen(struct raft *raft, uint64_t late_ms, uint64_t now_ms);
bool	stall_unconfirmed(struct raft *raft, uint64_t now_ms);
/*
 * Makes manager node a spare (the leader only), for its repair; calls
 * done(arg, status) once the change has committed or failed.  Returns 0
 * when started, 1 when node is no voter already (done is not called),
 * else a RAFT_* error (RAFT_CANTCHANGE: another change is under way).
 */
int	membership_demote(struct raft *raft, const char *node, void (*done)(void *, int),
	    void *arg);
void	membership_reconcile(struct raft *raft, struct store *store, uint64_t now_ms);

/*
 * backup_write.c: RAFTP_BACKUP.  backup_request() takes the request and
 * its file (fd, closed here either way); backup_tick(), after each tick
 * and applied entry, writes it once the store has applied the index it
 * asked for, or refuses after BACKUP_WAIT_MS.
 */
#define BACKUP_WAIT_MS	10000
void	backup_request(const struct wire_msg *m, int fd, uint64_t now_ms);
void	backup_tick(struct store *s, const uint8_t dek[32], const char *node_id,
	    uint64_t applied, uint64_t now_ms);

/* transport.c: libraft's streams come from the parent, not from sockets. */
struct chan;
int	transport_init(struct raft_uv_transport *t, struct chan *parent);
void	transport_inbound(struct raft_uv_transport *t, int fd, const char *peer_id,
	    const char *address);
/* A reply (or error) to one of the transport's RAFTP_CONNECT requests. */
int	transport_connect_reply(struct raft_uv_transport *t, uint32_t id, int status, int fd);
bool	transport_owns(struct raft_uv_transport *t, uint32_t id);

#endif

/*
 * The parent process of hushd: owns the control socket and the keyring,
 * supervises the children, and decides what each request may do.  It never
 * parses network input and never signs certificates.
 */
#ifndef HUSH_PARENT_H
#define HUSH_PARENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "child.h"
#include "id.h"
#include "msg.h"
#include "node_state.h"

#define HUSH_VERSION "0.1.0"
#define HUSH_DEFAULT_STATE_DIR "/var/lib/hush"
#define HUSH_DEFAULT_CONTROL "/run/hush/control.sock"
#define HUSH_DEFAULT_PORT 4477
#define HUSH_DEFAULT_CERT_EXPIRY ((uint64_t)90 * 24 * 3600)
#define CONTROL_MAX_MSG (HUSH_SECRET_MAX + 65536)
#define MAX_CLIENTS 64

/* Keyring descriptions (hushd's private session keyring). */
#define KEY_DEK "hush:dek"
#define KEY_KEK "hush:kek"
#define KEY_NODE "hush:node-key"

/* Short enough that every file name below it fits in PATH_MAX. */
#define HUSH_DIR_MAX 1024

struct hushd_config {
	char		 state_dir[HUSH_DIR_MAX];
	char		 control_socket[108];	/* sun_path */
	unsigned	 snapshot_threshold;
	unsigned	 snapshot_trailing;
};

enum parent_state {
	PS_UNINITIALIZED,	/* no cluster yet: only init and status */
	PS_INITIALIZING,	/* an init is in progress */
	PS_LOCKED,		/* keys sealed by the KEK; waiting for unlock */
	PS_STARTING,		/* keys in the keyring, raft loading */
	PS_READY,
};

struct client;
struct op;

struct parent {
	struct hushd_config	 cfg;
	enum parent_state	 state;
	struct node_state	 node;
	struct child		 pki, raft;
	bool			 raft_ready;	/* RAFTP_START answered */
	bool			 raft_start_sent;
	bool			 ca_loaded;
	bool			 bootstrap;	/* first start after init */
	/* Cluster settings as last reported by the raft process. */
	bool			 autolock;
	uint64_t		 cert_expiry;
	uint8_t			 token_digest[32];
	bool			 have_digest;
	/* Unlock requests waiting for raft to become ready. */
	struct op		*waiting_ready;
	int			 listen_fd;
	int			 sig_fd;
	struct client		*clients;
	size_t			 nclients;
	int			 lock_fd;
	bool			 stopping;
};

int	parent_main(const struct hushd_config *cfg);

/* control.c */
int	control_listen(struct parent *p);
void	control_accept(struct parent *p);
void	control_client_io(struct parent *p, struct client *c, short revents);
void	control_close_all(struct parent *p);
bool	control_client_alive(struct parent *p, const struct client *c);
struct pollfd;
size_t	control_pollfds(struct parent *p, struct pollfd *pfd, struct client **who, size_t max);

/* An operation: a control request in progress, possibly over several calls. */
struct op {
	struct parent	*p;
	struct client	*client;	/* NULL once the caller went away */
	uint32_t	 client_req;	/* request id to answer with */
	uint16_t	 type;
	struct op	*next_waiting;
	/* Run when the raft store becomes ready (or fails to). */
	void		(*on_ready)(struct op *, int status, const char *detail);
	void		*ctx;
	void		(*ctx_free)(void *);
};

void	op_reply(struct op *op, struct wire_enc *e);	/* finishes the op */
void	op_error(struct op *op, int code, const char *detail);
void	op_free(struct op *op);

/* lifecycle.c: bringing the store up and keeping the children fed. */
void	lifecycle_child_started(struct parent *p, struct child *c);
int	lifecycle_start_raft(struct parent *p, bool bootstrap);
/* Park an op until raft is ready; its on_ready runs then. */
void	lifecycle_wait_ready(struct parent *p, struct op *op);
void	lifecycle_raft_event(struct parent *p, const struct wire_msg *m);
void	lifecycle_raft_request(struct parent *p, const struct wire_msg *m, int fd);
/* Load the CA from the store into the pki process. */
void	lifecycle_load_ca(struct parent *p);

/* ops_*.c: one handler per control request. */
void	op_status(struct op *op, const struct wire_msg *m);
void	op_init(struct op *op, const struct wire_msg *m);
void	op_join_token(struct op *op, const struct wire_msg *m);
void	op_secret_create(struct op *op, const struct wire_msg *m);
void	op_secret_list(struct op *op, const struct wire_msg *m);
void	op_secret_inspect(struct op *op, const struct wire_msg *m);
void	op_secret_rm(struct op *op, const struct wire_msg *m);
void	op_update(struct op *op, const struct wire_msg *m);
void	op_unlock(struct op *op, const struct wire_msg *m);
void	op_unlock_key(struct op *op, const struct wire_msg *m);

/* raft_calls.c: proposals and queries, answered through a callback. */
typedef void (*raft_done_cb)(struct op *op, int status, const struct wire_msg *reply,
    const char *detail);
int	raft_propose(struct op *op, struct wire_enc *cmd, raft_done_cb cb);
/* Query; the reply handed to cb is the parsed QRY_* reply. */
int	raft_query(struct op *op, struct wire_enc *qry, raft_done_cb cb);

int64_t	parent_now(void);

#endif

/*
 * The one request/reply exchange a program makes with the local hushd over
 * its control socket (hushctl, hush-oci-hook), including the retry that
 * makes writes safe: a request whose outcome is unknown (the daemon said
 * "unavailable", or the connection dropped mid-request) is sent again,
 * byte for byte, until it gets a definite answer or the time runs out.
 * That is only safe for a request the daemon deduplicates: a replicated
 * write carries a T_REQ_ID, a container attach is keyed by its container
 * id (msg.h).  Any other request is sent once (ctl_opts.once).
 *
 * Every connection is checked before a byte goes out: the process
 * serving the socket must be root (SO_PEERCRED).  The path is only a
 * name: whoever can write its directory, or could while hushd was down,
 * can put a socket of their own there and wait for an unlock key, a
 * secret's value or a container's claim.
 *
 * Nothing here prints: a failure comes back as a ctl_error, and each
 * program words it for its own audience.
 */
#ifndef HUSH_CTL_CLIENT_H
#define HUSH_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "chan.h"
#include "wire.h"

#define CTL_REQUEST_ID	1	/* one request per connection */
#define CTL_RETRY_MS	20000	/* how long to retry an unknown outcome */
#define CTL_PAUSE_MS	250	/* between two attempts */
/* How long one attempt waits for its reply before counting as dropped. */
#define CTL_REPLY_MS	60000

struct ctl_opts {
	int	reply_ms;	/* one attempt's wait; 0 for CTL_REPLY_MS */
	/*
	 * The whole call, retries included, in ms; 0 for no bound beyond
	 * reply_ms and CTL_RETRY_MS.  For callers that something else is
	 * waiting on (an OCI runtime blocks on its hooks).
	 */
	int	budget_ms;
	bool	once;		/* never resend the request */
	/*
	 * Pass fd (SCM_RIGHTS) with the request, with every attempt: the
	 * hook's pidfd of a container's process.  A flag, not fd >= 0, as
	 * callers zero their opts and fd 0 must never go by accident.  The
	 * caller keeps fd.  A reply never carries one: one that does is a
	 * bad reply.
	 */
	bool	send_fd;
	int	fd;
};

struct ctl_reply {
	struct chan_msg	 raw;		/* owns the bytes msg points into */
	struct wire_msg	*msg;		/* validated: the request's reply type */
};

struct ctl_error {
	int	code;		/* negative HUSH_E_* */
	/*
	 * No connection to hushd was ever made: nothing is listening, or
	 * the socket may not be used (sys_errno says which).  The request
	 * cannot have had any effect.
	 */
	bool	unreachable;
	int	sys_errno;
	bool	unknown;	/* the request may or may not have taken effect */
	bool	gave_up;	/* retried until the time ran out */
	/*
	 * The socket is served by a process that is not root, so not by
	 * hushd (whose control socket is always its parent's, which stays
	 * root): peer_uid and peer_pid are the kernel's word for who, as of
	 * its listen().  Nothing was sent to it, and nothing will be: this
	 * is never retried, since a retry would go to the same process.
	 * code is HUSH_E_AUTH; text names the socket, the uid and the pid.
	 */
	bool	impostor;
	uid_t	peer_uid;
	pid_t	peer_pid;
	/*
	 * How many attempts hushd refused for room (HUSH_E_BUSY): set on
	 * success too, so that a caller that cares
	 * (the store benchmark) can tell how often it waited for a slot.
	 */
	unsigned busy_retries;
	char	text[1400];	/* "WHAT: reason", or the connection problem */
};

/* Starts encoding a request of type; finish it with ctl_call(). */
void	ctl_request(struct wire_enc *e, uint16_t type);
/* Adds a fresh random T_REQ_ID: every replicated write carries one. */
void	ctl_put_req_id(struct wire_enc *e);

/*
 * Sends the request e to the daemon at socket and waits for its reply,
 * retrying as described above; what names the request in error texts
 * ("secret create", or a container id).  On success returns 0 and rep
 * holds a reply of the request's type; free it with ctl_reply_free().
 * On failure returns a negative code and fills err; rep is then empty.
 * opts may be NULL for the defaults.  e is left for the caller to free.
 */
int	ctl_call(const char *socket, const char *what, struct wire_enc *e,
	    struct ctl_reply *rep, const struct ctl_opts *opts,
	    struct ctl_error *err);
void	ctl_reply_free(struct ctl_reply *rep);

#endif

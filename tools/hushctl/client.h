/*
 * hushctl's side of the control-socket exchange in lib/ctl_client.c: the
 * same request/reply with retry, plus hushctl's way of reporting a
 * failure ("hushctl: WHAT: reason" on stderr).  A write whose outcome is
 * unknown is resent with the same T_REQ_ID for up to CLIENT_RETRY_MS; the
 * daemon deduplicates on it, so the write happens at most once.  A
 * request without one is sent once (struct client_opts) instead.
 */
#ifndef HUSHCTL_CLIENT_H
#define HUSHCTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "ctl_client.h"
#include "wire.h"

#define CLIENT_REQUEST_ID	CTL_REQUEST_ID
#define CLIENT_RETRY_MS		CTL_RETRY_MS
#define CLIENT_PAUSE_MS		CTL_PAUSE_MS
#define CLIENT_REPLY_MS		CTL_REPLY_MS

/*
 * A request that must not be sent twice (it carries no T_REQ_ID for the
 * daemon to deduplicate on, like CTL_JOIN and CTL_LEAVE) is sent once:
 * an unknown outcome is then reported, not retried.
 */
struct client_opts {
	int		 reply_ms;	/* one attempt's wait; 0 for CLIENT_REPLY_MS */
	bool		 once;		/* never resend the request */
	/*
	 * With once: what to tell the operator when the request may or may
	 * not have taken effect ("run 'hushctl status' to check"), or NULL.
	 */
	const char	*unsure;
	/* Pass fd (SCM_RIGHTS) with the request: a backup's file. */
	bool		 send_fd;
	int		 fd;
};

struct reply {
	struct chan_msg	 raw;		/* owns the bytes msg points into */
	struct wire_msg	*msg;		/* validated: the request's reply type */
};

/* Starts encoding a request of type; finish it with client_call(). */
void	client_request(struct wire_enc *e, uint16_t type);
/* Adds a fresh random T_REQ_ID: every write that may be retried carries one. */
void	client_put_req_id(struct wire_enc *e);

/*
 * Sends the request e to the daemon at socket and waits for its reply,
 * retrying as described above.  On success returns 0 and rep holds a
 * reply of the request's type; free it with reply_free().  On failure
 * prints "hushctl: WHAT: reason" (or the connection message) to stderr
 * and returns a negative code.  e is left for the caller to free.
 * client_call_opts() takes opts (NULL for the defaults) for the rest.
 */
int	client_call(const char *socket, const char *what, struct wire_enc *e,
	    struct reply *rep);
int	client_call_opts(const char *socket, const char *what,
	    struct wire_enc *e, struct reply *rep,
	    const struct client_opts *opts);
void	reply_free(struct reply *rep);

#endif

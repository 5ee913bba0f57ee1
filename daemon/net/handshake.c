/*
 * The TLS handshake and what follows it: who the peer is, whether it may
 * use the protocol it chose, and which protocol takes the connection over.
 * Identity comes only from a certificate that verified (tls_peer_check());
 * nothing a peer writes later can change it.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"
#include "log.h"
#include "net_int.h"

static void
established_inbound(struct conn *c, enum net_proto proto)
{
	char why[300];
	int r;

	if (proto == PROTO_NONE) {
		c->fault = FAULT_BAD;
		unauth_log(LOG_LVL_INFO, "connection from %s chose no hush protocol; "
		    "closing", c->addr);
		conn_close(c, HUSH_E_PROTO, "no ALPN");
		return;
	}
	c->proto = proto;
	if (proto == PROTO_JOIN) {
		c->out.max = NET_JOIN_OUT_MAX;
		join_established(c);
		return;
	}
	if ((r = tls_peer_check(c->ssl, c->ident, &c->peer, why, sizeof(why))) != 0) {
		/* A stranger is charged for it; a removed member is known and is not. */
		c->fault = FAULT_BAD;
		/*
		 * A certificate that verified is our CA's (a removed node's, say):
		 * always worth a line.  Anyone can send none.
		 */
		if (SSL_get0_peer_certificate(c->ssl) != NULL)
			log_warn("refusing %s connection from %s: %s",
			    tls_proto_alpn(proto), c->addr, why);
		else
			unauth_log(LOG_LVL_WARN, "refusing %s connection from %s: %s",
			    tls_proto_alpn(proto), c->addr, why);
		if (r == HUSH_E_PERM && proto == PROTO_DISPATCH)
			dsp_refuse(c, r, why);
		else
			conn_close(c, r, why);
		return;
	}
	/* A member of this cluster: out of the strangers' way, into its own budget. */
	if (!conn_authenticated(c))
		return;
	if (proto == PROTO_RAFT &&
	    (c->peer.role != ROLE_MANAGER || c->ident->role != ROLE_MANAGER)) {
		log_warn("refusing %s connection from node %s (%s) at %s: only managers "
		    "may use it", ALPN_RAFT, c->peer.id, net_role_ou(c->peer.role), c->addr);
		conn_close(c, HUSH_E_PERM, "only managers may use hush-raft/1");
		return;
	}
	log_info("%s connection from node %s (%s) at %s", tls_proto_alpn(proto),
	    c->peer.id, net_role_ou(c->peer.role), c->addr);
	if (proto == PROTO_RAFT)
		raft_established(c);
	else
		dsp_established(c);
}

static void
established_outbound(struct conn *c, enum net_proto proto)
{
	char why[300], msg[1024];
	int r;

	if (proto != c->proto) {
		snprintf(msg, sizeof(msg), "the node at %s does not speak %s", c->addr,
		    tls_proto_alpn(c->proto));
		conn_close(c, HUSH_E_PROTO, msg);
		return;
	}
	if (proto == PROTO_JOIN) {
		join_established(c);
		return;
	}
	if ((r = tls_peer_check(c->ssl, c->ident, &c->peer, why, sizeof(why))) != 0) {
		snprintf(msg, sizeof(msg), "peer at %s: %s", c->addr, why);
		log_warn("%s", msg);
		conn_close(c, r, msg);
		return;
	}
	/* Only managers listen: anything else answering is not ours. */
	if (c->peer.role != ROLE_MANAGER) {
		snprintf(msg, sizeof(msg), "peer at %s is not a manager (node %s, OU=%s)",
		    c->addr, c->peer.id, net_role_ou(c->peer.role));
		log_warn("%s", msg);
		conn_close(c, HUSH_E_AUTH, msg);
		return;
	}
	if (c->expect_peer[0] != '\0' && strcmp(c->expect_peer, c->peer.id) != 0) {
		snprintf(msg, sizeof(msg), "peer at %s presented a certificate for node %s, "
		    "expected %s", c->addr, c->peer.id, c->expect_peer);
		log_warn("%s", msg);
		conn_close(c, HUSH_E_AUTH, msg);
		return;
	}
	log_debug("%s connection to node %s at %s", tls_proto_alpn(proto), c->peer.id,
	    c->addr);
	if (proto == PROTO_RAFT)
		raft_established(c);
	else
		dsp_established(c);
}

void
conn_handshake(struct conn *c)
{
	char err[200], msg[1024];
	int ok, e;

	/* Inbound: no TLS state, and none of its buffers, until the peer speaks. */
	if (c->ssl == NULL) {
		if ((c->ssl = SSL_new(c->ident->server)) == NULL ||
		    !SSL_set_fd(c->ssl, c->fd)) {
			ERR_clear_error();
			c->ssl_failed = true;
			conn_close(c, HUSH_E_CRYPTO, "cannot set up a TLS session");
			return;
		}
		SSL_set_accept_state(c->ssl);
	}
	ERR_clear_error();
	ok = SSL_do_handshake(c->ssl);
	/* The first byte: from now on the whole handshake has its own deadline. */
	if (c->inbound && !c->got_bytes && BIO_number_read(SSL_get_rbio(c->ssl)) > 0) {
		c->got_bytes = true;
		c->deadline = c->started + NET_HS_INBOUND_MS;
	}
	if (ok == 1) {
		/*
		 * An inbound connection keeps its admission slot until
		 * established_inbound() has seen a certificate of ours; a joiner
		 * keeps it for its whole connection.
		 */
		c->state = CS_OPEN;
		c->deadline = 0;
		c->last_active = net_now();
		if (c->inbound)
			established_inbound(c, tls_alpn_proto(c->ssl));
		else
			established_outbound(c, tls_alpn_proto(c->ssl));
		if (c->state == CS_OPEN)
			conn_kick(c);
		return;
	}
	e = SSL_get_error(c->ssl, ok);
	if (e == SSL_ERROR_WANT_READ) {
		c->hs_wait = POLLIN;
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		c->hs_wait = POLLOUT;
		return;
	}
	c->ssl_failed = true;
	/* A peer that hung up, or one that sent what is not our TLS. */
	if (c->inbound)
		c->fault = e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN ||
		    ERR_GET_REASON(ERR_peek_last_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING ? FAULT_EOF : FAULT_BAD;
	/* A joiner verifies later, by hand: its verify result means nothing. */
	tls_error_string(c->ident != NULL ? c->ssl : NULL, err, sizeof(err));
	if (c->inbound) {
		unauth_log(LOG_LVL_INFO, "TLS handshake from %s failed: %s", c->addr, err);
		conn_close(c, HUSH_E_AUTH, err);
		return;
	}
	if (c->ident != NULL && SSL_get_verify_result(c->ssl) != X509_V_OK) {
		snprintf(msg, sizeof(msg), "the node at %s presented a certificate that is "
		    "not valid for this cluster (%s)", c->addr, err);
		conn_close(c, HUSH_E_AUTH, msg);
	} else if (e == SSL_ERROR_SYSCALL) {
		snprintf(msg, sizeof(msg), "cannot reach manager at %s: the connection "
		    "closed during the TLS handshake", c->addr);
		conn_close(c, HUSH_E_UNAVAIL, msg);
	} else {
		snprintf(msg, sizeof(msg), "TLS handshake with %s failed: %s", c->addr, err);
		conn_close(c, HUSH_E_AUTH, msg);
	}
	log_warn("%s", msg);
}

void
conn_begin_tls(struct conn *c)
{
	SSL_CTX *ctx = c->ident != NULL ? c->ident->client : N.join_ctx;

	sock_tune(c->fd);
	if ((c->ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(c->ssl, c->fd) ||
	    tls_set_alpn(c->ssl, c->proto) != 0) {
		ERR_clear_error();
		c->ssl_failed = true;
		conn_close(c, HUSH_E_CRYPTO, "cannot set up a TLS session");
		return;
	}
	SSL_set_connect_state(c->ssl);
	c->state = CS_HANDSHAKE;
	conn_handshake(c);
}

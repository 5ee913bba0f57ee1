/*
 * The net process: the only process of hushd that touches the network.  It
 * terminates mutual TLS on one TCP port and, by ALPN, either relays a
 * plaintext stream to a local socketpair whose other end goes to the parent
 * (hush-raft/1), or turns framed peer requests into parent requests and
 * back (hush-dispatch/1), or runs the join protocol (hush-join/1).  It
 * holds the node's TLS key and nothing else: no state directory, no CA key.
 */
#ifndef HUSH_NET_H
#define HUSH_NET_H

#include <stdnoreturn.h>

#include "child.h"
#include "wire.h"

#define NET_MAX_MSG	WIRE_MAX_MSG

extern const struct child_desc net_child;
/* Its Landlock rules and system call allow-list: net_sandbox.c */
extern const struct sandbox_policy net_sandbox;

/* The child's entry point; never returns (exits when the parent goes). */
noreturn void net_main(int fd);

#endif

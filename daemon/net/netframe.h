/*
 * Frames between nodes: on hush-dispatch/1 and hush-join/1 every message is
 * a complete lib/wire.h message (12-byte header + TLV body) sent back to
 * back on the TLS stream.  This is the only code that turns peer bytes into
 * messages, and it has no sockets in it so a fuzzer can drive it directly.
 *
 * Reading is two steps: netframe_rd_feed() cuts the stream into frames,
 * trusting a header's length only after comparing it with the protocol's
 * maximum; netframe_parse() then checks a frame against the types allowed
 * at that point of the protocol and their schemas.
 */
#ifndef HUSH_NETFRAME_H
#define HUSH_NETFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "wire.h"

/* The largest answer to DSP_ASSIGNMENTS, which also holds any secret-carrying command. */
#define NETFRAME_DSP_MAX	((size_t)HUSH_ASSIGN_ANSWER_MAX + WIRE_HDR_LEN)
/*
 * The largest frame the parent channel can carry in T_PAYLOAD, read from
 * lib/msg.c's schema so the two never disagree; frames that fit the stream
 * bound above but not this are refused instead of being passed up.
 */
size_t	netframe_payload_max(void);
/* A CA certificate, a CSR and a token fit many times over. */
#define NETFRAME_JOIN_MAX	((size_t)64 * 1024)

/* The requests a verified peer may send on hush-dispatch/1. */
extern const uint16_t netframe_dsp_requests[];
/* What a joiner may send, and what it may receive first. */
extern const uint16_t netframe_join_requests[];
extern const uint16_t netframe_join_hello[];

/* Splits a byte stream into frames of at most max bytes. */
struct netframe_rd {
	size_t	 max;
	uint8_t	 hdr[WIRE_HDR_LEN];
	size_t	 hlen;		/* header bytes collected */
	uint8_t	*buf;		/* the frame, header included, once the header is in */
	size_t	 need, have;
};

void	netframe_rd_init(struct netframe_rd *rd, size_t max);
/*
 * Takes bytes from p[0..len): *used says how many were consumed (always
 * all of them unless a frame completed first).  When a frame is complete,
 * *frame and *framelen hand it over (locked memory; release it with
 * netframe_free()); otherwise *frame is NULL.  Errors, after which the
 * stream is unusable: HUSH_E_VERSION for a foreign header, HUSH_E_TOOBIG
 * for a length over max, HUSH_E_NOMEM.
 */
int	netframe_rd_feed(struct netframe_rd *rd, const uint8_t *p, size_t len,
	    size_t *used, uint8_t **frame, size_t *framelen);
/* True while part of a frame is buffered (an EOF now truncates it). */
int	netframe_rd_partial(const struct netframe_rd *rd);
/* Wipes whatever is buffered. */
void	netframe_rd_free(struct netframe_rd *rd);
/* Wipes and frees a frame from netframe_rd_feed() (locked memory, lockmem.h). */
void	netframe_free(uint8_t *frame);

/*
 * One complete frame against the allowed types (0-terminated) and their
 * schemas; *why says what was wrong, never quoting field values.
 */
int	netframe_parse(const uint8_t *buf, size_t len, size_t max,
	    const uint16_t *allowed, struct wire_msg *m, char *why, size_t whylen);
/*
 * The types that may answer req_type: its reply and MSG_ERROR, then 0.
 * HUSH_E_INVAL if req_type is not a request this protocol carries.
 */
int	netframe_reply_types(uint16_t req_type, uint16_t out[3]);

/* A frame's request id, read or rewritten in place (buf holds a header). */
uint32_t netframe_get_id(const uint8_t *buf);
void	netframe_set_id(uint8_t *buf, uint32_t id);

#endif

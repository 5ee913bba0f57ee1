/*
 * Cutting the peer byte stream into frames and checking them; see
 * netframe.h.  Nothing here allocates more than a header has been checked
 * to allow, and every buffer that held peer bytes is wiped: DSP_FORWARD
 * carries secret values and JOIN_REQUEST a join token.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lockmem.h"
#include "netframe.h"

const uint16_t netframe_dsp_requests[] = {
	DSP_FORWARD, DSP_QUERY, DSP_RENEW, DSP_HEARTBEAT, DSP_ASSIGNMENTS, DSP_REPAIR, 0
};
const uint16_t netframe_join_requests[] = { JOIN_REQUEST, 0 };
const uint16_t netframe_join_hello[] = { JOIN_HELLO, 0 };

void
netframe_rd_init(struct netframe_rd *rd, size_t max)
{
	memset(rd, 0, sizeof(*rd));
	rd->max = max < WIRE_MAX_MSG ? max : WIRE_MAX_MSG;
}

void
netframe_free(uint8_t *frame)
{
	lockmem_free(frame);	/* wipes; NULL is fine */
}

void
netframe_rd_free(struct netframe_rd *rd)
{
	netframe_free(rd->buf);
	sodium_memzero(rd->hdr, sizeof(rd->hdr));
	rd->buf = NULL;
	rd->hlen = rd->need = rd->have = 0;
}

int
netframe_rd_partial(const struct netframe_rd *rd)
{
	return rd->hlen > 0;
}

int
netframe_rd_feed(struct netframe_rd *rd, const uint8_t *p, size_t len,
    size_t *used, uint8_t **frame, size_t *framelen)
{
	struct wire_hdr h;
	size_t n, off = 0;
	int r;

	*used = 0;
	*frame = NULL;
	*framelen = 0;
	if (rd->hlen < WIRE_HDR_LEN) {
		n = WIRE_HDR_LEN - rd->hlen;
		if (n > len)
			n = len;
		memcpy(rd->hdr + rd->hlen, p, n);
		rd->hlen += n;
		off += n;
		*used = off;
		if (rd->hlen < WIRE_HDR_LEN)
			return 0;
		/* The length is the peer's claim: bound it before allocating. */
		if ((r = wire_peek_hdr(rd->hdr, WIRE_HDR_LEN, &h)) != 0)
			return r;
		if (h.length > rd->max - WIRE_HDR_LEN)
			return HUSH_E_TOOBIG;
		rd->need = WIRE_HDR_LEN + (size_t)h.length;
		if ((rd->buf = lockmem_alloc(rd->need)) == NULL)
			return HUSH_E_NOMEM;
		memcpy(rd->buf, rd->hdr, WIRE_HDR_LEN);
		rd->have = WIRE_HDR_LEN;
	}
	n = rd->need - rd->have;
	if (n > len - off)
		n = len - off;
	memcpy(rd->buf + rd->have, p + off, n);
	rd->have += n;
	off += n;
	*used = off;
	if (rd->have < rd->need)
		return 0;
	*frame = rd->buf;
	*framelen = rd->need;
	rd->buf = NULL;
	sodium_memzero(rd->hdr, sizeof(rd->hdr));
	rd->hlen = rd->need = rd->have = 0;
	return 0;
}

int
netframe_parse(const uint8_t *buf, size_t len, size_t max,
    const uint16_t *allowed, struct wire_msg *m, char *why, size_t whylen)
{
	if (len > max) {
		snprintf(why, whylen, "frame of %zu bytes is over the limit of %zu",
		    len, max);
		return HUSH_E_TOOBIG;
	}
	return msg_parse(buf, len, max, allowed, m, why, whylen);
}

size_t
netframe_payload_max(void)
{
	const struct wire_msg_spec *spec = msg_spec(NET_PEER_REQUEST);
	size_t i;

	for (i = 0; spec != NULL && i < spec->nfields; i++)
		if (spec->fields[i].tag == T_PAYLOAD)
			return spec->fields[i].max_len;
	return 0;
}

int
netframe_reply_types(uint16_t req_type, uint16_t out[3])
{
	switch (req_type) {
	case DSP_FORWARD:
	case DSP_QUERY:
	case DSP_RENEW:
	case DSP_HEARTBEAT:
	case DSP_ASSIGNMENTS:
	case DSP_REPAIR:
	case JOIN_REQUEST:
		break;
	default:
		return HUSH_E_INVAL;
	}
	out[0] = (uint16_t)(req_type | MSG_REPLY);
	out[1] = MSG_ERROR;
	out[2] = 0;
	return 0;
}

uint32_t
netframe_get_id(const uint8_t *buf)
{
	return (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
	    (uint32_t)buf[6] << 8 | (uint32_t)buf[7];
}

void
netframe_set_id(uint8_t *buf, uint32_t id)
{
	buf[4] = (uint8_t)(id >> 24);
	buf[5] = (uint8_t)(id >> 16);
	buf[6] = (uint8_t)(id >> 8);
	buf[7] = (uint8_t)id;
}

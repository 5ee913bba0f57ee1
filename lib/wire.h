/*
 * The one codec for every hush channel: privsep socketpairs, the control
 * socket and the peer protocol.  Having a single parser means a single place
 * to get bounds checks right.
 *
 * A message is a 12-byte header followed by a list of TLV fields, all
 * integers in network byte order:
 *
 *	header:	u16 version | u16 type | u32 request_id | u32 length
 *	field:	u16 tag | u32 len | len bytes
 *
 * where header.length is the number of body bytes after the header.  A BYTES
 * field may itself carry a header-less TLV list (wire_decode_fields(),
 * wire_enc_init_fields()).
 *
 * Reading a message is always decode, then validate against the schema
 * declared in msg.h, then use the getters; the getters re-check lengths so a
 * forgotten validate cannot turn into an over-read.
 *
 * Error codes:
 *	HUSH_E_TRUNCATED  the buffer is shorter than the header says (a stream
 *			  reader may wait for more bytes)
 *	HUSH_E_VERSION	  header version is not WIRE_VERSION
 *	HUSH_E_TOOBIG	  message larger than the channel maximum, an encoder
 *			  exceeding its maximum, a value that does not fit the
 *			  caller's buffer, or a BYTES/STR field over max_len
 *	HUSH_E_FORMAT	  structurally malformed: trailing bytes, a field running
 *			  past the end of the body, too many fields, a field of
 *			  the wrong size for the getter used
 *	HUSH_E_PROTO	  well-formed but violates the schema
 *	HUSH_E_NOTFOUND	  getter: field absent
 */
#ifndef HUSH_WIRE_H
#define HUSH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION		1
#define WIRE_HDR_LEN		12
#define WIRE_FIELD_HDR_LEN	6
#define WIRE_MAX_FIELDS		256		/* a message with more fields is malformed */
#define WIRE_MAX_MSG		(4u * 1024 * 1024) /* absolute cap; channels set lower ones */

enum wire_kind {
	WIRE_BYTES,
	WIRE_STR,	/* no NUL bytes on the wire; getter NUL-terminates */
	WIRE_U8,
	WIRE_U16,
	WIRE_U32,
	WIRE_U64,
	WIRE_BOOL,	/* 1 byte, 0 or 1 */
	WIRE_I64,	/* two's complement, 8 bytes */
};

#define WIRE_F_REQUIRED	0x1
#define WIRE_F_REPEATED	0x2

struct wire_field_spec {
	uint16_t	 tag;
	const char	*name;
	enum wire_kind	 kind;
	uint32_t	 flags;
	uint32_t	 min_len, max_len;	/* BYTES/STR only; fixed kinds have implied exact lengths */
};

struct wire_msg_spec {
	uint16_t			 type;
	const char			*name;
	const struct wire_field_spec	*fields;
	size_t				 nfields;
};

struct wire_hdr {
	uint16_t	version, type;
	uint32_t	request_id, length;
};

struct wire_field {
	uint16_t	 tag;
	uint32_t	 len;
	const uint8_t	*val;	/* points into the decoded buffer */
};

struct wire_msg {
	struct wire_hdr		hdr;
	size_t			nfields;
	struct wire_field	fields[WIRE_MAX_FIELDS];
};

/* ---- decoding ----------------------------------------------------------- */

/*
 * Reads the header from the first WIRE_HDR_LEN bytes of buf.  Checks the
 * version and that the body fits under WIRE_MAX_MSG, so a stream reader can
 * trust hdr->length enough to compare it with its own channel limit.
 */
int	wire_peek_hdr(const uint8_t *buf, size_t len, struct wire_hdr *hdr);

/*
 * A run of whole messages in buf from off: as many as fit in max bytes,
 * and at least one.  Returns where the run ends (off when the message at
 * off has no sound header or runs past len); *count (may be NULL) gets
 * how many it holds.  Only headers are read: the caller parses the rest.
 */
size_t	wire_msgs_span(const uint8_t *buf, size_t len, size_t off, size_t max,
	    size_t *count);

/*
 * Parses buf, which must be exactly one message (WIRE_HDR_LEN + hdr.length
 * bytes, no trailing data), into m.  max caps the whole message (header
 * included) and is itself capped at WIRE_MAX_MSG.  Field values point into
 * buf, so buf must outlive m.  On failure m holds no fields.
 */
int	wire_decode(const uint8_t *buf, size_t len, size_t max, struct wire_msg *m);

/* Parses a header-less TLV list (a nested message); m->hdr is zeroed. */
int	wire_decode_fields(const uint8_t *buf, size_t len, struct wire_msg *m);

/*
 * Checks m against spec: for a message from wire_decode() the header type
 * must be spec->type (a field list from wire_decode_fields() has no type);
 * no unknown tags; no repeats of a tag without WIRE_F_REPEATED; every
 * WIRE_F_REQUIRED tag present; fixed kinds of exact length; BYTES/STR within
 * [min_len, max_len]; STR without NUL; BOOL 0 or 1.  On failure writes a
 * "field 'name': reason" line into why (if why is non-NULL) and returns
 * HUSH_E_TOOBIG for a value over max_len, HUSH_E_PROTO otherwise.  Never
 * copies field values into why: they may be key bytes.
 */
int	wire_validate(const struct wire_msg *m, const struct wire_msg_spec *spec,
	    char *why, size_t whylen);

/* ---- getters ------------------------------------------------------------ */

/* The nth (from 0) field with tag, or NULL. */
const struct wire_field *wire_find(const struct wire_msg *m, uint16_t tag, size_t nth);
size_t	wire_count(const struct wire_msg *m, uint16_t tag);

/*
 * The first field with tag.  HUSH_E_NOTFOUND if absent, HUSH_E_FORMAT if its
 * length or value does not fit the kind.  *out is untouched on failure.
 */
int	wire_get_u8(const struct wire_msg *m, uint16_t tag, uint8_t *out);
int	wire_get_u16(const struct wire_msg *m, uint16_t tag, uint16_t *out);
int	wire_get_u32(const struct wire_msg *m, uint16_t tag, uint32_t *out);
int	wire_get_u64(const struct wire_msg *m, uint16_t tag, uint64_t *out);
int	wire_get_i64(const struct wire_msg *m, uint16_t tag, int64_t *out);
int	wire_get_bool(const struct wire_msg *m, uint16_t tag, bool *out);
/* HUSH_E_TOOBIG if the value and its NUL do not fit outcap; out is "" on failure when outcap > 0. */
int	wire_get_str(const struct wire_msg *m, uint16_t tag, char *out, size_t outcap);
/* *p points into the decoded buffer. */
int	wire_get_bytes(const struct wire_msg *m, uint16_t tag, const uint8_t **p, size_t *len);

/*
 * The same conversions for one field, e.g. each instance of a REPEATED tag
 * found with wire_find().  Same return codes as above except NOTFOUND.
 */
int	wire_field_u8(const struct wire_field *f, uint8_t *out);
int	wire_field_u16(const struct wire_field *f, uint16_t *out);
int	wire_field_u32(const struct wire_field *f, uint32_t *out);
int	wire_field_u64(const struct wire_field *f, uint64_t *out);
int	wire_field_i64(const struct wire_field *f, int64_t *out);
int	wire_field_bool(const struct wire_field *f, bool *out);
int	wire_field_str(const struct wire_field *f, char *out, size_t outcap);

/* ---- encoding ----------------------------------------------------------- */

/*
 * A growable buffer with a hard maximum.  Errors are sticky: the first one
 * wins and later puts are no-ops, so callers check once, at finish.  The
 * buffer is wiped before it is freed or moved because messages carry key
 * bytes.  Do not touch the members directly.
 */
struct wire_enc {
	uint8_t	*buf;
	size_t	 len, cap, max;
	int	 err;
	size_t	 hdrlen;	/* WIRE_HDR_LEN, or 0 for a header-less field list */
	size_t	 nfields;	/* the decoder rejects more than WIRE_MAX_FIELDS */
	size_t	 nfields_outer;	/* e's own, while a nested record is written */
	bool	 list;		/* a record list: no field cap, read with wire_list_next() */
};

/* max caps the whole message, header included, and is capped at WIRE_MAX_MSG. */
void	wire_enc_init(struct wire_enc *e, uint16_t type, uint32_t request_id, size_t max);
/* A header-less field list, to be carried in a BYTES field of another message. */
void	wire_enc_init_fields(struct wire_enc *e, size_t max);
/*
 * A list of records (as many as fit in max): TLV entries read one at a time
 * with wire_list_next(), so the field cap of a message does not bound how
 * many secrets or nodes a reply can carry.
 */
void	wire_enc_init_list(struct wire_enc *e, size_t max);
/* Next entry at *off: 1 and the entry, 0 at the end, <0 if malformed. */
int	wire_list_next(const uint8_t *buf, size_t len, size_t *off, uint16_t *tag,
	    const uint8_t **val, size_t *vlen);

void	wire_put_u8(struct wire_enc *e, uint16_t tag, uint8_t v);
void	wire_put_u16(struct wire_enc *e, uint16_t tag, uint16_t v);
void	wire_put_u32(struct wire_enc *e, uint16_t tag, uint32_t v);
void	wire_put_u64(struct wire_enc *e, uint16_t tag, uint64_t v);
void	wire_put_i64(struct wire_enc *e, uint16_t tag, int64_t v);
void	wire_put_bool(struct wire_enc *e, uint16_t tag, bool v);
void	wire_put_str(struct wire_enc *e, uint16_t tag, const char *s);
void	wire_put_bytes(struct wire_enc *e, uint16_t tag, const void *p, size_t len);
/*
 * A record nested in a BYTES field, written in place: begin opens field
 * tag and returns where it starts; the puts that follow are its fields;
 * end closes it, as one field of e, failing e if it holds more than max
 * bytes.  The same bytes as encoding the record on its own
 * (wire_enc_init_fields) and putting it with wire_put_bytes, without a
 * buffer per record.
 */
size_t	wire_put_nested_begin(struct wire_enc *e, uint16_t tag);
void	wire_put_nested_end(struct wire_enc *e, size_t begin, size_t max);

/*
 * Fills in the header length and returns e->err.  On success *buf and *len
 * describe the encoding, which stays owned by e until wire_enc_free(); on
 * failure they are NULL/0.
 */
__attribute__((warn_unused_result))
int	wire_enc_finish(struct wire_enc *e, const uint8_t **buf, size_t *len);
/* The request id e was started with; 0 for a field list or a failed start. */
uint32_t wire_enc_request_id(const struct wire_enc *e);
/* How many bytes e holds so far: what a page of records has used. */
size_t	wire_enc_len(const struct wire_enc *e);
/*
 * Drops, and wipes, what a record list (wire_enc_init_list) took after
 * it held len bytes: the record that overfilled a page.  Anything else,
 * or a len beyond what e holds, is an error of e.
 */
void	wire_enc_rewind(struct wire_enc *e, size_t len);
/* Wipes and frees; idempotent. */
void	wire_enc_free(struct wire_enc *e);

#endif

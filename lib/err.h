/*
 * One error convention for all of hush: functions that can fail return 0 or
 * a negative HUSH_E_* code, and hush_strerror() turns a code into the text an
 * operator sees.  Codes travel on the wire (as positive u32 in replies), so
 * never renumber an existing one: append.
 */
#ifndef HUSH_ERR_H
#define HUSH_ERR_H

#define HUSH_ERRORS(X)                                                        \
	X(HUSH_OK,             0,  "success")                                     \
	X(HUSH_E_NOMEM,       -1,  "out of memory")                               \
	X(HUSH_E_INVAL,       -2,  "invalid argument")                            \
	X(HUSH_E_TRUNCATED,   -3,  "truncated input")                             \
	X(HUSH_E_TOOBIG,      -4,  "input too large")                             \
	X(HUSH_E_FORMAT,      -5,  "malformed input")                             \
	X(HUSH_E_PREFIX,      -6,  "wrong prefix")                                \
	X(HUSH_E_ENCODING,    -7,  "bad encoding")                                \
	X(HUSH_E_CRYPTO,      -8,  "cryptographic operation failed")              \
	X(HUSH_E_AUTH,        -9,  "authentication failed")                       \
	X(HUSH_E_IO,          -10, "I/O error")                                   \
	X(HUSH_E_SYS,         -11, "system call failed")                          \
	X(HUSH_E_PROTO,       -12, "protocol violation")                          \
	X(HUSH_E_NOTFOUND,    -13, "not found")                                   \
	X(HUSH_E_EXISTS,      -14, "already exists")                              \
	X(HUSH_E_PERM,        -15, "permission denied")                           \
	X(HUSH_E_LOCKED,      -16, "hush is locked: run 'hushctl unlock'")        \
	X(HUSH_E_BADKEY,      -17, "invalid unlock key")                          \
	X(HUSH_E_NOTINIT,     -18, "this node is not part of a cluster: run 'hushctl init'") \
	X(HUSH_E_ALREADYINIT, -19, "this node is already part of a cluster")      \
	X(HUSH_E_UNAVAIL,     -20, "temporarily unavailable, try again")          \
	X(HUSH_E_NOTLEADER,   -21, "this node is not the raft leader")            \
	X(HUSH_E_VERSION,     -22, "unsupported version")                         \
	X(HUSH_E_INUSE,       -23, "in use")                                      \
	X(HUSH_E_INTERNAL,    -24, "internal error")                              \
	X(HUSH_E_RANGE,       -25, "value out of range")                          \
	X(HUSH_E_TIMEOUT,     -26, "timed out")                                   \
	X(HUSH_E_NOTLOCKED,   -27, "autolock is not enabled on this cluster")     \
	X(HUSH_E_CORRUPT,     -28, "stored data is corrupt")                      \
	X(HUSH_E_NOSPACE,     -29, "no space left on device")                     \
	X(HUSH_E_BUSY,        -30, "hushd is busy: too many control connections, try again")

enum hush_err {
#define HUSH_ERR_ENUM(name, value, text) name = value,
	HUSH_ERRORS(HUSH_ERR_ENUM)
#undef HUSH_ERR_ENUM
};

#define HUSH_E_MIN (-30)

/* Text for a code; never NULL, unknown codes get a generic string. */
const char *hush_strerror(int code);

/* Map a wire value back to a code, rejecting anything out of range. */
int hush_err_from_wire(unsigned int v);

#include <stddef.h>

/*
 * The one-line reason that goes with an error code: printf into why, if
 * the caller gave room for one (why may be NULL).  Every checker of
 * untrusted input reports through it.
 */
void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * s[0..len) as it may appear between single quotes in such a reason: at
 * most WHY_QUOTE_OUT bytes, printable ASCII as itself except the quote and
 * the backslash, the rest as \xNN, and "..." when cut short.  No escape
 * sequence reaches the operator's terminal and a huge input stays short.
 */
#define WHY_QUOTE_OUT	48
#define WHY_QUOTE_CAP	(WHY_QUOTE_OUT + sizeof("..."))
const char *why_quote(const char *s, size_t len, char buf[WHY_QUOTE_CAP]);

#endif

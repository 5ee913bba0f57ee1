/*
 * The smallest HTTP/1.1 client that etcd's JSON gateway needs: POST with
 * a JSON body on a kept-alive TCP connection, and a response read with
 * every length bounded.  The response is untrusted bytes from a socket:
 * the head and the body have hard caps, and a malformed status line,
 * length or chunk is an error that says what was wrong.  The body comes
 * with a Content-Length or chunked: etcd's gateway (Go's net/http)
 * chunks any answer over 2 KiB, a list or a large value; any other
 * transfer coding is refused.
 */
#ifndef STORELOAD_HTTP_H
#define STORELOAD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX	(16 * 1024)
#define HTTP_BODY_MAX	(64 * 1024 * 1024)
#define HTTP_TIMEOUT_S	60
/* A chunk size line's longest: 8 hex digits and an extension we skip. */
#define HTTP_CHUNK_LINE_MAX	256
#define HTTP_CHUNK_DIGITS_MAX	8

struct http_conn {
	int	 fd;
	char	 host[128];
	char	 port[16];
	/* the response being read; empty between requests */
	char	*buf;
	size_t	 len, cap;
};

struct http_resp {
	int	 status;
	bool	 close;		/* the server will close: reconnect next time */
	char	*body;		/* NUL-terminated; owned by the response */
	size_t	 body_len;
};

/* addr is HOST:PORT (a numeric IPv4 or a name). */
int	http_open(struct http_conn *c, const char *addr, char *err, size_t errlen);
void	http_close(struct http_conn *c);
/*
 * POST body to path; on success resp holds the answer (free with
 * http_resp_free).  Bytes the server sends past its answer are an error:
 * we never pipeline, so they cannot belong to a later request.  After an
 * error the connection is out of step: close it.
 */
int	http_post(struct http_conn *c, const char *path, const char *body, size_t len,
	    struct http_resp *resp, char *err, size_t errlen);
void	http_resp_free(struct http_resp *r);

/*
 * Finds the end of a response head in buf[0..len): 0 with *head_len (up to
 * and including the empty line), 1 if it may yet come, -1 with err if it
 * does not end within HTTP_HEAD_MAX bytes.
 */
int	http_head_end(const char *buf, size_t len, size_t *head_len, char *err,
	    size_t errlen);

/*
 * Parses a response head (status line and headers, up to and including the
 * empty line) of head_len bytes: status, Content-Length or chunked,
 * Connection: close.  Refuses a transfer coding other than chunked, both
 * or neither of the two, a malformed length, and one over HTTP_BODY_MAX.
 */
int	http_parse_head(const char *head, size_t head_len, int *status,
	    size_t *content_length, bool *chunked, bool *close, char *err,
	    size_t errlen);

/*
 * Decodes the chunked body at p[0..len): 1 if it has not all arrived,
 * -1 with err if it is malformed or decodes to over HTTP_BODY_MAX bytes,
 * 0 when whole: *body (malloc'ed, NUL-terminated) holds *body_len bytes
 * and the encoding took *used bytes of p, trailers included.
 */
int	http_dechunk(const char *p, size_t len, char **body, size_t *body_len,
	    size_t *used, char *err, size_t errlen);

#endif

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http.h"

int
http_open(struct http_conn *c, const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { HTTP_TIMEOUT_S, 0 };
	const char *colon = strrchr(addr, ':');
	size_t hl;
	int one = 1, r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (colon == NULL || (hl = (size_t)(colon - addr)) == 0 || hl >= sizeof(c->host) ||
	    strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(c->port)) {
		snprintf(err, errlen, "bad endpoint '%.64s' (want HOST:PORT)", addr);
		return -1;
	}
	memcpy(c->host, addr, hl);
	strcpy(c->port, colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(c->host, c->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", addr, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) < 0)
			continue;
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(c->fd);
		c->fd = -1;
	}
	r = errno;
	freeaddrinfo(res);
	if (c->fd < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", addr, strerror(r));
		return -1;
	}
	/* small requests: no Nagle delay; a hung server becomes an error */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

void
http_close(struct http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

void
http_resp_free(struct http_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Case-insensitive: does the header line [p, p+len) name header name? */
static const char *
header_value(const char *p, size_t len, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);

	if (len <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
		return NULL;
	p += nl + 1;
	len -= nl + 1;
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	*vlen = len;
	return p;
}

int
http_parse_head(const char *head, size_t head_len, int *status,
    size_t *content_length, bool *chunked, bool *close, char *err, size_t errlen)
{
	const char *p = head, *end = head + head_len, *eol, *v;
	size_t len, vlen, cl = 0;
	bool have_cl = false;
	int minor;

	*status = 0;
	*content_length = 0;
	*chunked = false;
	*close = false;
	/* status line: HTTP/1.x DDD reason */
	if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL ||
	    eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9' || (eol - p > 12 && p[12] != ' ')) {
		snprintf(err, errlen, "malformed HTTP status line");
		return -1;
	}
	minor = p[7] - '0';
	*status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	*close = minor == 0;
	for (p = eol + 2; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL) {
			snprintf(err, errlen, "HTTP header line without CRLF");
			return -1;
		}
		len = (size_t)(eol - p);
		if (len == 0)
			break;		/* the empty line ends the head */
		if ((v = header_value(p, len, "Transfer-Encoding", &vlen)) != NULL) {
			if (vlen != 7 || strncasecmp(v, "chunked", 7) != 0 || *chunked) {
				snprintf(err, errlen, "HTTP Transfer-Encoding other than "
				    "one 'chunked': not supported");
				return -1;
			}
			*chunked = true;
		}
		if ((v = header_value(p, len, "Content-Length", &vlen)) != NULL) {
			size_t n = 0;

			if (vlen == 0 || vlen > 10) {
				snprintf(err, errlen, "bad HTTP Content-Length");
				return -1;
			}
			for (size_t i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9') {
					snprintf(err, errlen, "bad HTTP Content-Length");
					return -1;
				}
				n = n * 10 + (size_t)(v[i] - '0');
			}
			if (have_cl && n != cl) {
				snprintf(err, errlen, "two different HTTP Content-Lengths");
				return -1;
			}
			cl = n;
			have_cl = true;
		}
		if ((v = header_value(p, len, "Connection", &vlen)) != NULL)
			*close = vlen == 5 && strncasecmp(v, "close", 5) == 0;
	}
	if (p >= end) {
		snprintf(err, errlen, "HTTP head without its empty line");
		return -1;
	}
	if (have_cl == *chunked) {
		snprintf(err, errlen, "HTTP response with %s", have_cl ?
		    "both Content-Length and chunked" : "neither Content-Length nor chunked");
		return -1;
	}
	if (cl > HTTP_BODY_MAX) {
		snprintf(err, errlen, "HTTP body of %zu bytes, over the %d limit", cl,
		    HTTP_BODY_MAX);
		return -1;
	}
	*content_length = cl;
	return 0;
}

int
http_dechunk(const char *p, size_t len, char **body, size_t *body_len,
    size_t *used, char *err, size_t errlen)
{
	const char *eol;
	size_t off = 0, out_len = 0, size, digits, line;
	char *out;
	int r = -1;

	*body = NULL;
	*body_len = *used = 0;
	/* the decoded body is never longer than its encoding */
	if ((out = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		/*
		 * A line still arriving may be the longest allowed and the CR
		 * of its CRLF: the answer must not depend on where TCP split.
		 */
		if ((eol = memmem(p + off, len - off, "\r\n", 2)) == NULL) {
			r = len - off > HTTP_CHUNK_LINE_MAX + 1 ? -1 : 1;
			if (r < 0)
				snprintf(err, errlen, "HTTP chunk size line too long");
			goto out;
		}
		line = (size_t)(eol - (p + off));
		if (line > HTTP_CHUNK_LINE_MAX) {
			snprintf(err, errlen, "HTTP chunk size line too long");
			goto out;
		}
		size = 0;
		for (digits = 0; digits < line; digits++) {
			char ch = p[off + digits];
			unsigned d;

			if (ch >= '0' && ch <= '9')
				d = (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				d = (unsigned)(ch - 'a' + 10);
			else if (ch >= 'A' && ch <= 'F')
				d = (unsigned)(ch - 'A' + 10);
			else
				break;
			if (digits == HTTP_CHUNK_DIGITS_MAX) {
				snprintf(err, errlen, "HTTP chunk size over %d hex digits",
				    HTTP_CHUNK_DIGITS_MAX);
				goto out;
			}
			size = size * 16 + d;
		}
		if (digits == 0 || (digits < line && p[off + digits] != ';')) {
			snprintf(err, errlen, "malformed HTTP chunk size line");
			goto out;
		}
		off += line + 2;
		if (size == 0)
			break;
		if (size > HTTP_BODY_MAX - out_len) {
			snprintf(err, errlen, "HTTP chunked body over %d bytes", HTTP_BODY_MAX);
			goto out;
		}
		if (len - off < size + 2) {
			r = 1;
			goto out;
		}
		memcpy(out + out_len, p + off, size);
		out_len += size;
		off += size;
		if (p[off] != '\r' || p[off + 1] != '\n') {
			snprintf(err, errlen, "HTTP chunk not followed by CRLF");
			goto out;
		}
		off += 2;
	}
	/* trailers, which we skip, up to an empty line */
	for (;;) {
		if ((eol = memmem(p + off, len - off, "\r\n", 2)) == NULL) {
			r = len - off > HTTP_HEAD_MAX + 1 ? -1 : 1;
			if (r < 0)
				snprintf(err, errlen, "HTTP trailer too long");
			goto out;
		}
		line = (size_t)(eol - (p + off));
		if (line > HTTP_HEAD_MAX) {
			snprintf(err, errlen, "HTTP trailer too long");
			goto out;
		}
		off += line + 2;
		if (line == 0)
			break;
	}
	out[out_len] = '\0';
	*body = out;
	*body_len = out_len;
	*used = off;
	out = NULL;
	r = 0;
out:
	free(out);
	return r;
}

int
http_head_end(const char *buf, size_t len, size_t *head_len, char *err,
    size_t errlen)
{
	const char *end = NULL;

	*head_len = 0;
	/* the empty line counts only if it ends within the limit */
	if (len >= 4)
		end = memmem(buf, len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX,
		    "\r\n\r\n", 4);
	if (end != NULL) {
		*head_len = (size_t)(end - buf) + 4;
		return 0;
	}
	if (len >= HTTP_HEAD_MAX) {
		snprintf(err, errlen, "HTTP head longer than %d bytes", HTTP_HEAD_MAX);
		return -1;
	}
	return 1;
}

/* Reads more into c->buf, up to want bytes held in all; 0, or -1 at EOF/error. */
static int
fill(struct http_conn *c, size_t want, char *err, size_t errlen)
{
	char *grown;
	ssize_t n;

	if (want + 1 > c->cap) {
		if ((grown = realloc(c->buf, want + 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		c->buf = grown;
		c->cap = want + 1;
	}
	do
		n = recv(c->fd, c->buf + c->len, want - c->len, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		snprintf(err, errlen, "HTTP connection to %s:%s %s", c->host, c->port,
		    n == 0 ? "closed before the response ended" : strerror(errno));
		return -1;
	}
	c->len += (size_t)n;
	return 0;
}

int
http_post(struct http_conn *c, const char *path, const char *body, size_t len,
    struct http_resp *resp, char *err, size_t errlen)
{
	char head[512];
	size_t head_len, cl;
	bool chunked;
	int n, r;

	memset(resp, 0, sizeof(*resp));
	n = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    path, c->host, c->port, len);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		snprintf(err, errlen, "HTTP request head too long");
		return -1;
	}
	if (write_all(c->fd, head, (size_t)n) != 0 || write_all(c->fd, body, len) != 0) {
		snprintf(err, errlen, "HTTP send to %s:%s: %s", c->host, c->port,
		    strerror(errno));
		return -1;
	}
	/* the head: read until its empty line, at most HTTP_HEAD_MAX bytes */
	while ((r = http_head_end(c->buf, c->len, &head_len, err, errlen)) == 1)
		if (fill(c, HTTP_HEAD_MAX, err, errlen) != 0)
			return -1;
	if (r != 0)
		return -1;
	if (http_parse_head(c->buf, head_len, &resp->status, &cl, &chunked,
	    &resp->close, err, errlen) != 0)
		return -1;
	if (chunked) {
		/* decode what has come; read more while it is incomplete */
		while ((r = http_dechunk(c->buf + head_len, c->len - head_len,
		    &resp->body, &resp->body_len, &cl, err, errlen)) == 1) {
			if (c->len - head_len >= 2 * (size_t)HTTP_BODY_MAX) {
				snprintf(err, errlen, "HTTP chunked body too long");
				return -1;
			}
			if (fill(c, c->len + 256 * 1024, err, errlen) != 0)
				return -1;
		}
		if (r != 0)
			return -1;
	} else {
		while (c->len < head_len + cl)
			if (fill(c, head_len + cl, err, errlen) != 0)
				return -1;
		if ((resp->body = malloc(cl + 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(resp->body, c->buf + head_len, cl);
		resp->body[cl] = '\0';
		resp->body_len = cl;
	}
	/*
	 * We never pipeline, so bytes past the answer are the server's error;
	 * kept, they would be read as the start of the next request's answer
	 * and could even pass for it.
	 */
	if (c->len > head_len + cl) {
		snprintf(err, errlen, "HTTP response followed by %zu unexpected bytes",
		    c->len - head_len - cl);
		http_resp_free(resp);
		return -1;
	}
	c->len = 0;
	return 0;
}

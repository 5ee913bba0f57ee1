/*
 * The same requests to etcd 3.4 through its JSON gateway (grpc-gateway,
 * /v3/kv/...), one kept-alive HTTP/1.1 connection per client.  Keys and
 * values go base64-encoded, as the gateway wants bytes fields.
 *
 *   create  a txn that puts the key only if it does not exist yet
 *           (create_revision == 0): hush's create refuses a taken name,
 *           so a plain put would be doing less work
 *   update  a put of an existing key
 *   get     a range of that one key (its value comes back; hush's inspect
 *           returns metadata only)
 *   list    a range over every key ("\0" to "\0"), in one answer
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "storeload.h"

#define B64(n)	sodium_base64_ENCODED_LEN((n), sodium_base64_VARIANT_ORIGINAL)

static int
etcd_open(struct sl_client *c, char *err, size_t errlen)
{
	struct http_conn *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (http_open(h, c->addr, err, errlen) != 0) {
		free(h);
		return -1;
	}
	c->conn = h;
	return 0;
}

static void
etcd_close(struct sl_client *c)
{
	if (c->conn != NULL) {
		http_close(c->conn);
		free(c->conn);
		c->conn = NULL;
	}
}

/* The printable start of an untrusted body, for an error message. */
static void
snippet(const char *body, size_t len, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; i < len && i + 1 < outlen && i < 200; i++)
		out[i] = body[i] >= 0x20 && body[i] < 0x7f ? body[i] : '?';
	out[i] = '\0';
}

static int
post_json(struct sl_client *c, const char *path, const char *body, json_t **out,
    char *err, size_t errlen)
{
	struct http_conn *h = c->conn;
	struct http_resp resp;
	json_error_t je;
	char snip[224];
	int r = -1;

	*out = NULL;
	if (h == NULL || h->fd < 0) {
		/* the server closed the last one: a new connection, counted in */
		etcd_close(c);
		if (etcd_open(c, err, errlen) != 0)
			return -1;
		h = c->conn;
	}
	if (http_post(h, path, body, strlen(body), &resp, err, errlen) != 0) {
		etcd_close(c);
		return -1;
	}
	if (resp.status != 200) {
		snippet(resp.body, resp.body_len, snip, sizeof(snip));
		snprintf(err, errlen, "%s: HTTP %d: %s", path, resp.status, snip);
	} else if ((*out = json_loadb(resp.body, resp.body_len, 0, &je)) == NULL ||
	    !json_is_object(*out)) {
		snprintf(err, errlen, "%s: answer is not a JSON object: %s", path, je.text);
		json_decref(*out);
		*out = NULL;
	} else
		r = 0;
	if (resp.close) {
		http_close(h);
	}
	http_resp_free(&resp);
	return r;
}

static void
b64(char *out, size_t outlen, const void *p, size_t len)
{
	sodium_bin2base64(out, outlen, p, len, sodium_base64_VARIANT_ORIGINAL);
}

static int
etcd_request(struct sl_client *c, const char *name, unsigned *busy, char *err,
    size_t errlen)
{
	char key[B64(SL_NAME_MAX)], *val = NULL, *body = NULL;
	const size_t vlen = B64(c->cfg->value_size);
	json_t *ans = NULL, *kvs;
	int r = -1, n;
	size_t cap;

	*busy = 0;
	b64(key, sizeof(key), name, strlen(name));
	cap = vlen + 2 * sizeof(key) + 512;
	if ((val = malloc(vlen)) == NULL || (body = malloc(cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	b64(val, vlen, c->value, c->cfg->value_size);
	switch (c->cfg->op) {
	case OP_CREATE:
		n = snprintf(body, cap, "{\"compare\":[{\"key\":\"%s\",\"result\":\"EQUAL\","
		    "\"target\":\"CREATE\",\"create_revision\":\"0\"}],\"success\":"
		    "[{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\"}}]}", key, key, val);
		if (n < 0 || (size_t)n >= cap || post_json(c, "/v3/kv/txn", body, &ans,
		    err, errlen) != 0)
			goto out;
		if (!json_is_true(json_object_get(ans, "succeeded"))) {
			snprintf(err, errlen, "create %s: the key exists already", name);
			goto out;
		}
		break;
	case OP_UPDATE:
		n = snprintf(body, cap, "{\"key\":\"%s\",\"value\":\"%s\"}", key, val);
		if (n < 0 || (size_t)n >= cap || post_json(c, "/v3/kv/put", body, &ans,
		    err, errlen) != 0)
			goto out;
		break;
	case OP_GET:
		snprintf(body, cap, "{\"key\":\"%s\"}", key);
		if (post_json(c, "/v3/kv/range", body, &ans, err, errlen) != 0)
			goto out;
		kvs = json_object_get(ans, "kvs");
		if (!json_is_array(kvs) || json_array_size(kvs) != 1) {
			snprintf(err, errlen, "get %s: not exactly one key in the answer", name);
			goto out;
		}
		break;
	case OP_LIST:
		/* "\0" to "\0": every key */
		snprintf(body, cap, "{\"key\":\"AA==\",\"range_end\":\"AA==\"}");
		if (post_json(c, "/v3/kv/range", body, &ans, err, errlen) != 0)
			goto out;
		kvs = json_object_get(ans, "kvs");
		c->records = json_is_array(kvs) ? json_array_size(kvs) : 0;
		break;
	}
	r = 0;
out:
	json_decref(ans);
	free(val);
	free(body);
	return r;
}

const struct sl_target_ops sl_etcd = { etcd_open, etcd_request, etcd_close };

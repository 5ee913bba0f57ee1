/*
 * The OCI hook's requests: deliver a service's secrets into a container
 * (CTL_CONTAINER_ATTACH, at createRuntime) and take them back
 * (CTL_CONTAINER_DETACH, at poststop).  The parent decides — the service
 * must be placed on this node, its values held here — and the mounter
 * does the mounting.  Both requests are idempotent on the container id, so
 * the hook may resend one whose outcome it does not know.
 *
 * The hook cannot vouch for what it read from the bundle: the pid must be
 * a live process, the paths absolute, the service name well formed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claim.h"
#include "containers.h"
#include "err.h"
#include "log.h"
#include "mounter/mounter.h"
#include "mounter_calls.h"
#include "page.h"
#include "proc_start.h"
#include "secretfs.h"

/* /proc/PID/uid_map: IDMAP_MAX lines of at most 33 bytes, with room. */
#define KERNEL_MAP_MAX	16384

struct attach_ctx {
	struct container	*c;	/* not yet on the list */
	struct mounter_view	 view;	/* what the mounter made */
};

struct container *
ctr_new(void)
{
	struct container *c;

	if ((c = calloc(1, sizeof(*c))) != NULL)
		c->pidfd = -1;
	return c;
}

void
ctr_free(struct container *c)
{
	if (c == NULL)
		return;
	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c);
}

struct container *
ctr_find(struct parent *p, const char *id)
{
	for (struct container *c = p->containers.list; c != NULL; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

void
ctr_forget(struct parent *p, struct container *c)
{
	for (struct container **cp = &p->containers.list; *cp != NULL; cp = &(*cp)->next) {
		if (*cp == c) {
			*cp = c->next;
			break;
		}
	}
	ctr_record_remove(p, c->id);
	ctr_free(c);
}

/* A detach or refresh on its way to the mounter, for the audit record. */
struct revoke_ctx {
	struct parent		*p;
	char			 id[HUSH_CONTAINER_ID_MAX + 1];
	char			 service[SERVICE_NAME_MAX + 1];
	long			 files;
	const char		*reason;
	bool			 audit;		/* a publish: the set changed, record it */
};

static struct revoke_ctx *
revoke_ctx_new(struct parent *p, const struct container *c, long files, const char *reason)
{
	struct revoke_ctx *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->p = p;
	snprintf(x->id, sizeof(x->id), "%s", c->id);
	snprintf(x->service, sizeof(x->service), "%s", c->service);
	x->files = files;
	x->reason = reason;
	return x;
}

/*
 * A digest of a service's file set as this node would deliver it now:
 * which secret version goes to which file, with which owner and mode.
 * Equal digests: a refresh changes nothing a container can see.
 */
void
ctr_set_print(const struct parent *p, const struct assigned_service *svc, uint8_t out[16])
{
	crypto_generichash_state st;
	uint32_t v[4];

	crypto_generichash_init(&st, NULL, 0, 16);
	for (size_t i = 0; svc != NULL && i < svc->ngrants; i++) {
		const struct assigned_grant *g = &svc->grants[i];
		const struct assigned_value *val = assign_find_value(p, g->secret_id);

		v[0] = val != NULL ? val->version : 0;
		v[1] = g->uid;
		v[2] = g->gid;
		v[3] = g->mode;
		crypto_generichash_update(&st, (const uint8_t *)g->secret_id,
		    strlen(g->secret_id) + 1);
		crypto_generichash_update(&st, (const uint8_t *)g->target,
		    strlen(g->target) + 1);
		crypto_generichash_update(&st, (const uint8_t *)v, sizeof(v));
	}
	crypto_generichash_final(&st, out, 16);
}

/* Every failure of an attach after the request was read ends here. */
static void
attach_refused(struct op *op, const struct container *c, int code, const char *why,
    const char *reason)
{
	audit_container(op->p, "container-deliver", c->id, c->service, reason, -1, false);
	op_error(op, code, why);
}

static void
attach_failed(struct op *op, const struct container *c, int code, const char *why)
{
	attach_refused(op, c, code, why, NULL);
}

static void
attach_ctx_free(void *arg)
{
	struct attach_ctx *x = arg;

	ctr_free(x->c);
	free(x);
}

/*
 * Whether the container proved that whoever started it was given svc's
 * claim (lib/claim.h): its T_CLAIM must be a claim hushctl issued for this
 * service and not since rotated.  The service name, the annotation, the
 * image: anything else about a container can be chosen by whoever builds
 * the image or writes the pod spec.  The claim's text is never logged or
 * echoed, only the way it failed; *reason is that way, for the audit
 * record.
 */
static int
check_claim(const struct wire_msg *m, const struct container *c,
    const struct assigned_service *svc, const char **reason, char *why, size_t whylen)
{
	char text[CLAIM_LEN + 2], sub[256];
	uint8_t digest[CLAIM_DIGEST_BYTES];
	struct claim cl;
	int r = HUSH_E_PERM;

	*reason = "bad-claim";
	if (!svc->has_claim) {
		*reason = "no-claim";
		snprintf(why, whylen, "service '%s' has no claim yet: run 'hushctl service "
		    "claim %s' on a manager and give the container what it prints",
		    c->service, c->service);
		return r;
	}
	if (wire_find(m, T_CLAIM, 0) == NULL) {
		*reason = "no-claim";
		snprintf(why, whylen, "service '%s' needs a claim: give the container the "
		    "annotation io.hush.claim or the environment variable HUSH_CLAIM, "
		    "as 'hushctl service claim' issued it", c->service);
		return r;
	}
	if (wire_get_str(m, T_CLAIM, text, sizeof(text)) != 0 ||
	    claim_parse(text, strlen(text), &cl, sub, sizeof(sub)) != 0) {
		snprintf(why, whylen, "the container's claim is malformed (%s)",
		    wire_get_str(m, T_CLAIM, text, sizeof(text)) != 0 ? "too long" : sub);
	} else if (strcmp(cl.service_id, svc->id) != 0) {
		snprintf(why, whylen, "the container's claim is for another service, "
		    "not '%s'", c->service);
	} else {
		claim_digest(&cl, digest);
		if (claim_digest_equal(digest, svc->claim_digest))
			r = 0;
		else
			snprintf(why, whylen, "the container's claim does not match "
			    "service '%s' (it was rotated, or never issued)", c->service);
	}
	claim_wipe(&cl);
	sodium_memzero(text, sizeof(text));
	sodium_memzero(digest, sizeof(digest));
	if (r != 0)
		log_warn("container %.64s: refused the secrets of service %s: %s", c->id,
		    c->service, why);
	return r;
}

/*
 * The pidfd the hook took of the container's process, which must be of
 * the pid it names.  Taken from op into c.
 */
static int
take_pidfd(struct op *op, struct container *c, char *why, size_t whylen)
{
	pid_t named;
	int r;

	if (!op->has_fd) {
		snprintf(why, whylen, "no pidfd of the container's process came with "
		    "the request (an older hush-oci-hook?)");
		return HUSH_E_PROTO;
	}
	c->pidfd = op->fd;
	op->has_fd = false;
	if ((r = proc_pidfd_pid(c->pidfd, &named)) != 0 || named != c->pid) {
		snprintf(why, whylen, "the pidfd that came with the request is %s",
		    r == HUSH_E_NOTFOUND ? "of a process that has ended" :
		    r != 0 ? "not a pidfd" : "of another process");
		return r == HUSH_E_NOTFOUND ? r : HUSH_E_INVAL;
	}
	if (proc_pidfd_alive(c->pidfd) != 0) {
		snprintf(why, whylen, "process %ld has ended", (long)c->pid);
		return HUSH_E_NOTFOUND;
	}
	return 0;
}

static void
attached(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct attach_ctx *x = op->ctx;
	struct wire_enc e;

	if (status != 0) {
		attach_failed(op, x->c, status, detail);
		return;
	}
	x->c->count = x->view.count;
	x->c->view_id = x->view.view_id;
	x->c->start = x->view.start;
	x->c->attached = parent_now();
	x->c->state = CTR_HELD;
	log_info("container %.64s: %u file(s) of service %s delivered", x->c->id,
	    x->c->count, x->c->service);
	audit_container(p, "container-deliver", x->c->id, x->c->service, NULL,
	    (long)x->c->count, true);
	x->c->next = p->containers.list;
	p->containers.list = x->c;
	ctr_record_write(p, x->c);
	wire_enc_init(&e, CTL_CONTAINER_ATTACH | MSG_REPLY, op->client_req, 64);
	wire_put_u32(&e, T_COUNT, x->c->count);
	x->c = NULL;
	op_reply(op, &e);
}

/* One file of the set: the held value, its owner as the host sees it. */
static int
put_file(struct wire_enc *e, const struct assigned_grant *g, const struct assigned_value *v,
    const struct idmap *uids, const struct idmap *gids, char *why, size_t whylen)
{
	char name[SECRETFS_NAME_MAX + 1];
	struct wire_enc f;
	const uint8_t *buf;
	uint32_t uid = g->uid, gid = g->gid;
	size_t len;
	int r;

	/* An absolute target travels as its name in the tmpfs (mounter.h). */
	if (snprintf(name, sizeof(name), "%s%s", g->target[0] == '/' ?
	    MOUNTER_ABS_DIR : "", g->target) >= (int)sizeof(name)) {
		snprintf(why, whylen, "secret target '%.64s...' is too long to "
		    "deliver outside /run/secrets", g->target);
		return HUSH_E_INVAL;
	}
	if ((uids != NULL && idmap_to_host(uids, g->uid, &uid) != 0) ||
	    (gids != NULL && idmap_to_host(gids, g->gid, &gid) != 0)) {
		snprintf(why, whylen, "secret target '%.64s': owner %u:%u is not mapped in "
		    "the container's user namespace", g->target, g->uid, g->gid);
		return HUSH_E_INVAL;
	}
	wire_enc_init_fields(&f, HUSH_SECRET_MAX + 1024);
	wire_put_str(&f, T_NAME, name);
	wire_put_u32(&f, T_UID, uid);
	wire_put_u32(&f, T_GID, gid);
	wire_put_u32(&f, T_MODE, g->mode);
	wire_put_bytes(&f, T_DATA, v->data.p, v->data.len);
	if ((r = wire_enc_finish(&f, &buf, &len)) == 0)
		wire_put_bytes(e, T_FILE, buf, len);
	wire_enc_free(&f);	/* wipes the copy of the value */
	return r;
}

/* Every file of the service's set, for MNTR_ATTACH or MNTR_PUBLISH. */
int
ctr_put_files(struct parent *p, struct wire_enc *e, const struct container *c,
    const struct assigned_service *svc, char *why, size_t whylen)
{
	int r = 0;

	for (size_t i = 0; svc != NULL && i < svc->ngrants && r == 0; i++) {
		const struct assigned_grant *g = &svc->grants[i];
		const struct assigned_value *v = assign_find_value(p, g->secret_id);

		if (v == NULL) {
			snprintf(why, whylen, "the secrets of service '%s' have not all "
			    "reached this node yet", c->service);
			return HUSH_E_UNAVAIL;
		}
		r = put_file(e, g, v, c->have_uids ? &c->uids : NULL,
		    c->have_gids ? &c->gids : NULL, why, whylen);
	}
	return r;
}

/*
 * The container's id map as the kernel has it (/proc/PID/uid_map or
 * gid_map), not as the hook read it from config.json: the kernel's is the
 * one that decides what the container sees, and the hook's caller could
 * write anything in a bundle.  By createRuntime the runtime has set the
 * maps (runc, crun and podman all write them before running the hook).
 * A process in the host's user namespace has no map to apply (*have false).
 */
static int
kernel_map(pid_t pid, const char *file, struct idmap *map, bool *have, char *why,
    size_t whylen)
{
	char path[64], *text, sub[256];
	size_t len = 0;
	bool identity;
	ssize_t n;
	int fd, r;

	*have = false;
	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "cannot read the container's %s: %s", file,
		    strerror(errno));
		return HUSH_E_NOTFOUND;
	}
	if ((text = malloc(KERNEL_MAP_MAX)) == NULL) {
		close(fd);
		return HUSH_E_NOMEM;
	}
	while ((n = read(fd, text + len, KERNEL_MAP_MAX - len)) > 0 &&
	    (len += (size_t)n) < KERNEL_MAP_MAX)
		;
	r = n < 0 ? errno : 0;
	close(fd);
	if (r != 0 || len == KERNEL_MAP_MAX) {
		snprintf(why, whylen, "cannot read the container's %s: %s", file,
		    r != 0 ? strerror(r) : "too long");
		free(text);
		return HUSH_E_SYS;
	}
	r = idmap_parse_proc(text, len, map, &identity, sub, sizeof(sub));
	free(text);
	if (r != 0) {
		snprintf(why, whylen, "the container's %s: %s", file, sub);
		return r;
	}
	*have = !identity;
	return 0;
}

int
ctr_kernel_maps(struct container *c, char *why, size_t whylen)
{
	int r = kernel_map(c->pid, "uid_map", &c->uids, &c->have_uids, why, whylen);

	return r != 0 ? r : kernel_map(c->pid, "gid_map", &c->gids, &c->have_gids,
	    why, whylen);
}

/* What config.json said, when it differs from the kernel: worth a line. */
static void
note_config_map(const struct container *c, const struct wire_msg *m, uint16_t tag,
    const struct idmap *kernel, bool have, const char *file)
{
	struct idmap *told;
	const uint8_t *p;
	size_t len;
	char why[128];

	if (wire_get_bytes(m, tag, &p, &len) != 0)
		len = 0;
	if ((told = calloc(1, sizeof(*told))) == NULL)
		return;
	if (len > 0 && idmap_decode(p, len, told, why, sizeof(why)) != 0)
		told->n = (size_t)-1;
	if ((len == 0 && have) || (len > 0 && (!have || told->n != kernel->n ||
	    memcmp(told->ext, kernel->ext, kernel->n * sizeof(kernel->ext[0])) != 0)))
		log_warn("container %.64s: its config.json's %s differs from the "
		    "kernel's; the kernel's is used", c->id, file);
	free(told);
}

void
op_container_attach(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	const struct assigned_service *svc;
	struct attach_ctx *x;
	struct container *c;
	struct wire_enc e;
	const char *reason;
	char why[512];
	uint32_t pid;
	int r;

	if ((c = ctr_new()) == NULL || (x = calloc(1, sizeof(*x))) == NULL) {
		ctr_free(c);
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	x->c = c;
	op->ctx = x;
	op->ctx_free = attach_ctx_free;
	wire_get_str(m, T_CONTAINER_ID, c->id, sizeof(c->id));
	wire_get_str(m, T_SERVICE_NAME, c->service, sizeof(c->service));
	wire_get_str(m, T_ROOT_PATH, c->root, sizeof(c->root));
	snprintf(c->target, sizeof(c->target), "%s", MOUNTER_TARGET);
	wire_get_u32(m, T_PID, &pid);
	c->pid = (pid_t)pid;
	if (service_name_check(c->service, strlen(c->service), why, sizeof(why)) != 0 ||
	    c->root[0] != '/') {
		attach_failed(op, c, HUSH_E_INVAL, c->root[0] != '/' ? "the container's root path is "
		    "not absolute" : why);
		return;
	}
	if (pid <= 1 || pid > (uint32_t)INT32_MAX) {
		snprintf(why, sizeof(why), "no process %u", pid);
		attach_failed(op, c, HUSH_E_INVAL, why);
		return;
	}
	if ((r = take_pidfd(op, c, why, sizeof(why))) != 0) {
		attach_failed(op, c, r, why);
		return;
	}
	if ((svc = assign_find_service(p, c->service)) == NULL) {
		snprintf(why, sizeof(why), "service '%s' is not placed on this node (or does "
		    "not exist)", c->service);
		attach_failed(op, c, HUSH_E_NOTFOUND, why);
		return;
	}
	/* Before anything else about it: a resent request proves it again. */
	if ((r = check_claim(m, c, svc, &reason, why, sizeof(why))) != 0) {
		attach_refused(op, c, r, why, reason);
		return;
	}
	/* The same request again answers as the first did. */
	struct container *known = ctr_find(p, c->id);
	if (known != NULL) {
		if (known->pid != c->pid) {
			snprintf(why, sizeof(why), "container %.64s already holds secrets, for "
			    "process %ld", c->id, (long)known->pid);
			attach_failed(op, c, HUSH_E_EXISTS, why);
			return;
		}
		wire_enc_init(&e, CTL_CONTAINER_ATTACH | MSG_REPLY, op->client_req, 64);
		wire_put_u32(&e, T_COUNT, known->count);
		op_reply(op, &e);
		return;
	}
	if ((r = ctr_kernel_maps(c, why, sizeof(why))) != 0) {
		attach_failed(op, c, r == HUSH_E_NOMEM ? r : HUSH_E_INVAL, why);
		return;
	}
	note_config_map(c, m, T_UID_MAP, &c->uids, c->have_uids, "uid_map");
	note_config_map(c, m, T_GID_MAP, &c->gids, c->have_gids, "gid_map");
	ctr_set_print(p, svc, c->print);
	if ((r = mounter_attach(op, c, svc, &x->view, attached, why, sizeof(why))) != 0)
		attach_failed(op, c, r, why);
}

static void
detached(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct revoke_ctx *x = op->ctx;
	struct wire_enc e;
	bool ok = status == 0 || status == HUSH_E_NOTFOUND;

	if (x != NULL)
		audit_container(op->p, "container-revoke", x->id, x->service, x->reason,
		    x->files, ok);
	if (!ok) {
		op_error(op, status, detail);
		return;
	}
	wire_enc_init(&e, CTL_CONTAINER_DETACH | MSG_REPLY, op->client_req, 64);
	op_reply(op, &e);
}

/* Unknown containers succeed: a detach after an exit event, or resent. */
void
op_container_detach(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct wire_enc e;
	struct container *c;
	char id[HUSH_CONTAINER_ID_MAX + 1];
	int r;

	wire_get_str(m, T_CONTAINER_ID, id, sizeof(id));
	if ((c = ctr_find(p, id)) == NULL) {
		wire_enc_init(&e, CTL_CONTAINER_DETACH | MSG_REPLY, op->client_req, 64);
		op_reply(op, &e);
		return;
	}
	/*
	 * Sent even for a container waiting for adoption: the mounter may
	 * hold it by the time this arrives (an adopt on its way), and a
	 * NOTFOUND answer is success here.  Without its audit context the
	 * detach goes on, unrecorded, and says so.
	 */
	if ((op->ctx = revoke_ctx_new(p, c, (long)c->count, "poststop")) != NULL)
		op->ctx_free = free;
	else
		log_err("container %.64s: no memory for its audit record", id);
	ctr_forget(p, c);
	log_info("container %.64s: secrets taken back", id);
	if ((r = mounter_detach(op, id, detached)) != 0)
		detached(op, r, NULL, "the mounter process is not available");
}

/* ctx: the container's revoke_ctx (audit set when the set changed), or NULL. */
static void
published(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct revoke_ctx *x = op->ctx;
	struct container *c;

	if (status != 0)
		log_err("container %.64s: its secrets could not be updated: %s",
		    x != NULL ? x->id : "?", detail && *detail ? detail :
		    hush_strerror(status));
	if (x != NULL && x->audit) {
		/* What the container holds now, for 'container ls' and its revocation. */
		if (status == 0 && (c = ctr_find(x->p, x->id)) != NULL && x->files >= 0)
			c->count = (uint32_t)x->files;
		audit_container(x->p, "container-update", x->id, x->service, x->reason,
		    x->files, status == 0);
	}
	op_free(op);
}

bool
ctr_publish(struct parent *p, struct container *c)
{
	const struct assigned_service *svc = assign_find_service(p, c->service);
	struct revoke_ctx *x = NULL;
	struct op *op;
	uint8_t print[16];
	char why[512];
	int r;

	/* Only a change the container can see is an event to record. */
	ctr_set_print(p, svc, print);
	x = revoke_ctx_new(p, c, svc != NULL ? (long)svc->ngrants : 0,
	    svc == NULL ? "service-not-placed" : NULL);
	if (sodium_memcmp(print, c->print, sizeof(print)) != 0) {
		memcpy(c->print, print, sizeof(print));
		if (x == NULL)
			log_err("container %.64s: no memory for its audit record", c->id);
		else
			x->audit = true;
	}
	/* An op of its own: the refresh answers no client. */
	if ((op = op_internal(p, x, free)) == NULL) {
		r = HUSH_E_NOMEM;
		snprintf(why, sizeof(why), "%s", hush_strerror(r));
	} else {
		r = mounter_publish(op, c, svc, published, why, sizeof(why));
	}
	if (r != 0)
		log_err("container %.64s: %s", c->id, why);
	else
		log_info("container %.64s: secrets of service %s updated", c->id,
		    c->service);
	if (r != 0 && x != NULL && x->audit)
		audit_container(p, "container-update", x->id, x->service, x->reason,
		    x->files, false);
	if (r != 0 && op != NULL)
		op_free(op);
	else if (r != 0)
		free(x);
	return r == 0;
}

/*
 * What this node holds changed (a new version, a grant removed, the
 * service no longer placed here): every container gets its service's set
 * as it is now, swapped in atomically by the mounter; a service gone from
 * this node leaves its containers an empty /run/secrets.  Containers no
 * mounter holds get the same set with their adoption.
 *
 * The first complete assignments after hushd started are also when the
 * containers of the previous hushd can be taken back: only now are the
 * values there to fill them with, and a record's service may be gone.
 */
void
containers_refresh(struct parent *p)
{
	if (!p->containers.loaded) {
		p->containers.loaded = true;
		ctr_records_load(p);
	}
	for (struct container *c = p->containers.list; c != NULL; c = c->next)
		if (c->state == CTR_HELD)
			(void)ctr_publish(p, c);
	ctr_adopt_pending(p);
}

/* MNTR_EVENT: a container ended; the mounter already let go of it. */
void
containers_event(struct parent *p, const struct wire_msg *m)
{
	char id[HUSH_CONTAINER_ID_MAX + 1];

	struct container *c;

	if (wire_get_str(m, T_CONTAINER_ID, id, sizeof(id)) != 0)
		return;
	if ((c = ctr_find(p, id)) != NULL) {
		log_info("container %.64s ended: its secrets are dropped", id);
		audit_container(p, "container-revoke", c->id, c->service, "exit",
		    (long)c->count, true);
		ctr_forget(p, c);
	}
}

size_t
containers_count(const struct parent *p)
{
	size_t n = 0;

	for (const struct container *c = p->containers.list; c != NULL; c = c->next)
		n++;
	return n;
}

/* One REC_CONTAINER, appended to a record list. */
static int
put_container(struct wire_enc *list, const struct container *c)
{
	struct wire_enc rec;
	const uint8_t *buf;
	size_t len;
	int r;

	wire_enc_init_fields(&rec, HUSH_CONTAINER_ID_MAX + SERVICE_NAME_MAX + 256);
	wire_put_str(&rec, T_CONTAINER_ID, c->id);
	wire_put_str(&rec, T_SERVICE_NAME, c->service);
	wire_put_u32(&rec, T_PID, (uint32_t)c->pid);
	wire_put_u32(&rec, T_COUNT, c->count);
	wire_put_i64(&rec, T_CREATED, c->attached);
	if ((r = wire_enc_finish(&rec, &buf, &len)) == 0)
		wire_put_bytes(list, T_CONTAINER, buf, len);
	wire_enc_free(&rec);
	return r;
}

/*
 * The parent's own table, a page at a time (lib/page.h): by container id,
 * from after the request's cursor (NULL: from the start).
 */
static void
list_own(struct op *op, const char *cursor)
{
	struct wire_enc e, list;
	const uint8_t *buf;
	const char **ids = NULL;
	size_t len, n = 0, m, i, before;
	int r = 0;

	for (const struct container *c = op->p->containers.list; c != NULL; c = c->next)
		n++;
	if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	n = 0;
	for (const struct container *c = op->p->containers.list; c != NULL; c = c->next)
		ids[n++] = c->id;
	m = page_keys_after(ids, n, cursor);
	wire_enc_init_list(&list, PAGE_LIST_MAX);
	for (i = 0; i < m && r == 0; i++) {
		before = wire_enc_len(&list);
		/* ids[i] is the id member of its container */
		r = put_container(&list, (const struct container *)(const void *)
		    (ids[i] - offsetof(struct container, id)));
		if (r == 0 && !page_keep(&list, before, i))
			break;
	}
	if (r != 0 || (r = wire_enc_finish(&list, &buf, &len)) != 0) {
		wire_enc_free(&list);
		free(ids);
		op_error(op, r, NULL);
		return;
	}
	wire_enc_init(&e, CTL_CONTAINER_LIST | MSG_REPLY, op->client_req, CONTROL_MAX_MSG);
	wire_put_bytes(&e, T_RECORDS, buf, len);
	if (i < m)
		wire_put_str(&e, T_CURSOR, ids[i - 1]);
	wire_enc_free(&list);
	free(ids);
	op_reply(op, &e);
}

static void
mounter_listed(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct mounter_list *x = op->ctx;
	struct wire_enc e;

	if (status != 0) {
		op_error(op, status, status == HUSH_E_UNAVAIL && !x->misbehaved ?
		    "the mounter process is not available (it is restarting); try again" :
		    detail);
		return;
	}
	wire_enc_init(&e, CTL_CONTAINER_LIST | MSG_REPLY, op->client_req, CONTROL_MAX_MSG);
	wire_put_bytes(&e, T_RECORDS, x->records, x->len);
	if (x->cursor != NULL)
		wire_put_bytes(&e, T_CURSOR, x->cursor, x->cursorlen);
	op_reply(op, &e);
}

/*
 * CTL_CONTAINER_LIST.  The parent's table says what it asked for and
 * will update; the mounter's (T_MOUNTER) what is actually held.  They
 * differ only while a change is on its way from one to the other (an
 * attach or detach in flight, an exit the mounter saw and has not yet
 * reported), or while containers attached before the mounter or hushd
 * last started wait to be adopted (containers_adopt.c): the parent lists
 * them, the mounter does not yet.
 */
void
op_container_list(struct op *op, const struct wire_msg *m)
{
	char cursor[HUSH_CURSOR_MAX + 1];
	bool mounter = false, from = false;

	(void)wire_get_bool(m, T_MOUNTER, &mounter);
	from = wire_get_str(m, T_CURSOR, cursor, sizeof(cursor)) == 0;
	if (!mounter) {
		list_own(op, from ? cursor : NULL);
		return;
	}
	if ((op->ctx = calloc(1, sizeof(struct mounter_list))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	op->ctx_free = free;
	if (mounter_list(op, from ? cursor : NULL, op->ctx, mounter_listed) != 0)
		op_error(op, HUSH_E_UNAVAIL, "the mounter process is not available");
}

/*
 * hush's events in the audit trail (kmod-free/audit.h): one record per
 * event, written by the parent once the outcome is known.  Records carry
 * ids, names of services and containers, counts and the outcome, never a
 * secret's name or value and never a key.  Only the parent writes them
 * (it has CAP_AUDIT_WRITE); no child opens an audit socket.
 *
 * Where the kernel will not take a record, the same text goes to the log
 * as one line starting "audit: ", and `hushctl status` says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HUSH_TEST_HOOKS
#include <sys/capability.h>
#endif

#include "audit.h"
#include "log.h"
#include "parent.h"

static void
start(struct parent *p, struct audit_rec *r, const char *op)
{
	audit_rec_init(r, op);
	audit_rec_token(r, "node", p->node.node_id);
}

/* The sink the log last told about: a change gets one line. */
static enum audit_sink told;

static void
tell_sink(struct parent *p)
{
	if (p->audit.sink == told)
		return;
	told = p->audit.sink;
	if (told == AUDIT_SINK_KERNEL)
		log_info("audit records go to the kernel's audit trail again");
	else
		log_warn("kernel audit unavailable: %s; audit records go to this log, "
		    "each on a line starting \"audit: \"", p->audit.why);
}

static void
emit(struct parent *p, struct audit_rec *r, bool ok)
{
	const char *text = audit_rec_finish(r, ok);
	int sent = audit_send(&p->audit, text);

	tell_sink(p);
	if (sent != 0)
		log_info("audit: %s", text);
}

#ifdef HUSH_TEST_HOOKS
/*
 * Test builds only: HUSH_TEST_AUDIT_NO_CAPS=1 takes CAP_AUDIT_WRITE and
 * CAP_AUDIT_CONTROL out of the parent's effective set, so a test sees
 * what the kernel answers a hushd confined without them.
 */
static void
test_drop_audit_caps(void)
{
	const cap_value_t audit_caps[] = { CAP_AUDIT_WRITE, CAP_AUDIT_CONTROL };
	cap_t caps;

	if (getenv("HUSH_TEST_AUDIT_NO_CAPS") == NULL || (caps = cap_get_proc()) == NULL)
		return;
	if (cap_set_flag(caps, CAP_EFFECTIVE, 2, audit_caps, CAP_CLEAR) != 0 ||
	    cap_set_proc(caps) != 0)
		log_err("test hook: cannot drop the audit capabilities");
	else
		log_warn("test hook: CAP_AUDIT_WRITE and CAP_AUDIT_CONTROL dropped");
	cap_free(caps);
}
#endif

void
audit_events_open(struct parent *p)
{
	char how[256];

#ifdef HUSH_TEST_HOOKS
	test_drop_audit_caps();
#endif
	audit_open(&p->audit);
	told = p->audit.sink;
	audit_describe(&p->audit, how, sizeof(how));
	if (p->audit.sink == AUDIT_SINK_LOG)
		log_warn("audit trail: %s; records are written here, each on a line "
		    "starting \"audit: \"", how);
	else
		log_info("audit trail: %s", how);
}

void
audit_unlock(struct parent *p, bool ok)
{
	struct audit_rec r;

	start(p, &r, "unlock");
	emit(p, &r, ok);
}

void
audit_unlock_key_rotate(struct parent *p, bool ok)
{
	struct audit_rec r;

	start(p, &r, "unlock-key-rotate");
	emit(p, &r, ok);
}

void
audit_autolock(struct parent *p, bool on, bool ok)
{
	struct audit_rec r;

	start(p, &r, "autolock-update");
	audit_rec_token(&r, "autolock", on ? "on" : "off");
	emit(p, &r, ok);
}

/*
 * A secret command's outcome: one record per secret the store named (an
 * rm may remove several), or one with secret=? when it failed.  The
 * request may have named secrets by name: those are not written.
 */
void
audit_secret(struct parent *p, const char *op, const char (*ids)[HUSH_ID_LEN + 1], size_t nids,
    bool ok)
{
	struct audit_rec r;
	size_t n = ok && ids != NULL ? nids : 0;

	if (n == 0) {
		start(p, &r, op);
		audit_rec_token(&r, "secret", NULL);
		emit(p, &r, ok);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		start(p, &r, op);
		audit_rec_token(&r, "secret", hush_id_valid(ids[i]) ? ids[i] : "");
		emit(p, &r, ok);
	}
}

void
audit_container(struct parent *p, const char *op, const char *container,
    const char *service, const char *reason, long files, bool ok)
{
	struct audit_rec r;

	start(p, &r, op);
	audit_rec_str(&r, "container", container, container != NULL ? strlen(container) : 0);
	audit_rec_str(&r, "service", service, service != NULL ? strlen(service) : 0);
	if (files >= 0)
		audit_rec_u64(&r, "files", (uint64_t)files);
	if (reason != NULL)
		audit_rec_token(&r, "reason", reason);
	emit(p, &r, ok);
}

void
audit_status_text(struct parent *p, char *buf, size_t len)
{
	audit_probe(&p->audit);
	tell_sink(p);
	audit_describe(&p->audit, buf, len);
}

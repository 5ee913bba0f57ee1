#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "msg.h"
#include "output.h"
#include "secbuf.h"
#include "unlock_key.h"

#define MINUTE	60u
#define HOUR	3600u
#define DAY	86400u

static int fmt(char *, size_t, const char *, ...)
	__attribute__((format(printf, 3, 4)));

/* snprintf that reports truncation as an error rather than a short string. */
static int
fmt(char *out, size_t cap, const char *f, ...)
{
	va_list ap;
	int n;

	if (cap == 0)
		return HUSH_E_TOOBIG;
	va_start(ap, f);
	n = vsnprintf(out, cap, f, ap);
	va_end(ap);
	if (n < 0)
		return HUSH_E_INVAL;
	if ((size_t)n >= cap) {
		out[0] = '\0';
		return HUSH_E_TOOBIG;
	}
	return 0;
}

static const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

int
fmt_human_duration(uint64_t secs, char *out, size_t cap)
{
	uint64_t hours;

	if (secs < 1)
		return fmt(out, cap, "Less than a second");
	if (secs < MINUTE)
		return fmt(out, cap, "%llu second%s", (unsigned long long)secs,
		    plural(secs));
	if (secs / MINUTE == 1)
		return fmt(out, cap, "About a minute");
	if (secs / MINUTE < 60)
		return fmt(out, cap, "%llu minutes",
		    (unsigned long long)(secs / MINUTE));
	/* Docker rounds hours to nearest, so 1h40m reads "2 hours". */
	hours = secs / HOUR + (secs % HOUR >= HOUR / 2);
	if (hours == 1)
		return fmt(out, cap, "About an hour");
	if (hours < 48)
		return fmt(out, cap, "%llu hours", (unsigned long long)hours);
	if (hours < 24 * 7 * 2)
		return fmt(out, cap, "%llu days", (unsigned long long)(hours / 24));
	if (hours < 24 * 30 * 2)
		return fmt(out, cap, "%llu weeks",
		    (unsigned long long)(hours / 24 / 7));
	if (hours < 24 * 365 * 2)
		return fmt(out, cap, "%llu months",
		    (unsigned long long)(hours / 24 / 30));
	return fmt(out, cap, "%llu years",
	    (unsigned long long)(secs / (DAY * 365)));
}

int
fmt_ago(int64_t then, int64_t now, char *out, size_t cap)
{
	char d[FMT_MAX];
	int r;

	if ((r = fmt_human_duration(then < now ? (uint64_t)now - (uint64_t)then : 0,
	    d, sizeof(d))) != 0)
		return r;
	return fmt(out, cap, "%s ago", d);
}

/* "89 days", "5 hours", "3 minutes", "1 second": one unit, rounded down. */
static int
fmt_span(uint64_t s, char *out, size_t cap)
{
	if (s >= 2 * DAY)
		return fmt(out, cap, "%llu days", (unsigned long long)(s / DAY));
	if (s >= 2 * HOUR)
		return fmt(out, cap, "%llu hours", (unsigned long long)(s / HOUR));
	if (s >= 2 * MINUTE)
		return fmt(out, cap, "%llu minutes",
		    (unsigned long long)(s / MINUTE));
	return fmt(out, cap, "%llu second%s", (unsigned long long)s, plural(s));
}

int
fmt_until(int64_t when, int64_t now, char *out, size_t cap)
{
	char d[FMT_MAX];
	int r;

	if (when > now) {
		if ((r = fmt_span((uint64_t)when - (uint64_t)now, d, sizeof(d))) != 0)
			return r;
		return fmt(out, cap, "in %s", d);
	}
	if ((r = fmt_span((uint64_t)now - (uint64_t)when, d, sizeof(d))) != 0)
		return r;
	return fmt(out, cap, "%s ago", d);
}

/* Literal formats only, so the compiler checks them (-Wformat=2). */
static int
fmt_time(int64_t t, bool human, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;
	size_t n;

	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
	    tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		if (cap > 0)
			out[0] = '\0';
		return HUSH_E_RANGE;
	}
	if (human)
		n = strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		n = strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (n == 0) {
		if (cap > 0)
			out[0] = '\0';
		return HUSH_E_TOOBIG;
	}
	return 0;
}

int
fmt_rfc3339(int64_t t, char *out, size_t cap)
{
	return fmt_time(t, false, out, cap);
}

int
fmt_utc(int64_t t, char *out, size_t cap)
{
	return fmt_time(t, true, out, cap);
}

void
sanitize(const char *s, char *out, size_t cap)
{
	size_t i;

	if (cap == 0)
		return;
	for (i = 0; s[i] != '\0' && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
}

/* ---- tables ------------------------------------------------------------- */

int
table_init(struct table *t, size_t ncols, const char *const *headers)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cells = NULL;
	return table_add(t, headers);
}

int
table_add(struct table *t, const char *const *cells)
{
	char **nc;
	size_t i, base;

	if ((nc = reallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof(*nc))) == NULL)
		return HUSH_E_NOMEM;
	t->cells = nc;
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		size_t len = strlen(cells[i]);

		if ((nc[base + i] = malloc(len + 1)) == NULL) {
			while (i-- > 0)
				free(nc[base + i]);
			return HUSH_E_NOMEM;
		}
		sanitize(cells[i], nc[base + i], len + 1);
	}
	t->nrows++;
	return 0;
}

int
table_print(const struct table *t, FILE *out)
{
	size_t *w, r, c, len;
	int rc = 0;

	if (t->ncols == 0)
		return 0;
	if ((w = calloc(t->ncols, sizeof(*w))) == NULL)
		return HUSH_E_NOMEM;
	for (c = 0; c < t->ncols; c++) {
		w[c] = TABLE_MINWIDTH;
		for (r = 0; r < t->nrows; r++) {
			len = strlen(t->cells[r * t->ncols + c]) + TABLE_PAD;
			if (len > w[c])
				w[c] = len;
		}
	}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c + 1 < t->ncols; c++)
			if (fprintf(out, "%-*s", (int)w[c],
			    t->cells[r * t->ncols + c]) < 0)
				rc = HUSH_E_IO;
		if (fprintf(out, "%s\n", t->cells[r * t->ncols + c]) < 0)
			rc = HUSH_E_IO;
	}
	free(w);
	return rc;
}

void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/*
 * qsort() of n views of size bytes.  With none or one there is nothing to
 * order, and v may then be NULL, which qsort() is declared never to take.
 */
static void
sort_views(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/* ---- secrets ------------------------------------------------------------ */

void
secret_view_free(struct secret_view *v)
{
	size_t i;

	for (i = 0; i < v->nlabels; i++)
		free(v->labels[i]);
	free(v->labels);
	v->labels = NULL;
	v->nlabels = 0;
}

static int
by_name(const void *a, const void *b)
{
	const struct secret_view *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->id, y->id);
}

void
secret_views_sort(struct secret_view *v, size_t n)
{
	sort_views(v, n, sizeof(*v), by_name);
}

/* json_object_set_new that tolerates a NULL value (allocation failure). */
static int
set(json_t *o, const char *key, json_t *val)
{
	if (val == NULL)
		return -1;
	return json_object_set_new(o, key, val);
}

json_t *
json_text(const char *s)
{
	json_t *j;
	char *c;
	size_t i;

	if ((j = json_string(s)) != NULL)
		return j;
	if ((c = strdup(s)) == NULL)
		return NULL;
	for (i = 0; c[i] != '\0'; i++)
		if ((unsigned char)c[i] >= 0x80)
			c[i] = '?';
	j = json_string(c);
	free(c);
	return j;
}

static json_t *
json_time(int64_t t)
{
	char s[FMT_MAX];

	if (fmt_rfc3339(t, s, sizeof(s)) != 0)
		return json_null();
	return json_string(s);
}

json_t *
secret_view_json(const struct secret_view *v)
{
	json_t *o, *labels;
	const char *eq;
	size_t i;
	int bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	if ((labels = json_object()) == NULL) {
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < v->nlabels; i++) {
		if ((eq = strchr(v->labels[i], '=')) == NULL)
			continue;
		bad |= json_object_setn_new(labels, v->labels[i],
		    (size_t)(eq - v->labels[i]), json_text(eq + 1)) != 0;
	}
	bad |= set(o, "ID", json_text(v->id)) != 0;
	bad |= set(o, "Name", json_text(v->name)) != 0;
	bad |= set(o, "Labels", labels) != 0;
	bad |= set(o, "CreatedAt", json_time(v->created)) != 0;
	bad |= set(o, "UpdatedAt", json_time(v->updated)) != 0;
	bad |= set(o, "Version", json_integer(v->version)) != 0;
	bad |= set(o, "Size", json_integer(v->size)) != 0;
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
secret_views_table(const struct secret_view *v, size_t n, int64_t now,
    FILE *out)
{
	static const char *const hdr[] = { "ID", "NAME", "CREATED", "UPDATED" };
	char created[FMT_MAX], updated[FMT_MAX];
	const char *row[4];
	struct table t;
	size_t i;
	int r;

	if ((r = table_init(&t, 4, hdr)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (fmt_ago(v[i].created, now, created, sizeof(created)) != 0 ||
		    fmt_ago(v[i].updated, now, updated, sizeof(updated)) != 0) {
			table_free(&t);
			return HUSH_E_INTERNAL;
		}
		row[0] = v[i].id;
		row[1] = v[i].name;
		row[2] = created;
		row[3] = updated;
		if ((r = table_add(&t, row)) != 0) {
			table_free(&t);
			return r;
		}
	}
	r = table_print(&t, out);
	table_free(&t);
	return r;
}

/* ---- nodes -------------------------------------------------------------- */

const char *
node_role_name(uint8_t role)
{
	switch (role) {
	case ROLE_MANAGER:
		return "manager";
	case ROLE_WORKER:
		return "worker";
	default:
		return "unknown";
	}
}

bool
node_removed(const struct node_view *v)
{
	return strcmp(v->status_text, "removed") == 0;
}

size_t
node_views_live(struct node_view *v, size_t n)
{
	size_t i, kept = 0;

	for (i = 0; i < n; i++) {
		if (node_removed(&v[i]))
			continue;
		if (kept != i)
			v[kept] = v[i];
		kept++;
	}
	return kept;
}

const char *
node_status(const struct node_view *v)
{
	/* A manager that answers but cannot serve its store is not ready. */
	if (v->reachable && strcmp(v->raft_state, "degraded") == 0)
		return "Degraded";
	return v->reachable ? "Ready" : "Down";
}

const char *
node_manager_status(const struct node_view *v)
{
	if (v->role != ROLE_MANAGER)
		return "";
	if (strcmp(v->raft_state, "leader") == 0)
		return "Leader";
	if (strcmp(v->raft_state, "reachable") == 0)
		return "Reachable";
	if (strcmp(v->raft_state, "unreachable") == 0)
		return "Unreachable";
	if (strcmp(v->raft_state, "degraded") == 0)
		return "Unhealthy";
	return "Unknown";
}

const char *
node_tls_status(const char *tls_status)
{
	if (strcmp(tls_status, "ready") == 0)
		return "Ready";
	if (strcmp(tls_status, "needs-rotation") == 0)
		return "Needs Rotation";
	return "Unknown";
}

void
node_availability(const struct node_view *v, char *out, size_t cap)
{
	if (cap == 0)
		return;
	/* docker's PrettyPrint: the daemon's word with a capital letter. */
	snprintf(out, cap, "%s", v->availability);
	if (out[0] >= 'a' && out[0] <= 'z')
		out[0] = (char)(out[0] - 'a' + 'A');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * strcmp, except that runs of digits compare as numbers: 10.0.0.2 sorts
 * before 10.0.0.10.  Runs equal as numbers ("007", "7") compare equal.
 */
static int
natural_cmp(const char *a, const char *b)
{
	size_t la, lb;
	int c;

	while (*a != '\0' && *b != '\0') {
		if (!is_digit(*a) || !is_digit(*b)) {
			if (*a != *b)
				return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
			a++;
			b++;
			continue;
		}
		while (*a == '0' && is_digit(a[1]))
			a++;
		while (*b == '0' && is_digit(b[1]))
			b++;
		for (la = 0; is_digit(a[la]); la++)
			;
		for (lb = 0; is_digit(b[lb]); lb++)
			;
		if (la != lb)
			return la < lb ? -1 : 1;
		if ((c = memcmp(a, b, la)) != 0)
			return c < 0 ? -1 : 1;
		a += la;
		b += lb;
	}
	if (*a == *b)
		return 0;
	return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
}

static int
by_role_addr(const void *a, const void *b)
{
	const struct node_view *x = a, *y = b;
	bool mx = x->role == ROLE_MANAGER, my = y->role == ROLE_MANAGER;
	int c;

	if (mx != my)
		return mx ? -1 : 1;
	if ((c = natural_cmp(x->addr, y->addr)) != 0 ||
	    (c = strcmp(x->addr, y->addr)) != 0)
		return c;
	return strcmp(x->id, y->id);
}

void
node_views_sort(struct node_view *v, size_t n)
{
	sort_views(v, n, sizeof(*v), by_role_addr);
}

int
node_views_table(const struct node_view *v, size_t n, const char *self,
    FILE *out)
{
	static const char *const hdr[] = { "ID", "ADDRESS", "STATUS",
	    "AVAILABILITY", "MANAGER STATUS", "TLS STATUS" };
	char id[HUSH_ID_LEN + 3], avail[NODE_TEXT_MAX + 1];
	const char *row[6];
	struct table t;
	size_t i;
	int r;

	if ((r = table_init(&t, 6, hdr)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		/* As docker marks the node it is talking to. */
		snprintf(id, sizeof(id), "%s%s", v[i].id,
		    self != NULL && strcmp(v[i].id, self) == 0 ? " *" : "");
		node_availability(&v[i], avail, sizeof(avail));
		row[0] = id;
		row[1] = v[i].addr;
		row[2] = node_status(&v[i]);
		row[3] = avail;
		row[4] = node_manager_status(&v[i]);
		row[5] = node_tls_status(v[i].tls_status);
		if ((r = table_add(&t, row)) != 0) {
			table_free(&t);
			return r;
		}
	}
	r = table_print(&t, out);
	table_free(&t);
	return r;
}

json_t *
node_view_json(const struct node_view *v)
{
	char avail[NODE_TEXT_MAX + 1];
	json_t *o;
	int bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	node_availability(v, avail, sizeof(avail));
	bad |= set(o, "ID", json_text(v->id)) != 0;
	bad |= set(o, "Address", json_text(v->addr)) != 0;
	bad |= set(o, "Role", json_string(node_role_name(v->role))) != 0;
	bad |= set(o, "Status", json_string(node_status(v))) != 0;
	bad |= set(o, "Availability", json_text(avail)) != 0;
	bad |= set(o, "ManagerStatus", json_string(node_manager_status(v))) != 0;
	bad |= set(o, "TLSStatus", json_string(node_tls_status(v->tls_status))) != 0;
	bad |= set(o, "CreatedAt", json_time(v->created)) != 0;
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* {"key": "value", ...} from "key=value\n" lines; NULL on ENOMEM. */
static json_t *
labels_json(const char *text)
{
	const char *line, *eq, *nl;
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	for (line = text; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		if ((eq = memchr(line, '=', (size_t)(nl - line))) == NULL)
			continue;
		char val[LABEL_VALUE_MAX + 1];

		snprintf(val, sizeof(val), "%.*s", (int)(nl - eq - 1), eq + 1);
		if (json_object_setn_new(o, line, (size_t)(eq - line), json_text(val)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *
node_view_inspect_json(const struct node_view *v)
{
	json_t *o, *spec = NULL, *status = NULL, *mgr = NULL;
	const char *reach;
	int bad = 0;

	if ((o = json_object()) == NULL || (spec = json_object()) == NULL ||
	    (status = json_object()) == NULL)
		goto fail;
	bad |= set(spec, "Labels", labels_json(v->labels)) != 0;
	bad |= set(spec, "Role", json_string(node_role_name(v->role))) != 0;
	bad |= set(spec, "Availability", json_text(v->availability)) != 0;
	bad |= set(status, "State", json_string(!v->reachable ? "down" :
	    strcmp(v->raft_state, "degraded") == 0 ? "degraded" : "ready")) != 0;
	bad |= set(status, "Addr", json_text(v->addr)) != 0;
	bad |= set(status, "TLSStatus", json_string(node_tls_status(v->tls_status))) != 0;
	if (v->status_text[0] != '\0')
		bad |= set(status, "Message", json_text(v->status_text)) != 0;
	if (v->role == ROLE_MANAGER) {
		if ((mgr = json_object()) == NULL)
			goto fail;
		/* docker reports the leader as reachable, and says it leads. */
		if (strcmp(v->raft_state, "leader") == 0 ||
		    strcmp(v->raft_state, "reachable") == 0)
			reach = "reachable";
		else if (strcmp(v->raft_state, "unreachable") == 0)
			reach = "unreachable";
		else if (strcmp(v->raft_state, "degraded") == 0)
			reach = "unhealthy";
		else
			reach = "unknown";
		bad |= set(mgr, "Leader", json_boolean(strcmp(v->raft_state,
		    "leader") == 0)) != 0;
		bad |= set(mgr, "Reachability", json_string(reach)) != 0;
		bad |= set(mgr, "Addr", json_text(v->addr)) != 0;
	}
	bad |= set(o, "ID", json_text(v->id)) != 0;
	bad |= set(o, "CreatedAt", json_time(v->created)) != 0;
	if (v->has_updated)
		bad |= set(o, "UpdatedAt", json_time(v->updated)) != 0;
	/* set() takes each reference, even when it fails. */
	bad |= set(o, "Spec", spec) != 0;
	spec = NULL;
	bad |= set(o, "Status", status) != 0;
	status = NULL;
	if (mgr != NULL) {
		bad |= set(o, "ManagerStatus", mgr) != 0;
		mgr = NULL;
	}
	if (bad)
		goto fail;
	return o;
fail:
	json_decref(mgr);
	json_decref(status);
	json_decref(spec);
	json_decref(o);
	return NULL;
}

/* ---- containers --------------------------------------------------------- */

/* Newest first, as docker ps; the mounter's carry no time, so by id. */
static int
by_attached(const void *a, const void *b)
{
	const struct container_view *x = a, *y = b;

	if (x->attached != y->attached)
		return x->attached > y->attached ? -1 : 1;
	return strcmp(x->id, y->id);
}

void
container_views_sort(struct container_view *v, size_t n)
{
	sort_views(v, n, sizeof(*v), by_attached);
}

/* One row of either table; the cells point into v and the buffers. */
static int
container_row(struct table *t, const struct container_view *v, bool mounter,
    int64_t now)
{
	char pid[16], files[16], ago[FMT_MAX];
	const char *row[5];

	snprintf(pid, sizeof(pid), "%u", v->pid);
	snprintf(files, sizeof(files), "%u", v->files);
	row[0] = v->id;
	if (mounter) {
		row[1] = pid;
		row[2] = files;
		return table_add(t, row);
	}
	if (fmt_ago(v->attached, now, ago, sizeof(ago)) != 0)
		return HUSH_E_INTERNAL;
	row[1] = v->service;
	row[2] = pid;
	row[3] = files;
	row[4] = ago;
	return table_add(t, row);
}

int
container_views_table(const struct container_view *v, size_t n, bool mounter,
    int64_t now, FILE *out)
{
	static const char *const hdr[] = { "CONTAINER ID", "SERVICE", "PID", "FILES",
	    "ATTACHED" };
	static const char *const mounter_hdr[] = { "CONTAINER ID", "PID", "FILES" };
	struct table t;
	size_t i;
	int r;

	if ((r = table_init(&t, mounter ? 3 : 5, mounter ? mounter_hdr : hdr)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		r = container_row(&t, &v[i], mounter, now);
	if (r == 0)
		r = table_print(&t, out);
	table_free(&t);
	return r;
}

json_t *
container_view_json(const struct container_view *v, bool mounter)
{
	json_t *o;
	int bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	bad |= set(o, "ID", json_text(v->id)) != 0;
	if (!mounter)
		bad |= set(o, "Service", json_text(v->service)) != 0;
	bad |= set(o, "Pid", json_integer(v->pid)) != 0;
	bad |= set(o, "Files", json_integer(v->files)) != 0;
	if (!mounter)
		bad |= set(o, "AttachedAt", json_time(v->attached)) != 0;
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
print_json(const json_t *j, FILE *out)
{
	/* ENSURE_ASCII: names and labels then cannot smuggle odd bytes through. */
	if (json_dumpf(j, out, JSON_INDENT(4) | JSON_ENSURE_ASCII) != 0 ||
	    fputc('\n', out) == EOF)
		return HUSH_E_IO;
	return 0;
}

int
print_json_list(size_t n, json_t *(*make)(size_t i, const void *arg),
    const void *arg, FILE *out)
{
	json_t *arr, *o;
	int r;

	if ((arr = json_array()) == NULL)
		return HUSH_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((o = make(i, arg)) == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return HUSH_E_NOMEM;
		}
	}
	r = print_json(arr, out);
	json_decref(arr);
	return r;
}

int
print_unlock_key(const uint8_t kek[32], FILE *out)
{
	struct secbuf text = SECBUF_INIT;
	int r;

	if ((r = secbuf_alloc(&text, UNLOCK_KEY_LEN + 1)) != 0)
		return r;
	if ((r = unlock_key_format(kek, (char *)text.p, text.len)) == 0 &&
	    fprintf(out, "To unlock a cluster manager after it restarts, run "
	    "'hushctl unlock' and provide the following key:\n\n    %s\n\n"
	    "Remember to store this key in a password manager, since without "
	    "it you will not be able to restart the manager.\n",
	    (const char *)text.p) < 0)
		r = HUSH_E_IO;
	/* Push the text out of stdio's buffer before that buffer is reused. */
	if (r == 0 && fflush(out) != 0)
		r = HUSH_E_IO;
	secbuf_free(&text);
	return r;
}

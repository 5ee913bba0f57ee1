/*
 * The drawing and the verdict of a CA rotation's watch (ca_progress.h).
 * The bars are docker's ("[=====>     ]", as `docker swarm ca --rotate`
 * draws them) so that the operator reads them the same way.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ca_progress.h"
#include "err.h"
#include "msg.h"

/* Labels of the two bars, the same width so the bars line up. */
#define LABEL_TRUST	"trust stores updated"
#define LABEL_RENEW	"certificates renewed"

/* Appends to out[*len..cap); HUSH_E_TOOBIG once it does not fit. */
static int
append(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return HUSH_E_TOOBIG;
	va_start(ap, fmt);
	n = vsnprintf(out + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return HUSH_E_TOOBIG;
	*len += (size_t)n;
	return 0;
}

int
ca_progress_bar(const char *label, uint32_t done, uint32_t total, char *out,
    size_t cap)
{
	char bar[CA_BAR_WIDTH + 2];
	size_t fill, i, len = 0;

	if (cap == 0)
		return HUSH_E_TOOBIG;
	out[0] = '\0';
	/* More than all (a count taken a moment apart) is drawn as all. */
	fill = total == 0 ? 0 : done >= total ? CA_BAR_WIDTH :
	    (size_t)((uint64_t)done * CA_BAR_WIDTH / total);
	for (i = 0; i < fill; i++)
		bar[i] = '=';
	bar[i++] = '>';
	for (; i < CA_BAR_WIDTH + 1; i++)
		bar[i] = ' ';
	bar[i] = '\0';
	return append(out, cap, &len, "%s [%s] %u/%u nodes", label, bar,
	    done, total);
}

const char *
ca_phase_text(uint8_t phase)
{
	switch (phase) {
	case CA_PHASE_NONE:
		return "done: nodes drop the old root from their trust";
	case CA_PHASE_TRUST:
		return "phase 1 of 2: nodes add the new root to their trust";
	case CA_PHASE_RENEW:
		return "phase 2 of 2: nodes renew their certificates from the "
		    "new root";
	default:
		return "phase unknown to this hushctl";
	}
}

/* The phase as one word, for the line of a log. */
static const char *
phase_word(uint8_t phase)
{
	switch (phase) {
	case CA_PHASE_NONE:
		return "finishing";
	case CA_PHASE_TRUST:
		return "trust";
	case CA_PHASE_RENEW:
		return "renew";
	default:
		return "unknown";
	}
}

int
ca_progress_lines(const struct ca_figures *f, const char *waiting, char *out,
    size_t cap, int *nlines)
{
	char bar[128];
	size_t len = 0;
	int r;

	*nlines = 0;
	if (cap > 0)
		out[0] = '\0';
	if ((r = append(out, cap, &len, "CA rotation, %s\n", ca_phase_text(f->phase))) != 0)
		return r;
	if ((r = ca_progress_bar(LABEL_TRUST, f->trusting, f->total, bar,
	    sizeof(bar))) != 0 ||
	    (r = append(out, cap, &len, "  %s\n", bar)) != 0)
		return r;
	if ((r = ca_progress_bar(LABEL_RENEW, f->renewed, f->total, bar,
	    sizeof(bar))) != 0 ||
	    (r = append(out, cap, &len, "  %s\n", bar)) != 0)
		return r;
	*nlines = 3;
	/*
	 * One screen line, or going back over the drawing would miss the
	 * part that wrapped: the whole reason is in the plain line and in
	 * `hushctl status`.
	 */
	if (waiting != NULL && waiting[0] != '\0') {
		if (strlen(waiting) > CA_WAITING_COLS)
			r = append(out, cap, &len, "  waiting: %.*s...\n",
			    CA_WAITING_COLS - 3, waiting);
		else
			r = append(out, cap, &len, "  waiting: %s\n", waiting);
		if (r != 0)
			return r;
		*nlines = 4;
	}
	return 0;
}

int
ca_progress_line(const struct ca_figures *f, const char *waiting, char *out,
    size_t cap)
{
	size_t len = 0;
	int r;

	if (cap > 0)
		out[0] = '\0';
	if ((r = append(out, cap, &len, "CA rotation: " LABEL_TRUST " %u/%u "
	    "nodes, " LABEL_RENEW " %u/%u nodes (phase: %s)", f->trusting,
	    f->total, f->renewed, f->total, phase_word(f->phase))) != 0)
		return r;
	if (waiting != NULL && waiting[0] != '\0')
		return append(out, cap, &len, "; waiting: %s", waiting);
	return 0;
}

/* a and b are the same PEM: equal up to trailing whitespace. */
static bool
same_pem(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 0 && strchr(" \t\r\n", a[la - 1]) != NULL)
		la--;
	while (lb > 0 && strchr(" \t\r\n", b[lb - 1]) != NULL)
		lb--;
	return la == lb && la > 0 && memcmp(a, b, la) == 0;
}

enum ca_verdict
ca_judge(const char *ours, const char *cert, const char *next,
    const struct ca_figures *f)
{
	if (f->phase != CA_PHASE_NONE) {
		if (next != NULL && same_pem(next, ours))
			return CA_GOING;
		/* Ours finished, and another rotation began since. */
		return same_pem(cert, ours) ? CA_DONE : CA_OTHER;
	}
	if (!same_pem(cert, ours))
		return CA_OTHER;
	/* Ours is the root; done once every node dropped the old one. */
	if (f->trusting == f->total && f->renewed == f->total)
		return CA_DONE;
	return CA_GOING;
}

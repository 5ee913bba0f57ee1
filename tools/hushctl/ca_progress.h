/*
 * How `hushctl ca` shows a CA rotation and decides when it is over.  Pure
 * (the figures in, text or a verdict out) so that the unit tests pin what
 * an operator and a log see; cmd_ca.c does the polling and the drawing.
 */
#ifndef HUSHCTL_CA_PROGRESS_H
#define HUSHCTL_CA_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What CTL_CA's answer says about a rotation (T_CA_PHASE, T_NODES_*). */
struct ca_figures {
	uint8_t		phase;		/* enum ca_phase */
	uint32_t	total;		/* nodes the rotation waits for */
	uint32_t	trusting;	/* of those, holding the wanted trust */
	uint32_t	renewed;	/* of those, with a certificate of the wanted root */
};

/* The inside of a bar, between the brackets. */
#define CA_BAR_WIDTH		30
/* The most of a manager's reason that a terminal's drawing shows. */
#define CA_WAITING_COLS		66
/* Room for ca_progress_lines(): a phase line, two bars, a reason. */
#define CA_PROGRESS_MAX		(3 * 128 + 1100)

/* What a phase (enum ca_phase) is doing, for people: "phase 1 of 2: ...". */
const char *ca_phase_text(uint8_t phase);
/* "trust stores updated [=========>          ] 3/7 nodes" */
int	ca_progress_bar(const char *label, uint32_t done, uint32_t total,
	    char *out, size_t cap);
/*
 * For a terminal: the phase, the two bars and, when the manager says
 * what holds the rotation up (T_STATUS_TEXT, sanitized by the caller),
 * that, cut to fit 80 columns; one line each, each ending in a newline.  *nlines says how many,
 * so that the next drawing can go back over them.
 */
int	ca_progress_lines(const struct ca_figures *f, const char *waiting,
	    char *out, size_t cap, int *nlines);
/*
 * For a log or a pipe: one line, without its newline, that changes only
 * when a figure does: "CA rotation: trust stores updated 3/7 nodes,
 * certificates renewed 0/7 nodes (phase: trust)".
 */
int	ca_progress_line(const struct ca_figures *f, const char *waiting,
	    char *out, size_t cap);

enum ca_verdict {
	CA_GOING,		/* the rotation watched is still under way */
	CA_DONE,		/* its root is the cluster's only one, on every node */
	CA_OTHER,		/* another root than the one watched: replaced */
};

/*
 * Where the rotation to the root ours (PEM) stands, from CTL_CA's root
 * cert, next root next (NULL when absent) and figures.  Done when ours is
 * the root and no rotation is under way with every node trusting and
 * renewed, or when ours is the root and a newer rotation has begun
 * (ours finished first).  PEM compares ignoring trailing whitespace.
 */
enum ca_verdict ca_judge(const char *ours, const char *cert, const char *next,
	    const struct ca_figures *f);

#endif

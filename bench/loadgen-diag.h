/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_DIAG_H
#define LOADGEN_DIAG_H

/* What went wrong in a run: failures (any one fails the run) counted by
   their text, and warnings (notes for stderr and the JSON). */

#include "loadgen-util.h"

#define MAX_REASONS 64
#define MAX_WARNINGS 8

struct reason {
	char text[160];
	unsigned count;
};

struct diag {
	bool tty;	/* stderr is a terminal: warnings start a line */
	struct reason reasons[MAX_REASONS];
	int n_reasons;
	char warnings[MAX_WARNINGS][200];
	int n_warnings;
};

/* A note for stderr and the JSON "warnings"; does not fail the run. */
void diag_warn(struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A failure for the JSON "errors", aggregated by text, so the text
   carries no per-connection detail. */
void diag_error(struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Failures recorded so far (sum of the counts). */
unsigned diag_error_total(const struct diag *d);

#endif

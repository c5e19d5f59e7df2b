/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "loadgen-diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void diag_warn(struct diag *d, const char *fmt, ...)
{
	va_list args;

	if (d->n_warnings == MAX_WARNINGS)
		return;
	va_start(args, fmt);
	vsnprintf(d->warnings[d->n_warnings], sizeof(d->warnings[0]),
		  fmt, args);
	va_end(args);
	fprintf(stderr, "%sloadgen: warning: %s\n", d->tty ? "\n" : "",
		d->warnings[d->n_warnings++]);
}

void diag_error(struct diag *d, const char *fmt, ...)
{
	char text[sizeof(d->reasons[0].text)];
	va_list args;
	int i;

	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	for (i = 0; i < d->n_reasons; i++) {
		if (strcmp(d->reasons[i].text, text) == 0)
			break;
	}
	if (i == MAX_REASONS) {
		i--;	/* the last slot is "other" */
	} else if (i == d->n_reasons) {
		if (i == MAX_REASONS - 1)
			snprintf(text, sizeof(text), "other");
		memcpy(d->reasons[i].text, text, sizeof(text));
		d->n_reasons++;
	}
	d->reasons[i].count++;
}

unsigned diag_error_total(const struct diag *d)
{
	unsigned total = 0;
	int i;

	for (i = 0; i < d->n_reasons; i++)
		total += d->reasons[i].count;
	return total;
}

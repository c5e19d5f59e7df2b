/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_LOG_LIMIT_H
#define IDLE_LOG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* A rate limit for one kind of log line that a client or an outside
   writer can trigger again and again: the first line goes out, then at
   most one per interval, each saying how many were held back since the
   one before.  Times are milliseconds on the caller's monotonic clock;
   the caller owns the struct (zeroed: nothing logged yet). */

struct idle_log_limit {
	/* the last line allowed */
	uint64_t last;
	/* lines held back since */
	unsigned int suppressed;
	bool logged;
};

/* Whether a line may be logged now.  If so, *suppressed_r is the number
   held back since the last one (saturating), and the count restarts. */
bool idle_log_limit_allow(struct idle_log_limit *limit, uint64_t now,
			  unsigned int interval_msecs,
			  unsigned int *suppressed_r);

#endif

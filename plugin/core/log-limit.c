/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "log-limit.h"

#include <limits.h>

bool idle_log_limit_allow(struct idle_log_limit *limit, uint64_t now,
			  unsigned int interval_msecs,
			  unsigned int *suppressed_r)
{
	/* a clock reading before the last line (another clock's, after a
	   restore) must not hold lines back for ever */
	if (limit->logged && now >= limit->last &&
	    now - limit->last < interval_msecs) {
		if (limit->suppressed < UINT_MAX)
			limit->suppressed++;
		return false;
	}
	*suppressed_r = limit->suppressed;
	limit->suppressed = 0;
	limit->last = now;
	limit->logged = true;
	return true;
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "hibernate-quiet.h"

#include <limits.h>

unsigned int idle_hibernate_quiet_msecs(unsigned int base_msecs,
					unsigned int prev_quiet_msecs,
					uint64_t slept_msecs)
{
	uint64_t max = (uint64_t)base_msecs * IDLE_HIBERNATE_QUIET_MAX_FACTOR;
	uint64_t quiet = prev_quiet_msecs;

	if (base_msecs == 0)
		return 0;
	if (quiet < base_msecs)
		return base_msecs;
	if (quiet > max)
		quiet = max;
	if (slept_msecs < quiet)
		quiet *= 2;
	else if (slept_msecs >= quiet * IDLE_HIBERNATE_QUIET_RELAX_FACTOR)
		quiet /= 2;
	if (quiet > max)
		quiet = max;
	if (quiet < base_msecs)
		quiet = base_msecs;
	return quiet > UINT_MAX ? UINT_MAX : (unsigned int)quiet;
}

unsigned int idle_hibernate_retry_msecs(unsigned int base_msecs,
					unsigned int refusals,
					unsigned int max_msecs)
{
	uint64_t delay = base_msecs;

	while (refusals-- > 1 && delay < max_msecs)
		delay *= 2;
	return delay > max_msecs ? max_msecs : (unsigned int)delay;
}

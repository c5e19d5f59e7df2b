/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "time-util.h"
#include "idle-clock.h"

#include <time.h>

static void monotonic_now(struct timespec *ts_r)
{
	if (clock_gettime(CLOCK_MONOTONIC, ts_r) < 0)
		i_fatal("clock_gettime(CLOCK_MONOTONIC) failed: %m");
}

uint64_t imap_idle_clock_monotonic_msecs(void)
{
	struct timespec ts;

	monotonic_now(&ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t imap_idle_clock_monotonic_usecs(void)
{
	struct timespec ts;

	monotonic_now(&ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t imap_idle_clock_wall_msecs(void)
{
	struct timeval now;

	i_gettimeofday(&now);
	return (int64_t)now.tv_sec * 1000 + now.tv_usec / 1000;
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "ioloop.h"
#include "time-util.h"
#include "keepalive-phase.h"
#include "idle-keepalive.h"

struct idle_keepalive {
	struct timeout *to;
	uint64_t interval_msecs, phase_msecs;
	idle_keepalive_callback_t *callback;
	void *context;
};

static void keepalive_schedule(struct idle_keepalive *keepalive);

static void keepalive_timeout(struct idle_keepalive *keepalive)
{
	/* re-armed first: the callback may stop the keepalive */
	keepalive_schedule(keepalive);
	keepalive->callback(keepalive->context);
}

static void keepalive_schedule(struct idle_keepalive *keepalive)
{
	struct timeval now;
	uint64_t delay;

	i_gettimeofday(&now);
	delay = idle_keepalive_delay_msecs(timeval_to_usecs(&now) / 1000,
					   keepalive->interval_msecs,
					   keepalive->phase_msecs);
	timeout_remove(&keepalive->to);
	keepalive->to = timeout_add((unsigned int)delay, keepalive_timeout,
				    keepalive);
}

struct idle_keepalive *
idle_keepalive_start(unsigned int interval_secs, const char *username,
		     idle_keepalive_callback_t *callback, void *context)
{
	unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES];
	struct idle_keepalive *keepalive;

	if (interval_secs == 0)
		return NULL;
	keepalive = i_new(struct idle_keepalive, 1);
	keepalive->callback = callback;
	keepalive->context = context;
	keepalive->interval_msecs = (uint64_t)interval_secs * 1000;
	idle_keepalive_phase_default_key(key);
	keepalive->phase_msecs = idle_keepalive_phase_msecs(key, username,
		keepalive->interval_msecs);
	keepalive_schedule(keepalive);
	return keepalive;
}

void idle_keepalive_stop(struct idle_keepalive **_keepalive)
{
	struct idle_keepalive *keepalive = *_keepalive;

	if (keepalive == NULL)
		return;
	*_keepalive = NULL;
	timeout_remove(&keepalive->to);
	i_free(keepalive);
}

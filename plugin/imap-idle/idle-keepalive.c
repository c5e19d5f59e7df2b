/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "ioloop.h"
#include "keepalive-phase.h"
#include "idle-clock.h"
#include "idle-keepalive.h"

struct imap_idle_keepalive {
	struct timeout *to;
	uint64_t interval_msecs, phase_msecs;
	imap_idle_keepalive_callback_t *callback;
	void *context;
};

static void keepalive_schedule(struct imap_idle_keepalive *keepalive);

static void keepalive_timeout(struct imap_idle_keepalive *keepalive)
{
	/* re-armed first: the callback may stop the keepalive */
	keepalive_schedule(keepalive);
	keepalive->callback(keepalive->context);
}

static void keepalive_schedule(struct imap_idle_keepalive *keepalive)
{
	uint64_t delay;

	/* wall-aligned: a user's keepalives share a phase across processes
	   and hosts */
	delay = idle_keepalive_delay_msecs(
		(uint64_t)imap_idle_clock_wall_msecs(),
					   keepalive->interval_msecs,
					   keepalive->phase_msecs);
	timeout_remove(&keepalive->to);
	keepalive->to = timeout_add((unsigned int)delay, keepalive_timeout,
				    keepalive);
}

struct imap_idle_keepalive *
imap_idle_keepalive_start(unsigned int interval_secs, const char *username,
		     imap_idle_keepalive_callback_t *callback, void *context)
{
	unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES];
	struct imap_idle_keepalive *keepalive;

	if (interval_secs == 0)
		return NULL;
	keepalive = i_new(struct imap_idle_keepalive, 1);
	keepalive->callback = callback;
	keepalive->context = context;
	keepalive->interval_msecs = (uint64_t)interval_secs * 1000;
	idle_keepalive_phase_default_key(key);
	keepalive->phase_msecs = idle_keepalive_phase_msecs(key, username,
		keepalive->interval_msecs);
	keepalive_schedule(keepalive);
	return keepalive;
}

void imap_idle_keepalive_stop(struct imap_idle_keepalive **_keepalive)
{
	struct imap_idle_keepalive *keepalive = *_keepalive;

	if (keepalive == NULL)
		return;
	*_keepalive = NULL;
	timeout_remove(&keepalive->to);
	i_free(keepalive);
}

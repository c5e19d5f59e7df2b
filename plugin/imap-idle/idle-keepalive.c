/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "imap-common.h"
#include "ioloop.h"
#include "ostream.h"
#include "time-util.h"
#include "keepalive-phase.h"
#include "idle-keepalive.h"

struct idle_keepalive {
	struct client *client;
	struct timeout *to;
	uint64_t interval_msecs, phase_msecs;
};

static void keepalive_schedule(struct idle_keepalive *keepalive);

static void keepalive_timeout(struct idle_keepalive *keepalive)
{
	struct client *client = keepalive->client;

	/* don't interleave with another command's output, and don't queue
	   behind unsent data: either way the connection is not silent */
	if (client->output_cmd_lock == NULL &&
	    o_stream_get_buffer_used_size(client->output) == 0) {
		o_stream_cork(client->output);
		client_send_line(client, "* OK Still here");
		o_stream_uncork(client->output);
	}
	timeout_reset(client->to_idle);
	keepalive_schedule(keepalive);
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

struct idle_keepalive *idle_keepalive_start(struct client *client)
{
	unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES];
	struct idle_keepalive *keepalive;
	unsigned int interval_secs = client->set->imap_idle_notify_interval;

	if (interval_secs == 0)
		return NULL;
	keepalive = i_new(struct idle_keepalive, 1);
	keepalive->client = client;
	keepalive->interval_msecs = (uint64_t)interval_secs * 1000;
	idle_keepalive_phase_default_key(key);
	keepalive->phase_msecs = idle_keepalive_phase_msecs(key,
		client->user->username, keepalive->interval_msecs);
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

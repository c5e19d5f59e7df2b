/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "log-limit.h"
#include "idle-clock.h"
#include "imap-idle-plugin.h"
#include "idle-events.h"

struct event *imap_idle_event_create(struct event *parent)
{
	struct event *event = event_create(parent);

	event_add_category(event, &event_category_imap_idle);
	event_set_append_log_prefix(event, "imap-idle: ");
	return event;
}

const char *imap_idle_log_limited(struct idle_log_limit *limit)
{
	unsigned int suppressed;

	if (!idle_log_limit_allow(limit, imap_idle_clock_monotonic_msecs(),
				  IMAP_IDLE_LOG_INTERVAL_MSECS, &suppressed))
		return NULL;
	if (suppressed == 0)
		return "";
	return t_strdup_printf(" (%u more times in this process since the "
			       "last such line)", suppressed);
}

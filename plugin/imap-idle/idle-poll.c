/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "ioloop.h"
#include "watch-schedule.h"
#include "log-limit.h"
#include "idle-events.h"
#include "idle-poll.h"

/* every new client of the process would warn again while the limits
   stay reached */
static struct idle_log_limit poll_warning_limit;

static void log_poll_fallback(struct event *event, const char *why)
{
	const char *more;

	e_debug(event_create_passthrough(event)->
		set_name("imap_idle_poll_fallback")->
		add_str("reason", why)->event(),
		"Polling the mailbox for changes: %s", why);
	if (strcmp(why, IMAP_IDLE_POLL_FORCED_REASON) == 0 ||
	    (more = imap_idle_log_limited(&poll_warning_limit)) == NULL)
		return;
	e_warning(event,
		  "Filesystem notifications are unavailable (%s), so idling "
		  "clients of this process learn of changes by polling every "
		  "imap_idle_poll_interval. Fix: raise the inotify limits, "
		  "e.g. sysctl -w fs.inotify.max_user_instances=8192 "
		  "fs.inotify.max_user_watches=1048576 (the instance limit "
		  "must exceed the number of imap processes per mail uid)%s",
		  why, more);
}

struct timeout *
imap_idle_poll_start(unsigned int poll_interval_msecs, struct event *event,
		     const char *why, imap_idle_poll_callback_t *callback,
		     void *context)
{
	struct timeout *to;

	/* the function, not the macro: its type check wants a function's
	   name, and callback's type is checked by the prototype */
	to = (timeout_add)(idle_watch_schedule_poll_msecs(poll_interval_msecs),
			   __FILE__, __LINE__, callback, context);
	log_poll_fallback(event, why);
	return to;
}

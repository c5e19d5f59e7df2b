/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_POLL_H
#define IDLE_POLL_H

struct event;

/* Polling, for a mailbox the ioloop can't watch (inotify limits hit, a
   filesystem without notifications) or with imap_idle_force_poll. */

#define IMAP_IDLE_POLL_FORCED_REASON "imap_idle_force_poll = yes"

typedef void imap_idle_poll_callback_t(void *context);

/* Calls callback every poll period for imap_idle_poll_interval (see
   idle_watch_schedule_poll_msecs()), and logs why: a debug event each
   time, and a warning naming the fix (rate-limited, see idle-events.h),
   unless polling was asked for.  Remove the returned timeout to stop. */
struct timeout *
imap_idle_poll_start(unsigned int poll_interval_msecs, struct event *event,
		     const char *why, imap_idle_poll_callback_t *callback,
		     void *context);

#endif

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_PUSH_EVENT_H
#define IDLE_PUSH_EVENT_H

#include "push-source.h"

struct client;
struct event;

/* The imap_idle_push event: one per sync of an idle that writes
   something to the client, with what made the sync due (push-source.h)
   and how long ago that was.  The command records its signals and the
   start and end of each sync; the caller owns the struct (zeroed). */

struct imap_idle_push {
	/* the next sync's origin, and the running one's */
	struct idle_push_origin pending, origin;
	/* the client's view when the running sync began */
	uint32_t messages_before, uidnext_before;
	uoff_t output_offset;
	/* syncs that wrote something */
	unsigned int count;
};

/* A signal, with when its source noticed
   (imap_idle_clock_monotonic_usecs()). */
void imap_idle_push_signal(struct imap_idle_push *push,
			   enum idle_push_source source, uint64_t since_usecs);
/* The same, noticed now. */
void imap_idle_push_signal_now(struct imap_idle_push *push,
			       enum idle_push_source source);

/* Call right before imap_sync_init(). */
void imap_idle_push_sync_started(struct imap_idle_push *push,
				 struct client *client);
/* Call after a successful imap_sync_deinit(): emits the event (a child
   of event) if the sync wrote anything. */
void imap_idle_push_sync_finished(struct imap_idle_push *push,
				  struct client *client, struct event *event);

#endif

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_PUSH_SOURCE_H
#define IDLE_PUSH_SOURCE_H

#include <stdint.h>

/* What made a sync due, for the event of a sync that reports something.
   The shell records every signal of the idle (the watches, the timers
   that start a sync on their own, the start and end of the idle) with
   the time it saw it; several signals coalesce into one sync, and the
   sync is counted against the earliest of them. */

enum idle_push_source {
	/* nothing recorded (never the source of a sync the shell starts) */
	IDLE_PUSH_SOURCE_NONE = 0,
	/* the plugin's own directory watches (inotify) */
	IDLE_PUSH_SOURCE_WATCH,
	/* Dovecot's own watch (mailbox_notify_changes()), 0.5 s late */
	IDLE_PUSH_SOURCE_DOVECOT,
	/* the poll timer, where inotify can't be used */
	IDLE_PUSH_SOURCE_POLL,
	/* maildir: the directory re-check (a writer that bypassed Dovecot) */
	IDLE_PUSH_SOURCE_RECHECK,
	/* the notify policy's timer started a sync no signal asked for */
	IDLE_PUSH_SOURCE_TIMER,
	/* a follow-up sync no signal asked for */
	IDLE_PUSH_SOURCE_FOLLOWUP,
	/* IDLE began: the changes since the last command */
	IDLE_PUSH_SOURCE_START,
	/* IDLE resumed after hibernation */
	IDLE_PUSH_SOURCE_RESUME,
	/* DONE: the final sync */
	IDLE_PUSH_SOURCE_DONE,
	/* a change event from another host's bus */
	IDLE_PUSH_SOURCE_BUS,

	IDLE_PUSH_SOURCE_COUNT
};

struct idle_push_origin {
	enum idle_push_source source;
	/* when the source signalled, on the caller's monotonic clock */
	uint64_t since;
};

/* Folds a signal into the origin of the next sync: the earliest signal
   wins, a tie goes to the one recorded first.  An unknown source or
   IDLE_PUSH_SOURCE_NONE is ignored. */
void idle_push_origin_add(struct idle_push_origin *pending,
			  enum idle_push_source source, uint64_t since);

/* A sync starts: returns what made it due and clears pending, so that
   the signals from here on are the next sync's. */
struct idle_push_origin
idle_push_origin_take(struct idle_push_origin *pending);

/* The time from the signal to now; 0 if now is before it. */
uint64_t idle_push_origin_latency(const struct idle_push_origin *origin,
				  uint64_t now);

/* The name in events and logs ("watch", "dovecot", ...); "none" for
   IDLE_PUSH_SOURCE_NONE and "unknown" for a value out of range. */
const char *idle_push_source_name(enum idle_push_source source);

#endif

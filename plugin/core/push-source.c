/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "push-source.h"

#include <stdbool.h>

/* The earliest signal, not the first one handled: a directory watch's
   events are read at once but handed to its subscribers one after the
   other, so Dovecot's watch may be handled in between although the
   plugin's saw the change first.  Timers and the ends of the idle are
   recorded when they start a sync, at that moment, so any signal before
   them wins. */

static const char *const source_names[IDLE_PUSH_SOURCE_COUNT] = {
	[IDLE_PUSH_SOURCE_NONE] = "none",
	[IDLE_PUSH_SOURCE_WATCH] = "watch",
	[IDLE_PUSH_SOURCE_DOVECOT] = "dovecot",
	[IDLE_PUSH_SOURCE_POLL] = "poll",
	[IDLE_PUSH_SOURCE_RECHECK] = "recheck",
	[IDLE_PUSH_SOURCE_TIMER] = "timer",
	[IDLE_PUSH_SOURCE_FOLLOWUP] = "followup",
	[IDLE_PUSH_SOURCE_START] = "start",
	[IDLE_PUSH_SOURCE_RESUME] = "resume",
	[IDLE_PUSH_SOURCE_DONE] = "done",
	[IDLE_PUSH_SOURCE_BUS] = "bus",
};

static bool source_valid(enum idle_push_source source)
{
	return (unsigned int)source < IDLE_PUSH_SOURCE_COUNT;
}

void idle_push_origin_add(struct idle_push_origin *pending,
			  enum idle_push_source source, uint64_t since)
{
	if (source == IDLE_PUSH_SOURCE_NONE || !source_valid(source))
		return;
	if (pending->source != IDLE_PUSH_SOURCE_NONE &&
	    pending->since <= since)
		return;
	pending->source = source;
	pending->since = since;
}

struct idle_push_origin
idle_push_origin_take(struct idle_push_origin *pending)
{
	struct idle_push_origin origin = *pending;

	pending->source = IDLE_PUSH_SOURCE_NONE;
	pending->since = 0;
	return origin;
}

uint64_t idle_push_origin_latency(const struct idle_push_origin *origin,
				  uint64_t now)
{
	return now > origin->since ? now - origin->since : 0;
}

const char *idle_push_source_name(enum idle_push_source source)
{
	return source_valid(source) ? source_names[source] : "unknown";
}

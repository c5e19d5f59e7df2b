/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "notify-policy.h"

/* The model: at most one sync runs and at most one more is owed.
   - The first change opens a window that ends delay_msecs later (with no
     delay it has already ended: the leading edge).  Later changes merge
     into it and never extend it, so a mailbox under constant change still
     syncs every delay_msecs.
   - A change during a sync only sets change_pending, so a burst of any
     length costs one follow-up sync, and none is lost because the
     follow-up starts after the running sync has read the mailbox.  The
     follow-up's window opens when the sync finishes.
   - A change seen while another process holds its write lock waits for
     the release (which signals again), but no longer than
     writer_wait_msecs (a stale lock or a lost event costs a bounded
     delay, never a lost change), and never ends the window early.
   - Streams are coalesced (see notify-policy.h).  A burst of deliveries
     is synced when the mailbox has stayed unchanged for a BURST_TICK, or
     BURST_MAX_WAIT after the change became owed; other streams, after
     STREAM_GRACE, at most every STREAM_INTERVAL.  Neither waits for a
     busy writer (an index sync may run beside its commit; the next one
     reports the rest), and the changes that come while such a sync is
     owed are no news (idle_notify_policy_listening()), so a mailbox under
     constant change costs a bounded number of syncs and wake-ups a
     second, not one per write.  This coalesces on the receiving side
     without ever delaying the first change after a quiet spell.
   There is one timer; its deadline only ever moves earlier until it fires
   or a sync starts. */

void idle_notify_policy_init(struct idle_notify_policy *policy,
			     unsigned int delay_msecs,
			     unsigned int writer_wait_msecs)
{
	policy->delay_msecs = delay_msecs;
	policy->writer_wait_msecs = writer_wait_msecs;
	policy->deadline = 0;
	policy->window_end = 0;
	policy->owed_since = 0;
	policy->stream_start = 0;
	policy->last_change = 0;
	policy->last_sync_start = 0;
	policy->last_mail = 0;
	policy->stream_active = false;
	policy->last_sync_had_mail = false;
	policy->mail_seen = false;
	policy->awaiting_writer = false;
	policy->burst_tick = false;
	policy->syncing = false;
	policy->change_pending = false;
	policy->timer_armed = false;
}

/* Arms the timer unless it is armed for an earlier deadline already.
   burst_tick: the timer ends a burst tick. */
static enum idle_notify_action
policy_arm(struct idle_notify_policy *policy, uint64_t deadline,
	   bool burst_tick, uint64_t *deadline_r)
{
	if (policy->timer_armed && policy->deadline <= deadline)
		return IDLE_NOTIFY_WAIT;
	policy->timer_armed = true;
	policy->deadline = deadline;
	policy->burst_tick = burst_tick;
	*deadline_r = deadline;
	return IDLE_NOTIFY_ARM_TIMER;
}

/* New mail came recently: the stream is deliveries. */
static bool policy_delivery_stream(const struct idle_notify_policy *policy,
				   uint64_t now)
{
	return policy->last_sync_had_mail ||
		(policy->mail_seen && now - policy->last_mail <
		 IDLE_NOTIFY_DELIVERY_MEMORY_MSECS);
}

/* Deliveries following each other more closely than BURST_WINDOW. */
static bool policy_in_burst(const struct idle_notify_policy *policy,
			    uint64_t now)
{
	return policy->stream_active && policy_delivery_stream(policy, now) &&
		now - policy->last_sync_start <
		IDLE_NOTIFY_BURST_WINDOW_MSECS;
}

/* The earliest start a stream of flag changes and expunges allows past
   its grace (0: none applies). */
static uint64_t policy_throttled_until(const struct idle_notify_policy *policy,
				       uint64_t now)
{
	if (!policy->stream_active || policy_delivery_stream(policy, now) ||
	    now - policy->stream_start < IDLE_NOTIFY_STREAM_GRACE_MSECS)
		return 0;
	return policy->last_sync_start + IDLE_NOTIFY_STREAM_INTERVAL_MSECS;
}

/* A change is owed and nobody else holds a lock: sync as soon as the
   window and the stream allow.  may_tick: a burst may still make it wait
   for quiet (not once a tick has decided). */
static enum idle_notify_action
policy_sync_or_arm(struct idle_notify_policy *policy, uint64_t now,
		   bool may_tick, uint64_t *deadline_r)
{
	uint64_t earliest = policy_throttled_until(policy, now);

	if (earliest < policy->window_end)
		earliest = policy->window_end;
	policy->awaiting_writer = false;
	if (now < earliest)
		return policy_arm(policy, earliest, false, deadline_r);
	if (may_tick && policy_in_burst(policy, now)) {
		return policy_arm(policy, now + IDLE_NOTIFY_BURST_TICK_MSECS,
				  true, deadline_r);
	}
	return IDLE_NOTIFY_SYNC_NOW;
}

static void policy_note_change(struct idle_notify_policy *policy,
			       uint64_t now)
{
	if (!policy->stream_active ||
	    now - policy->last_change > IDLE_NOTIFY_STREAM_GAP_MSECS) {
		policy->stream_active = true;
		policy->stream_start = now;
	}
	policy->last_change = now;
	if (!policy->change_pending) {
		policy->change_pending = true;
		policy->owed_since = now;
		/* during a sync the window opens when it finishes */
		policy->window_end = now + policy->delay_msecs;
	}
}

enum idle_notify_action
idle_notify_policy_change(struct idle_notify_policy *policy, uint64_t now,
			  bool writer_busy, uint64_t *deadline_r)
{
	uint64_t writer_deadline;

	policy_note_change(policy, now);
	if (policy->syncing)
		return IDLE_NOTIFY_WAIT;
	if (writer_busy && policy_throttled_until(policy, now) <= now &&
	    !policy_in_burst(policy, now)) {
		if (policy->timer_armed && !policy->awaiting_writer)
			return IDLE_NOTIFY_WAIT;
		writer_deadline = now + policy->writer_wait_msecs;
		policy->awaiting_writer = true;
		return policy_arm(policy, writer_deadline > policy->window_end ?
				  writer_deadline : policy->window_end,
				  false, deadline_r);
	}
	return policy_sync_or_arm(policy, now, true, deadline_r);
}

enum idle_notify_action
idle_notify_policy_timer(struct idle_notify_policy *policy, uint64_t now,
			 bool still_changing, uint64_t *deadline_r)
{
	bool ends_tick = policy->burst_tick;

	policy->timer_armed = false;
	policy->awaiting_writer = false;
	policy->burst_tick = false;
	if (policy->syncing || !policy->change_pending)
		return IDLE_NOTIFY_WAIT;
	if (ends_tick && still_changing &&
	    now - policy->owed_since < IDLE_NOTIFY_BURST_MAX_WAIT_MSECS) {
		return policy_arm(policy, now + IDLE_NOTIFY_BURST_TICK_MSECS,
				  true, deadline_r);
	}
	return policy_sync_or_arm(policy, now, !ends_tick, deadline_r);
}

void idle_notify_policy_sync_started(struct idle_notify_policy *policy,
				     uint64_t now)
{
	policy->last_sync_start = now;
	policy->syncing = true;
	policy->change_pending = false;
	policy->timer_armed = false;
	policy->awaiting_writer = false;
	policy->burst_tick = false;
}

enum idle_notify_action
idle_notify_policy_sync_finished(struct idle_notify_policy *policy,
				 uint64_t now, bool had_mail,
				 uint64_t *deadline_r)
{
	policy->syncing = false;
	policy->last_sync_had_mail = had_mail;
	if (had_mail) {
		policy->mail_seen = true;
		policy->last_mail = now;
	}
	if (!policy->change_pending)
		return IDLE_NOTIFY_WAIT;
	policy->window_end = now + policy->delay_msecs;
	return policy_sync_or_arm(policy, now, true, deadline_r);
}

bool idle_notify_policy_listening(const struct idle_notify_policy *policy)
{
	return !policy->timer_armed || !policy->change_pending ||
		policy->awaiting_writer;
}

const char *idle_notify_action_name(enum idle_notify_action action)
{
	switch (action) {
	case IDLE_NOTIFY_WAIT:
		return "wait";
	case IDLE_NOTIFY_SYNC_NOW:
		return "sync-now";
	case IDLE_NOTIFY_ARM_TIMER:
		return "arm-timer";
	}
	return "unknown";
}

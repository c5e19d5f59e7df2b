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
   - A stream of changes (see notify-policy.h) is pushed change by change
     for its first STREAM_GRACE; after that a sync starts at most every
     STREAM_INTERVAL, so a mailbox under constant change costs a few syncs
     a second, not one per change.  Not while the last sync brought new
     mail: a burst of deliveries is pushed message by message (as fast as
     syncs go, queued changes sharing one), so its last one arrives at
     once.  This coalesces on the receiving side without ever delaying the
     first change after a quiet spell.
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
	policy->stream_start = 0;
	policy->last_change = 0;
	policy->last_sync_start = 0;
	policy->stream_active = false;
	policy->last_sync_had_mail = false;
	policy->syncing = false;
	policy->change_pending = false;
	policy->timer_armed = false;
}

static enum idle_notify_action
policy_arm(struct idle_notify_policy *policy, uint64_t deadline,
	   uint64_t *deadline_r)
{
	if (policy->timer_armed && policy->deadline <= deadline)
		return IDLE_NOTIFY_WAIT;
	policy->timer_armed = true;
	policy->deadline = deadline;
	*deadline_r = deadline;
	return IDLE_NOTIFY_ARM_TIMER;
}

/* When the owed sync may start: once the window has ended and, in a
   stream past its grace, STREAM_INTERVAL after the last sync began. */
static uint64_t policy_earliest_sync(const struct idle_notify_policy *policy,
				     uint64_t now)
{
	uint64_t earliest = policy->window_end, throttled;

	if (policy->stream_active && !policy->last_sync_had_mail &&
	    now - policy->stream_start >= IDLE_NOTIFY_STREAM_GRACE_MSECS) {
		throttled = policy->last_sync_start +
			IDLE_NOTIFY_STREAM_INTERVAL_MSECS;
		if (throttled > earliest)
			earliest = throttled;
	}
	return earliest;
}

/* A change is owed and nobody else holds a lock: sync as soon as the
   window and the stream allow. */
static enum idle_notify_action
policy_sync_or_arm(struct idle_notify_policy *policy, uint64_t now,
		   uint64_t *deadline_r)
{
	uint64_t earliest = policy_earliest_sync(policy, now);

	if (now >= earliest)
		return IDLE_NOTIFY_SYNC_NOW;
	return policy_arm(policy, earliest, deadline_r);
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
}

static void policy_open_window(struct idle_notify_policy *policy,
			       uint64_t now)
{
	if (policy->change_pending)
		return;
	policy->change_pending = true;
	policy->window_end = now + policy->delay_msecs;
}

enum idle_notify_action
idle_notify_policy_change(struct idle_notify_policy *policy, uint64_t now,
			  bool writer_busy, uint64_t *deadline_r)
{
	uint64_t writer_deadline;

	policy_note_change(policy, now);
	if (policy->syncing) {
		policy->change_pending = true;
		return IDLE_NOTIFY_WAIT;
	}
	policy_open_window(policy, now);
	if (writer_busy) {
		writer_deadline = now + policy->writer_wait_msecs;
		return policy_arm(policy, writer_deadline > policy->window_end ?
				  writer_deadline : policy->window_end,
				  deadline_r);
	}
	return policy_sync_or_arm(policy, now, deadline_r);
}

enum idle_notify_action
idle_notify_policy_timer(struct idle_notify_policy *policy, uint64_t now,
			 uint64_t *deadline_r)
{
	policy->timer_armed = false;
	if (policy->syncing || !policy->change_pending)
		return IDLE_NOTIFY_WAIT;
	return policy_sync_or_arm(policy, now, deadline_r);
}

void idle_notify_policy_sync_started(struct idle_notify_policy *policy,
				     uint64_t now)
{
	policy->last_sync_start = now;
	policy->syncing = true;
	policy->change_pending = false;
	policy->timer_armed = false;
}

enum idle_notify_action
idle_notify_policy_sync_finished(struct idle_notify_policy *policy,
				 uint64_t now, bool had_mail,
				 uint64_t *deadline_r)
{
	policy->syncing = false;
	policy->last_sync_had_mail = had_mail;
	if (!policy->change_pending)
		return IDLE_NOTIFY_WAIT;
	policy->window_end = now + policy->delay_msecs;
	return policy_sync_or_arm(policy, now, deadline_r);
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

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "notify-policy.h"

/* The model: at most one sync runs and at most one more is owed.
   - With no delay, a change while nothing runs syncs at once (the leading
     edge); a change during a sync only sets change_pending, so a burst of
     any length costs one follow-up sync, and none is lost because the
     follow-up starts after the running sync has read the mailbox.
   - With a delay, the first change opens a window of delay_msecs and later
     changes merge into it; the window is never extended, so a mailbox
     under constant change still syncs every delay_msecs.
   - A change seen while another process holds its write lock waits for the
     release (which signals again), bounded by writer_wait_msecs so that a
     stale lock or a lost event costs a bounded delay, never a lost change.
   There is one timer; its deadline only ever moves earlier until it fires
   or a sync starts. */

void idle_notify_policy_init(struct idle_notify_policy *policy,
			     unsigned int delay_msecs,
			     unsigned int writer_wait_msecs)
{
	policy->delay_msecs = delay_msecs;
	policy->writer_wait_msecs = writer_wait_msecs;
	policy->deadline = 0;
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

static enum idle_notify_action
policy_sync_or_arm(struct idle_notify_policy *policy, uint64_t now,
		   uint64_t *deadline_r)
{
	if (policy->delay_msecs == 0)
		return IDLE_NOTIFY_SYNC_NOW;
	policy->change_pending = true;
	return policy_arm(policy, now + policy->delay_msecs, deadline_r);
}

enum idle_notify_action
idle_notify_policy_change(struct idle_notify_policy *policy, uint64_t now,
			  bool writer_busy, uint64_t *deadline_r)
{
	if (policy->syncing) {
		policy->change_pending = true;
		return IDLE_NOTIFY_WAIT;
	}
	if (writer_busy) {
		policy->change_pending = true;
		return policy_arm(policy, now + policy->writer_wait_msecs,
				  deadline_r);
	}
	return policy_sync_or_arm(policy, now, deadline_r);
}

enum idle_notify_action
idle_notify_policy_timer(struct idle_notify_policy *policy, uint64_t now,
			 uint64_t *deadline_r)
{
	(void)now;
	(void)deadline_r;
	policy->timer_armed = false;
	if (policy->syncing || !policy->change_pending)
		return IDLE_NOTIFY_WAIT;
	return IDLE_NOTIFY_SYNC_NOW;
}

void idle_notify_policy_sync_started(struct idle_notify_policy *policy)
{
	policy->syncing = true;
	policy->change_pending = false;
	policy->timer_armed = false;
}

enum idle_notify_action
idle_notify_policy_sync_finished(struct idle_notify_policy *policy,
				 uint64_t now, uint64_t *deadline_r)
{
	policy->syncing = false;
	if (!policy->change_pending)
		return IDLE_NOTIFY_WAIT;
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

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_NOTIFY_POLICY_H
#define IDLE_NOTIFY_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Decides when an idling session syncs its mailbox.  The shell reports
   change signals, timer expiry and the start and end of each sync; the
   policy answers with what to do next.  Times are milliseconds on any
   monotonic clock the caller owns. */

enum idle_notify_action {
	/* Nothing to do now; keep any timer that is armed. */
	IDLE_NOTIFY_WAIT = 0,
	/* Start a sync now (and drop any armed timer). */
	IDLE_NOTIFY_SYNC_NOW,
	/* (Re)arm the one timer to fire at *deadline_r. */
	IDLE_NOTIFY_ARM_TIMER,
};

/* Receiving-side coalescing of a mailbox under constant change: changes
   less than STREAM_GAP apart form a stream.
   - A burst of deliveries (a change less than BURST_WINDOW after a sync
     began, while the last sync brought new mail or one did less than
     DELIVERY_MEMORY ago) is synced once the mailbox stays unchanged for a
     BURST_TICK (the shell says at each tick whether it changed), or
     BURST_MAX_WAIT after the change became owed: a burst's messages are
     reported a few dozen at a time, its last one a tick or two after it
     was committed.
   - Any other stream (flag changes, expunges) is pushed change by change
     for its first STREAM_GRACE, then synced at most every STREAM_INTERVAL.
   The first change after a quiet spell is never delayed. */
#define IDLE_NOTIFY_STREAM_GAP_MSECS 1000
#define IDLE_NOTIFY_STREAM_GRACE_MSECS 50
#define IDLE_NOTIFY_STREAM_INTERVAL_MSECS 250
#define IDLE_NOTIFY_DELIVERY_MEMORY_MSECS 100
#define IDLE_NOTIFY_BURST_WINDOW_MSECS 20
#define IDLE_NOTIFY_BURST_TICK_MSECS 4
#define IDLE_NOTIFY_BURST_MAX_WAIT_MSECS 40

struct idle_notify_policy {
	unsigned int delay_msecs;
	unsigned int writer_wait_msecs;
	uint64_t deadline;
	uint64_t window_end;
	/* when the owed change was first seen */
	uint64_t owed_since;
	uint64_t stream_start, last_change, last_sync_start, last_mail;
	bool stream_active;
	bool last_sync_had_mail, mail_seen;
	/* the armed timer is the writer wait: its release is news */
	bool awaiting_writer;
	/* the armed timer ends a burst tick */
	bool burst_tick;
	bool syncing;
	bool change_pending;
	bool timer_armed;
};

/* delay_msecs: coalescing window after the first change (0 = leading
   edge).  writer_wait_msecs: the longest wait for another process to
   release its write lock before syncing regardless. */
void idle_notify_policy_init(struct idle_notify_policy *policy,
			     unsigned int delay_msecs,
			     unsigned int writer_wait_msecs);

/* Something in the mailbox changed.  writer_busy: another process is
   still in the middle of its commit (its release will signal again). */
enum idle_notify_action
idle_notify_policy_change(struct idle_notify_policy *policy, uint64_t now,
			  bool writer_busy, uint64_t *deadline_r);

/* The armed timer fired (at any time at or after its deadline).
   still_changing: the mailbox changed since the shell last looked (or a
   writer is in the middle of its commit); only a burst tick asks. */
enum idle_notify_action
idle_notify_policy_timer(struct idle_notify_policy *policy, uint64_t now,
			 bool still_changing, uint64_t *deadline_r);

/* The shell started a sync; any armed timer is to be dropped. */
void idle_notify_policy_sync_started(struct idle_notify_policy *policy,
				     uint64_t now);

/* The sync finished; had_mail: it reported new messages.  Changes
   signalled while it ran queue exactly one follow-up sync. */
enum idle_notify_action
idle_notify_policy_sync_finished(struct idle_notify_policy *policy,
				 uint64_t now, bool had_mail,
				 uint64_t *deadline_r);

/* Whether changes are news now.  They are not while a timer is armed for
   a sync that is owed anyway (a window or a stream's throttle): the shell
   may stop listening until that sync starts, so a stream wakes it once per
   sync instead of once per write. */
bool idle_notify_policy_listening(const struct idle_notify_policy *policy);

const char *idle_notify_action_name(enum idle_notify_action action);

#endif

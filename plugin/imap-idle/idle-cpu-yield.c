/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* for SCHED_BATCH */
#define _GNU_SOURCE
#include "imap-common.h"
#include "master-service.h"
#include "idle-events.h"
#include "idle-cpu-yield.h"

#include <sched.h>

/* The process must never run a client's command under SCHED_BATCH, so
   before the first switch it tries both ways (SCHED_OTHER, SCHED_BATCH,
   SCHED_OTHER again) while nothing is waiting: a filter that refuses one
   of them (seccomp, a container runtime, an LD_PRELOAD shim) is found
   while the process can still run as usual, and the setting is off for
   the process's life.  Should SCHED_OTHER still be refused later (a
   filter that changes its mind), the process takes no new clients and
   exits once its clients have left. */

enum yield_state {
	YIELD_UNTRIED = 0,
	YIELD_AVAILABLE,
	/* refused before any client ran under SCHED_BATCH */
	YIELD_UNAVAILABLE,
	/* SCHED_OTHER refused while under SCHED_BATCH */
	YIELD_STUCK,
};

static unsigned int yielding_idlers = 0;
static bool batch_policy = FALSE;
static enum yield_state yield_state = YIELD_UNTRIED;

static const char *policy_name(int policy)
{
	return policy == SCHED_BATCH ? "SCHED_BATCH" : "SCHED_OTHER";
}

static int set_policy(int policy)
{
	struct sched_param param = { .sched_priority = 0 };

	return sched_setscheduler(0, policy, &param);
}

static void yield_refused(struct event *event, int policy)
{
	struct event *log_event = imap_idle_event_create(event);

	e_warning(log_event, "imap_idle_yield_cpu: sched_setscheduler(%s) "
		  "failed: %m; this process keeps SCHED_OTHER, so idling "
		  "clients' pushes may preempt deliveries (allow "
		  "sched_setscheduler, or set imap_idle_yield_cpu = no to "
		  "silence this)", policy_name(policy));
	event_unref(&log_event);
	yield_state = YIELD_UNAVAILABLE;
}

static void yield_stuck(struct event *event)
{
	struct event *log_event = imap_idle_event_create(event);

	e_error(log_event, "imap_idle_yield_cpu: "
		"sched_setscheduler(SCHED_OTHER) failed under SCHED_BATCH: %m; "
		"this imap process takes no new clients and exits once its "
		"clients have left (allow sched_setscheduler, or set "
		"imap_idle_yield_cpu = no)");
	event_unref(&log_event);
	yield_state = YIELD_STUCK;
	batch_policy = TRUE;
	master_service_stop_new_connections(master_service);
}

/* Returns TRUE if the process may switch between the two policies. */
static bool yield_probe(struct event *event)
{
	if (set_policy(SCHED_OTHER) < 0) {
		yield_refused(event, SCHED_OTHER);
		return FALSE;
	}
	if (set_policy(SCHED_BATCH) < 0) {
		yield_refused(event, SCHED_BATCH);
		return FALSE;
	}
	if (set_policy(SCHED_OTHER) < 0) {
		yield_stuck(event);
		return FALSE;
	}
	yield_state = YIELD_AVAILABLE;
	return TRUE;
}

static void set_batch_policy(struct event *event, bool batch)
{
	if (set_policy(batch ? SCHED_BATCH : SCHED_OTHER) == 0)
		batch_policy = batch;
	else if (batch)
		yield_refused(event, SCHED_BATCH);
	else
		yield_stuck(event);
}

void imap_idle_cpu_yield_update(struct event *event)
{
	/* imap_client_count includes clients not idling with the setting:
	   they get the CPU as usual */
	bool want = yielding_idlers > 0 &&
		yielding_idlers >= imap_client_count;

	if (want == batch_policy)
		return;
	switch (yield_state) {
	case YIELD_UNTRIED:
		if (!yield_probe(event))
			return;
		break;
	case YIELD_AVAILABLE:
		break;
	case YIELD_UNAVAILABLE:
	case YIELD_STUCK:
		return;
	}
	set_batch_policy(event, want);
}

void imap_idle_cpu_yield_idler_add(struct event *event)
{
	yielding_idlers++;
	imap_idle_cpu_yield_update(event);
}

void imap_idle_cpu_yield_idler_remove(struct event *event)
{
	if (yielding_idlers > 0)
		yielding_idlers--;
	imap_idle_cpu_yield_update(event);
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* for SCHED_BATCH */
#define _GNU_SOURCE
#include "imap-common.h"
#include "idle-events.h"
#include "idle-cpu-yield.h"

#include <sched.h>

static unsigned int yielding_idlers = 0;
static bool batch_policy = FALSE;
/* sched_setscheduler() failed once: stop trying (seccomp, odd kernels) */
static bool yield_unavailable = FALSE;

static void set_batch_policy(struct event *event, bool batch)
{
	struct sched_param param = { .sched_priority = 0 };
	struct event *log_event;

	if (sched_setscheduler(0, batch ? SCHED_BATCH : SCHED_OTHER,
			       &param) < 0) {
		log_event = imap_idle_event_create(event);
		e_warning(log_event, "imap_idle_yield_cpu: "
			  "sched_setscheduler(%s) failed: %m; idling "
			  "clients' pushes may preempt deliveries (set "
			  "imap_idle_yield_cpu = no to silence this)",
			  batch ? "SCHED_BATCH" : "SCHED_OTHER");
		event_unref(&log_event);
		yield_unavailable = TRUE;
		return;
	}
	batch_policy = batch;
}

void idle_cpu_yield_update(struct event *event)
{
	/* imap_client_count includes clients not idling with the setting:
	   they get the CPU as usual */
	bool want = yielding_idlers > 0 &&
		yielding_idlers >= imap_client_count;

	if (want != batch_policy && !yield_unavailable)
		set_batch_policy(event, want);
}

void idle_cpu_yield_idler_add(struct event *event)
{
	yielding_idlers++;
	idle_cpu_yield_update(event);
}

void idle_cpu_yield_idler_remove(struct event *event)
{
	if (yielding_idlers > 0)
		yielding_idlers--;
	idle_cpu_yield_update(event);
}

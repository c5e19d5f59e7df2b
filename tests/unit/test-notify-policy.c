/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "notify-policy.h"
#include "unit-main.h"

#include <inttypes.h>
#include <string.h>

/* Each scenario is a table of steps played against one policy, as the
   shell would: the event, the time, whether another process holds the
   write lock (for changes) or the sync brought new mail (for sync
   finish), the action expected back and, for ARM_TIMER, the deadline.  Sync start and sync finish are events too, since the
   shell reports them; sync start has no answer (WAIT in the table). */

enum step_event {
	EV_END = 0,
	EV_CHANGE,
	EV_TIMER,
	EV_SYNC_START,
	EV_SYNC_FINISH,
};

#define WAIT IDLE_NOTIFY_WAIT
#define SYNC IDLE_NOTIFY_SYNC_NOW
#define ARM IDLE_NOTIFY_ARM_TIMER
#define BUSY true
#define IDLE false

struct policy_step {
	enum step_event event;
	uint64_t now;
	/* writer busy for a change, had mail for a sync finish, still
	   changing for a timer */
	bool flag;
	enum idle_notify_action action;
	uint64_t deadline;
};

#define CHANGE(now, busy, action, deadline) \
	{ EV_CHANGE, now, busy, action, deadline }
#define TIMER(now, action, deadline) \
	{ EV_TIMER, now, false, action, deadline }
#define TIMER_CHANGING(now, action, deadline) \
	{ EV_TIMER, now, true, action, deadline }
#define SYNC_START(now) \
	{ EV_SYNC_START, now, false, WAIT, 0 }
#define SYNC_FINISH(now, action, deadline) \
	{ EV_SYNC_FINISH, now, false, action, deadline }
#define SYNC_FINISH_MAIL(now, action, deadline) \
	{ EV_SYNC_FINISH, now, true, action, deadline }

struct policy_scenario {
	const char *name;
	unsigned int delay_msecs, writer_wait_msecs;
	struct policy_step steps[24];
};

/* Syncs that brought new mail throttle a stream least (DELIVERY_INTERVAL),
   so scenarios about windows and follow-ups over a few hundred
   milliseconds use those. */
static const struct policy_scenario scenarios[] = {
	{ "leading edge with delay 0", 0, 1000, {
		CHANGE(100, IDLE, SYNC, 0),
		SYNC_START(100),
		SYNC_FINISH_MAIL(105, WAIT, 0),
		CHANGE(200, IDLE, SYNC, 0),
		SYNC_START(200),
		SYNC_FINISH_MAIL(210, WAIT, 0),
		/* nothing pending: a stray timer does nothing */
		TIMER(300, WAIT, 0),
	} },
	{ "change during a sync queues one follow-up", 0, 1000, {
		CHANGE(0, IDLE, SYNC, 0),
		SYNC_START(0),
		CHANGE(3, IDLE, WAIT, 0),
		CHANGE(4, IDLE, WAIT, 0),
		SYNC_FINISH(5, SYNC, 0),
		SYNC_START(5),
		SYNC_FINISH(8, WAIT, 0),
	} },
	{ "no follow-up when nothing changed during the sync", 0, 1000, {
		CHANGE(0, IDLE, SYNC, 0),
		SYNC_START(0),
		SYNC_FINISH(50, WAIT, 0),
		TIMER(60, WAIT, 0),
	} },
	{ "delay window opened by the first change", 20, 1000, {
		CHANGE(100, IDLE, ARM, 120),
		CHANGE(105, IDLE, WAIT, 0),
		CHANGE(119, IDLE, WAIT, 0),
		TIMER(120, SYNC, 0),
		SYNC_START(120),
		SYNC_FINISH_MAIL(130, WAIT, 0),
		/* a new window after the sync */
		CHANGE(200, IDLE, ARM, 220),
		CHANGE(201, IDLE, WAIT, 0),
		TIMER(220, SYNC, 0),
		SYNC_START(220),
		SYNC_FINISH_MAIL(221, WAIT, 0),
	} },
	{ "delay window is never extended under constant change", 20, 1000, {
		CHANGE(0, IDLE, ARM, 20),
		CHANGE(5, IDLE, WAIT, 0),
		CHANGE(10, IDLE, WAIT, 0),
		CHANGE(15, IDLE, WAIT, 0),
		TIMER(20, SYNC, 0),
		SYNC_START(20),
		CHANGE(21, IDLE, WAIT, 0),
		SYNC_FINISH(25, ARM, 45),
		CHANGE(30, IDLE, WAIT, 0),
		CHANGE(44, IDLE, WAIT, 0),
		TIMER(45, SYNC, 0),
		SYNC_START(45),
		SYNC_FINISH(46, WAIT, 0),
	} },
	{ "writer busy waits, a non-busy change syncs", 0, 1000, {
		CHANGE(0, BUSY, ARM, 1000),
		CHANGE(10, IDLE, SYNC, 0),
		SYNC_START(10),
		SYNC_FINISH(15, WAIT, 0),
	} },
	{ "timer after writer busy syncs", 0, 1000, {
		CHANGE(0, BUSY, ARM, 1000),
		/* a later busy change does not push the deadline back */
		CHANGE(500, BUSY, WAIT, 0),
		TIMER(1000, SYNC, 0),
		SYNC_START(1000),
		SYNC_FINISH(1010, WAIT, 0),
		/* the timer fired, so a new busy change arms again */
		CHANGE(2000, BUSY, ARM, 3000),
		TIMER(3000, SYNC, 0),
	} },
	{ "timer with nothing pending", 20, 1000, {
		TIMER(50, WAIT, 0),
		TIMER(51, WAIT, 0),
		CHANGE(60, IDLE, ARM, 80),
		TIMER(80, SYNC, 0),
		SYNC_START(80),
		SYNC_FINISH(90, WAIT, 0),
		TIMER(100, WAIT, 0),
	} },
	{ "deadline only moves earlier", 20, 1000, {
		CHANGE(0, BUSY, ARM, 1000),
		/* the writer released: the window opened at 0 ends at 20 */
		CHANGE(10, IDLE, ARM, 20),
		CHANGE(15, BUSY, WAIT, 0),
		CHANGE(20, IDLE, SYNC, 0),
		SYNC_START(20),
		SYNC_FINISH(30, WAIT, 0),
	} },
	{ "a stream is throttled after its grace, a quiet change is not",
	  0, 1000, {
		CHANGE(0, IDLE, SYNC, 0),
		SYNC_START(0),
		SYNC_FINISH(1, WAIT, 0),
		/* within the grace: change by change */
		CHANGE(40, IDLE, SYNC, 0),
		SYNC_START(40),
		SYNC_FINISH(41, WAIT, 0),
		/* past it: STREAM_INTERVAL after the last sync began */
		CHANGE(60, IDLE, ARM, 290),
		CHANGE(100, IDLE, WAIT, 0),
		TIMER(290, SYNC, 0),
		SYNC_START(290),
		SYNC_FINISH(291, WAIT, 0),
		CHANGE(300, IDLE, ARM, 540),
		TIMER(540, SYNC, 0),
		SYNC_START(540),
		SYNC_FINISH(541, WAIT, 0),
		/* more than STREAM_GAP of quiet: a new stream, pushed at once */
		CHANGE(3000, IDLE, SYNC, 0),
	} },
	{ "a burst of deliveries is synced once it is quiet for a tick",
	  0, 1000, {
		CHANGE(0, IDLE, SYNC, 0),
		SYNC_START(0),
		SYNC_FINISH_MAIL(1, WAIT, 0),
		/* long after the last sync: at once */
		CHANGE(300, IDLE, SYNC, 0),
		SYNC_START(300),
		CHANGE(302, BUSY, WAIT, 0),
		/* within BURST_WINDOW of the last start: wait for quiet */
		SYNC_FINISH_MAIL(303, ARM, 307),
		TIMER_CHANGING(307, ARM, 311),
		TIMER(311, SYNC, 0),
		SYNC_START(311),
		/* only flags, but mail came 9 ms ago: still deliveries, and
		   a busy writer is no reason to wait longer */
		SYNC_FINISH(312, WAIT, 0),
		CHANGE(313, BUSY, ARM, 317),
		TIMER(317, SYNC, 0),
		SYNC_START(317),
		SYNC_FINISH(318, WAIT, 0),
		/* past BURST_WINDOW: at once */
		CHANGE(340, BUSY, ARM, 1340),
		CHANGE(341, IDLE, SYNC, 0),
		SYNC_START(341),
		SYNC_FINISH(342, WAIT, 0),
		/* DELIVERY_MEMORY after the last mail: a flag stream past
		   its grace */
		CHANGE(460, IDLE, ARM, 591),
		TIMER(591, SYNC, 0),
	} },
	{ "a burst that never pauses syncs every BURST_MAX_WAIT", 0, 1000, {
		CHANGE(0, IDLE, SYNC, 0),
		SYNC_START(0),
		CHANGE(1, BUSY, WAIT, 0),
		SYNC_FINISH_MAIL(2, ARM, 6),
		TIMER_CHANGING(6, ARM, 10),
		TIMER_CHANGING(10, ARM, 14),
		TIMER_CHANGING(14, ARM, 18),
		TIMER_CHANGING(18, ARM, 22),
		TIMER_CHANGING(22, ARM, 26),
		TIMER_CHANGING(26, ARM, 30),
		TIMER_CHANGING(30, ARM, 34),
		TIMER_CHANGING(34, ARM, 38),
		TIMER_CHANGING(38, ARM, 42),
		/* owed since 1: 40 ms */
		TIMER_CHANGING(42, SYNC, 0),
		SYNC_START(42),
		SYNC_FINISH_MAIL(43, WAIT, 0),
	} },
	{ "a busy writer never ends the window early", 500, 100, {
		CHANGE(0, IDLE, ARM, 500),
		CHANGE(50, BUSY, WAIT, 0),
		CHANGE(60, BUSY, WAIT, 0),
		CHANGE(70, IDLE, WAIT, 0),
		TIMER(500, SYNC, 0),
	} },
	{ "the writer wait ends inside the window: sync at its end", 500, 100, {
		CHANGE(0, BUSY, ARM, 500),
		TIMER(500, SYNC, 0),
	} },
	{ "a timer that fires early re-arms the window's end", 500, 100, {
		CHANGE(0, IDLE, ARM, 500),
		TIMER(300, ARM, 500),
		TIMER(500, SYNC, 0),
	} },
	{ "sync finished with a change pending and a delay", 20, 1000, {
		CHANGE(0, IDLE, ARM, 20),
		TIMER(20, SYNC, 0),
		SYNC_START(20),
		CHANGE(25, IDLE, WAIT, 0),
		SYNC_FINISH_MAIL(40, ARM, 60),
		CHANGE(45, IDLE, WAIT, 0),
		TIMER(60, SYNC, 0),
		SYNC_START(60),
		SYNC_FINISH_MAIL(70, WAIT, 0),
	} },
	{ "busy change during a sync still queues a follow-up", 0, 1000, {
		CHANGE(0, IDLE, SYNC, 0),
		SYNC_START(0),
		CHANGE(2, BUSY, WAIT, 0),
		SYNC_FINISH(5, SYNC, 0),
		SYNC_START(5),
		SYNC_FINISH(6, WAIT, 0),
	} },
	{ "a sync start drops the armed timer", 20, 1000, {
		CHANGE(0, IDLE, ARM, 20),
		/* e.g. the DONE sync starts before the window closes */
		SYNC_START(5),
		SYNC_FINISH(8, WAIT, 0),
		/* no timer is armed any more, so a later deadline is armed */
		CHANGE(9, IDLE, ARM, 29),
		SYNC_START(10),
		/* a timer firing while a sync runs does nothing */
		TIMER(29, WAIT, 0),
		SYNC_FINISH(30, WAIT, 0),
	} },
	{ "stray timer during a sync, then the follow-up", 20, 1000, {
		CHANGE(0, IDLE, ARM, 20),
		TIMER(20, SYNC, 0),
		SYNC_START(20),
		CHANGE(21, IDLE, WAIT, 0),
		TIMER(22, WAIT, 0),
		SYNC_FINISH_MAIL(30, ARM, 50),
		TIMER(50, SYNC, 0),
	} },
};

static const char *event_name(enum step_event event)
{
	switch (event) {
	case EV_END:
		return "end";
	case EV_CHANGE:
		return "change";
	case EV_TIMER:
		return "timer";
	case EV_SYNC_START:
		return "sync_started";
	case EV_SYNC_FINISH:
		return "sync_finished";
	}
	return "?";
}

/* Plays one step and checks its answer; label names the scenario. */
static void play_step(const char *label, unsigned int idx,
		      struct idle_notify_policy *policy,
		      const struct policy_step *step)
{
	const uint64_t unset = 0xdeadbeefULL;
	enum idle_notify_action action = IDLE_NOTIFY_WAIT;
	uint64_t deadline = unset;

	switch (step->event) {
	case EV_END:
		return;
	case EV_CHANGE:
		action = idle_notify_policy_change(policy, step->now,
						   step->flag, &deadline);
		break;
	case EV_TIMER:
		action = idle_notify_policy_timer(policy, step->now,
						  step->flag, &deadline);
		break;
	case EV_SYNC_START:
		idle_notify_policy_sync_started(policy, step->now);
		break;
	case EV_SYNC_FINISH:
		action = idle_notify_policy_sync_finished(policy, step->now,
							  step->flag,
							  &deadline);
		break;
	}
	UNIT_CHECK(action == step->action,
		   "%s: step %u (%s%s at %" PRIu64 "): got %s, expected %s",
		   label, idx, event_name(step->event),
		   !step->flag ? "" : step->event == EV_CHANGE ?
		   ", writer busy" : step->event == EV_TIMER ?
		   ", still changing" : ", had mail", step->now,
		   idle_notify_action_name(action),
		   idle_notify_action_name(step->action));
	if (action == IDLE_NOTIFY_ARM_TIMER &&
	    step->action == IDLE_NOTIFY_ARM_TIMER) {
		UNIT_CHECK(deadline == step->deadline,
			   "%s: step %u (%s at %" PRIu64 "): deadline %"
			   PRIu64 ", expected %" PRIu64, label, idx,
			   event_name(step->event), step->now, deadline,
			   step->deadline);
	}
}

static void test_notify_policy_scenarios(void)
{
	const struct policy_scenario *sc;
	struct idle_notify_policy policy;
	char label[160];
	unsigned int row, i;

	for (row = 0; row < N_ELEMENTS(scenarios); row++) {
		sc = &scenarios[row];
		snprintf(label, sizeof(label),
			 "scenario %u \"%s\" (delay %u, writer wait %u)",
			 row, sc->name, sc->delay_msecs,
			 sc->writer_wait_msecs);
		idle_notify_policy_init(&policy, sc->delay_msecs,
					sc->writer_wait_msecs);
		for (i = 0; i < N_ELEMENTS(sc->steps) &&
			    sc->steps[i].event != EV_END; i++)
			play_step(label, i, &policy, &sc->steps[i]);
	}
}

/* A burst of deliveries of any length during a sync costs exactly one
   follow-up. */
static void check_burst(unsigned int delay, bool busy)
{
	struct idle_notify_policy policy;
	enum idle_notify_action action;
	uint64_t now = 1000, deadline = 0;
	unsigned int i, syncs = 0;

	idle_notify_policy_init(&policy, delay, 1000);
	idle_notify_policy_sync_started(&policy, now);
	for (i = 0; i < 100; i++) {
		action = idle_notify_policy_change(&policy, ++now, busy,
						   &deadline);
		UNIT_CHECK(action == IDLE_NOTIFY_WAIT,
			   "delay %u busy %d: change %u during the sync: %s",
			   delay, busy, i, idle_notify_action_name(action));
	}
	action = idle_notify_policy_sync_finished(&policy, ++now, true,
						  &deadline);
	if (delay == 0) {
		UNIT_CHECK(action == IDLE_NOTIFY_SYNC_NOW,
			   "delay 0 busy %d: sync_finished: %s", busy,
			   idle_notify_action_name(action));
	} else {
		UNIT_CHECK(action == IDLE_NOTIFY_ARM_TIMER &&
			   deadline == now + delay,
			   "delay %u busy %d: sync_finished: %s at %" PRIu64,
			   delay, busy, idle_notify_action_name(action),
			   deadline);
		now += delay;
		action = idle_notify_policy_timer(&policy, now, false,
						  &deadline);
		UNIT_CHECK(action == IDLE_NOTIFY_SYNC_NOW,
			   "delay %u busy %d: timer: %s", delay, busy,
			   idle_notify_action_name(action));
	}
	if (action == IDLE_NOTIFY_SYNC_NOW) {
		syncs++;
		idle_notify_policy_sync_started(&policy, now);
	}
	/* the follow-up sync saw everything: nothing more is owed */
	action = idle_notify_policy_sync_finished(&policy, ++now, true,
						  &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_WAIT,
		   "delay %u busy %d: second sync_finished: %s", delay, busy,
		   idle_notify_action_name(action));
	action = idle_notify_policy_timer(&policy, now + 5000, false,
					  &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_WAIT,
		   "delay %u busy %d: timer afterwards: %s", delay, busy,
		   idle_notify_action_name(action));
	UNIT_CHECK(syncs == 1, "delay %u busy %d: %u follow-up syncs",
		   delay, busy, syncs);
}

static void test_notify_policy_burst(void)
{
	check_burst(0, false);
	check_burst(0, true);
	check_burst(20, false);
	check_burst(20, true);
}

/* A shell simulated over random changes, busy writers and sync lengths,
   obeying every action: syncs never overlap, a sync only starts when a
   change is owed, a timer is never armed in the past, and every change is
   covered by a sync that starts after it within the bound that the model
   promises (the longest sync plus the longest of the waits: the window,
   the writer wait and the stream interval). */
struct sim_shell {
	const char *label;
	struct idle_notify_policy policy;
	uint64_t now;
	bool syncing, timer_armed;
	uint64_t sync_end, timer_deadline;
	bool change_owed;
	uint64_t owed_since;
	unsigned int syncs;
	uint32_t rand_state;
};

#define SIM_MAX_SYNC_MSECS 30

static uint32_t sim_rand(struct sim_shell *sim)
{
	/* xorshift32: the same sequence on every run */
	sim->rand_state ^= sim->rand_state << 13;
	sim->rand_state ^= sim->rand_state >> 17;
	sim->rand_state ^= sim->rand_state << 5;
	return sim->rand_state;
}

static void sim_obey(struct sim_shell *sim, enum idle_notify_action action,
		     uint64_t deadline, const char *event)
{
	switch (action) {
	case IDLE_NOTIFY_WAIT:
		break;
	case IDLE_NOTIFY_SYNC_NOW:
		UNIT_CHECK(!sim->syncing, "%s: %s at %" PRIu64 ": sync-now "
			   "while a sync runs", sim->label, event, sim->now);
		UNIT_CHECK(sim->change_owed, "%s: %s at %" PRIu64 ": sync-now "
			   "with no change owed", sim->label, event,
			   sim->now);
		sim->timer_armed = false;
		idle_notify_policy_sync_started(&sim->policy, sim->now);
		sim->syncing = true;
		sim->sync_end = sim->now +
			sim_rand(sim) % (SIM_MAX_SYNC_MSECS + 1);
		sim->change_owed = false;
		sim->syncs++;
		break;
	case IDLE_NOTIFY_ARM_TIMER:
		UNIT_CHECK(deadline > sim->now, "%s: %s at %" PRIu64 ": timer "
			   "armed at %" PRIu64, sim->label, event, sim->now,
			   deadline);
		sim->timer_armed = true;
		sim->timer_deadline = deadline;
		break;
	}
}

static void sim_run(const char *label, unsigned int delay,
		    unsigned int writer_wait, unsigned int change_permille,
		    uint32_t seed)
{
	uint64_t wait = delay > writer_wait ? delay : writer_wait;
	const uint64_t bound = SIM_MAX_SYNC_MSECS +
		(wait > IDLE_NOTIFY_STREAM_INTERVAL_MSECS ? wait :
		 IDLE_NOTIFY_STREAM_INTERVAL_MSECS);
	struct sim_shell sim;
	enum idle_notify_action action;
	uint64_t deadline, end = 200000;
	bool busy;

	memset(&sim, 0, sizeof(sim));
	sim.label = label;
	sim.rand_state = seed;
	idle_notify_policy_init(&sim.policy, delay, writer_wait);
	for (sim.now = 0; sim.now < end + 10 * bound; sim.now++) {
		if (sim.syncing && sim.now >= sim.sync_end) {
			sim.syncing = false;
			deadline = 0;
			action = idle_notify_policy_sync_finished(
				&sim.policy, sim.now, sim_rand(&sim) % 2 == 0,
				&deadline);
			sim_obey(&sim, action, deadline, "sync_finished");
		}
		if (sim.timer_armed && sim.now >= sim.timer_deadline) {
			sim.timer_armed = false;
			deadline = 0;
			action = idle_notify_policy_timer(&sim.policy, sim.now,
				sim_rand(&sim) % 2 == 0,
							  &deadline);
			sim_obey(&sim, action, deadline, "timer");
		}
		if (sim.now < end && sim_rand(&sim) % 1000 < change_permille) {
			busy = sim_rand(&sim) % 4 == 0;
			if (!sim.change_owed) {
				sim.change_owed = true;
				sim.owed_since = sim.now;
			}
			deadline = 0;
			action = idle_notify_policy_change(&sim.policy,
							   sim.now, busy,
							   &deadline);
			sim_obey(&sim, action, deadline, "change");
		}
		if (sim.change_owed && sim.now - sim.owed_since > bound) {
			UNIT_CHECK(false, "%s: the change at %" PRIu64 " has "
				   "no sync after %" PRIu64 " ms", label,
				   sim.owed_since, sim.now - sim.owed_since);
			return;
		}
	}
	UNIT_CHECK(!sim.change_owed && !sim.syncing,
		   "%s: a change is still owed at the end", label);
	UNIT_CHECK(sim.syncs > 0, "%s: no syncs at all", label);
}

static void test_notify_policy_simulated_shell(void)
{
	static const struct {
		unsigned int delay, writer_wait, change_permille;
	} runs[] = {
		{ 0, 1000, 5 }, { 0, 1000, 100 }, { 0, 1, 300 },
		{ 20, 1000, 5 }, { 20, 1000, 100 }, { 20, 1000, 900 },
		{ 500, 100, 50 }, { 500, 100, 900 }, { 1, 1, 500 },
		{ 10000, 10000, 1 },
	};
	char label[96];
	unsigned int row, seed;

	for (row = 0; row < N_ELEMENTS(runs); row++) {
		for (seed = 1; seed <= 3; seed++) {
			snprintf(label, sizeof(label),
				 "run %u seed %u (delay %u, writer wait %u)",
				 row, seed, runs[row].delay,
				 runs[row].writer_wait);
			sim_run(label, runs[row].delay, runs[row].writer_wait,
				runs[row].change_permille, seed * 2654435761U);
		}
	}
}

/* Changes are no news while a sync is owed at an armed deadline anyway,
   and news while waiting for a writer's release or with nothing armed. */
static void test_notify_policy_listening(void)
{
	struct idle_notify_policy policy;
	enum idle_notify_action action;
	uint64_t deadline = 0;

	idle_notify_policy_init(&policy, 0, 1000);
	UNIT_CHECK(idle_notify_policy_listening(&policy), "at start");
	action = idle_notify_policy_change(&policy, 0, false, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_SYNC_NOW, "first change: %s",
		   idle_notify_action_name(action));
	idle_notify_policy_sync_started(&policy, 0);
	UNIT_CHECK(idle_notify_policy_listening(&policy), "during a sync");
	action = idle_notify_policy_sync_finished(&policy, 1, true, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_WAIT &&
		   idle_notify_policy_listening(&policy), "after the sync");
	action = idle_notify_policy_change(&policy, 3, true, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_ARM_TIMER && deadline == 7 &&
		   !idle_notify_policy_listening(&policy),
		   "burst: %s at %" PRIu64,
		   idle_notify_action_name(action), deadline);
	action = idle_notify_policy_timer(&policy, 7, true, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_ARM_TIMER &&
		   !idle_notify_policy_listening(&policy),
		   "burst goes on: %s", idle_notify_action_name(action));
	action = idle_notify_policy_timer(&policy, 11, false, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_SYNC_NOW &&
		   idle_notify_policy_listening(&policy),
		   "burst over: %s", idle_notify_action_name(action));

	idle_notify_policy_init(&policy, 0, 1000);
	action = idle_notify_policy_change(&policy, 0, true, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_ARM_TIMER && deadline == 1000 &&
		   idle_notify_policy_listening(&policy),
		   "writer wait: %s", idle_notify_action_name(action));
	action = idle_notify_policy_change(&policy, 5, false, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_SYNC_NOW,
		   "writer released: %s", idle_notify_action_name(action));

	idle_notify_policy_init(&policy, 20, 1000);
	action = idle_notify_policy_change(&policy, 0, false, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_ARM_TIMER && deadline == 20 &&
		   !idle_notify_policy_listening(&policy),
		   "delay window: %s", idle_notify_action_name(action));
	/* a busy writer seen another way doesn't turn it into a wait */
	action = idle_notify_policy_change(&policy, 5, true, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_WAIT &&
		   !idle_notify_policy_listening(&policy),
		   "busy in the window: %s", idle_notify_action_name(action));
}

/* The clock may be any monotonic clock, including a large one. */
static void test_notify_policy_large_clock(void)
{
	const uint64_t now = (uint64_t)1 << 50;
	struct idle_notify_policy policy;
	enum idle_notify_action action;
	uint64_t deadline = 0;

	idle_notify_policy_init(&policy, 20, 1000);
	action = idle_notify_policy_change(&policy, now, false, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_ARM_TIMER && deadline == now + 20,
		   "change: %s at %" PRIu64, idle_notify_action_name(action),
		   deadline);
	action = idle_notify_policy_change(&policy, now + 1, true, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_WAIT, "busy change: %s",
		   idle_notify_action_name(action));
	action = idle_notify_policy_timer(&policy, now + 20, false, &deadline);
	UNIT_CHECK(action == IDLE_NOTIFY_SYNC_NOW, "timer: %s",
		   idle_notify_action_name(action));
}

static void test_notify_policy_action_names(void)
{
	static const struct {
		enum idle_notify_action action;
		const char *name;
	} names[] = {
		{ IDLE_NOTIFY_WAIT, "wait" },
		{ IDLE_NOTIFY_SYNC_NOW, "sync-now" },
		{ IDLE_NOTIFY_ARM_TIMER, "arm-timer" },
		{ (enum idle_notify_action)99, "unknown" },
	};
	const char *name;
	unsigned int row;

	for (row = 0; row < N_ELEMENTS(names); row++) {
		name = idle_notify_action_name(names[row].action);
		UNIT_CHECK(name != NULL && strcmp(name, names[row].name) == 0,
			   "row %u: name of %d is \"%s\", expected \"%s\"",
			   row, (int)names[row].action,
			   name == NULL ? "(null)" : name, names[row].name);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_notify_policy_scenarios),
		UNIT_TEST(test_notify_policy_burst),
		UNIT_TEST(test_notify_policy_simulated_shell),
		UNIT_TEST(test_notify_policy_listening),
		UNIT_TEST(test_notify_policy_large_clock),
		UNIT_TEST(test_notify_policy_action_names),
		UNIT_TEST_END
	};

	return unit_main("notify-policy", tests);
}

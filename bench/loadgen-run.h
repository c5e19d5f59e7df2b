/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_RUN_H
#define LOADGEN_RUN_H

/* One loadgen run: the options, the clients, and the state of the phases
   that loadgen.c drives.  loadgen-report.c reads it at the end. */

#include "loadgen-diag.h"
#include "loadgen-imap.h"
#include "loadgen-lmtp.h"
#include "loadgen-net.h"
#include "loadgen-options.h"
#include "loadgen-ramp.h"
#include "loadgen-tally.h"

#define MAX_STAGES 16

enum phase_id {
	PHASE_LMTP, PHASE_SETUP, PHASE_DELIVER, PHASE_BURST, PHASE_STORM,
	PHASE_HOLD, PHASE_TEARDOWN, N_PHASES
};

enum storm_step {
	STORM_SEED, STORM_SEED_SETTLE, STORM_LOGIN, STORM_RUN, STORM_DRAIN,
	STORM_FETCH, STORM_CONVERGE
};

struct run {
	struct options opt;
	struct net net;
	struct diag diag;
	struct tally tally;
	struct imap_client imap;
	struct lmtp_client lmtp;
	struct imap_conn *conns, storm;
	struct endpoint timer;

	int64_t t_start, deadline, tick_expected, next_progress;
	time_t t_start_real;
	unsigned long ticks;

	enum phase_id phase;
	bool phase_started, paused, timed_out;
	int64_t pause_deadline, pause_started, phase_deadline;
	const char *stage_names[MAX_STAGES];
	int64_t stage_times[MAX_STAGES];
	int n_stages;

	int next_to_connect, setup_in_flight;
	bool setup_filling;	/* a failed connect calls back in there */
	int64_t t_setup_first;

	/* mailboxes with idlers, the hot ones (--hot-users) apart */
	int *eligible, n_eligible, *hot, n_hot;
	int rr_next, rr_hot, hot_started, rate_started;
	double effective_rate;
	int64_t next_send, t_first_send, t_last_send;

	struct ramp_rules ramp_rules;
	struct ramp_step ramp[MAX_RAMP_STEPS];
	int n_ramp;
	bool ramp_draining, ramp_finished;

	int burst_started;
	uint32_t burst_final_count;	/* once the burst's 250s are in */
	int64_t t_burst_start, t_burst_last_250;

	enum storm_step storm_step;
	bool storm_store_set, storm_converged;
	int storm_stores, storm_skipped;
	int64_t storm_end, storm_next_store, t_converged;

	time_t t_window_start, t_window_end;
	struct samples lag_setup, lag_run;
};

/* Writes the JSON result; returns the exit status (0 or
   EXIT_CHECKS_FAILED). */
int report(FILE *f, struct run *r);

#endif

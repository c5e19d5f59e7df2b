/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* loadgen: benchmark client for IMAP IDLE notification latency.

   One process, one epoll loop.  N IMAP connections log in (connection i
   as user (i mod U)+1), SELECT INBOX and IDLE; deliveries go through LMTP
   connections that loadgen speaks itself.  Everything runs as a fixed
   sequence of phases; when a phase completes, its stage name is printed
   ("STAGE <name>") so a controller can sample the server in between.
   The measurement model is in loadgen-tally.h.

   This file holds the phases and the event loop; it owns the run and
   hands each module the part it needs.  Modules, each using only those
   below it: options, report -> imap, lmtp -> tally, net, diag -> util;
   ramp -> util. */

#include "loadgen-run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define TICK_NSECS (10 * NSEC_PER_MSEC)
#define DEADLINE_SCAN_TICKS 10
#define MAX_EVENTS 512
#define TIMEOUT_GRACE_NSECS (15 * NSEC_PER_SEC)
#define CATCH_UP_NSECS (2 * TICK_NSECS)

static const char *const phase_names[N_PHASES] = {
	"lmtp", "setup", "deliver", "burst", "flag-storm", "hold", "teardown"
};

static const char *phase_name(const struct run *r)
{
	return r->phase < N_PHASES ? phase_names[r->phase] : "finished";
}

static int64_t settle_ns(const struct run *r)
{
	return r->opt.settle_secs * NSEC_PER_SEC;
}

static bool settled(const struct run *r, int64_t now)
{
	return tally_settled(&r->tally, now, settle_ns(r));
}

static bool anything_delivered(const struct options *o)
{
	return o->messages > 0 || o->burst > 0 || options_storm(o) ||
		options_ramp(o);
}

static void lmtp_phase_start(struct run *r, int64_t now)
{
	(void)now;
	if (anything_delivered(&r->opt))
		lmtp_start(&r->lmtp, r->opt.lmtp_connections);
}

static bool lmtp_phase_poll(struct run *r, int64_t now)
{
	(void)now;
	return lmtp_all_ready(&r->lmtp);
}

/* Opens connections up to --setup-concurrency while in the setup
   phase. */
static void setup_fill(struct run *r)
{
	if (r->setup_filling || r->phase != PHASE_SETUP || !r->phase_started)
		return;
	r->setup_filling = true;
	while (r->setup_in_flight < r->opt.setup_concurrency &&
	       r->next_to_connect < r->opt.connections) {
		r->setup_in_flight++;
		imap_connect(&r->conns[r->next_to_connect++]);
	}
	r->setup_filling = false;
}

/* imap_client's setup_ended */
static void setup_ended(void *context, bool ok)
{
	struct run *r = context;

	(void)ok;
	r->setup_in_flight--;
	setup_fill(r);
}

static void setup_start(struct run *r, int64_t now)
{
	r->t_setup_first = now;
	setup_fill(r);
}

/* The mailboxes with a live idler: the hot ones and the others. */
static bool setup_poll(struct run *r, int64_t now)
{
	int i, j, live;

	(void)now;
	if (r->next_to_connect < r->opt.connections || r->setup_in_flight > 0)
		return false;
	for (i = 0; i < r->opt.users; i++) {
		const struct mailbox *mb = &r->tally.mailboxes[i];

		for (j = 0, live = 0; j < mb->n_idlers; j++)
			live += mb->idlers[j]->started;
		if (live == 0)
			continue;
		if (i < r->opt.hot_users)
			r->hot[r->n_hot++] = i;
		else
			r->eligible[r->n_eligible++] = i;
	}
	if (r->n_eligible == 0 || r->opt.hot_users == 0) {
		/* no quiet mailbox: the hot ones are all there is */
		memcpy(r->eligible + r->n_eligible, r->hot,
		       r->n_hot * sizeof(int));
		r->n_eligible += r->n_hot;
		r->n_hot = 0;
	}
	return true;
}

/* Spacing wins: U' mailboxes take at most U'/spacing per second. */
static double spacing_limited_rate(struct run *r, double rate)
{
	int n = r->n_eligible + r->n_hot;
	double limit = n * 1000.0 / r->opt.min_spacing_ms;

	if (r->opt.min_spacing_ms > 0 && limit < rate) {
		diag_warn(&r->diag, "%s %g would deliver to each of %d "
			  "mailboxes more often than --min-spacing-ms %d "
			  "allows: lowered to %.3f/s", options_ramp(&r->opt) ?
			  "--ramp-max-rate" : "--rate", rate, n,
			  r->opt.min_spacing_ms, limit);
		return limit;
	}
	return rate;
}

static int messages_cap(const struct run *r)
{
	return options_ramp(&r->opt) && r->opt.messages == 0 ? INT_MAX :
		r->opt.messages;
}

/* Delivery k goes to a hot mailbox when the running share says so
   (spreading them evenly); strict round robin within each group. */
static bool next_is_hot(const struct run *r)
{
	double share = r->opt.hot_share;
	long k = r->rate_started;

	if (r->n_hot == 0)
		return false;
	return (long)((k + 1) * share) > (long)(k * share);
}

static void rate_kick(struct run *r, int64_t now)
{
	int64_t interval = NSEC_PER_SEC / r->effective_rate;
	bool hot;
	int mbox;

	if (r->n_eligible == 0)
		return;
	while (r->rate_started < messages_cap(r) && now >= r->next_send) {
		hot = next_is_hot(r);
		mbox = hot ? r->hot[r->rr_hot % r->n_hot] :
			r->eligible[r->rr_next % r->n_eligible];
		/* strict round robin: wait for this mailbox's spacing */
		if (!tally_may_receive(&r->tally, mbox, now) ||
		    !lmtp_deliver(&r->lmtp, mbox, PURPOSE_RATE))
			break;
		if (r->rate_started++ == 0)
			r->t_first_send = now;
		r->t_last_send = now;
		if (hot) {
			r->rr_hot++;
			r->hot_started++;
		} else {
			r->rr_next++;
		}
		/* Behind by less than CATCH_UP_NSECS (the 10 ms tick at rates
		   above 100/s): catch up.  Further behind (LMTP busy, loadgen
		   stalled): go on from now rather than send a burst. */
		r->next_send += interval;
		if (r->next_send < now - CATCH_UP_NSECS)
			r->next_send = now;
	}
}

/* As many deliveries as the current phase may start now; also lmtp's
   ready callback. */
static void deliver_kick(void *context)
{
	struct run *r = context;

	if (!r->phase_started || r->paused)
		return;
	if (r->phase == PHASE_DELIVER && !r->ramp_draining)
		rate_kick(r, now_ns());
	while (r->phase == PHASE_BURST && r->t_burst_start != 0 &&
	       r->burst_started < r->opt.burst &&
	       lmtp_deliver(&r->lmtp, r->opt.burst_user - 1, PURPOSE_BURST))
		r->burst_started++;
}

static void ramp_step_begin(struct run *r, int64_t now)
{
	struct ramp_step *step = &r->ramp[r->n_ramp];

	memset(step, 0, sizeof(*step));
	step->rate = ramp_rate(&r->ramp_rules, r->opt.rate, r->n_ramp);
	step->t_start = now;
	step->started = -r->rate_started;
	step->delivered = -(int)r->tally.delivered_ok;
	step->failed = -(int)r->tally.deliveries_failed;
	r->effective_rate = step->rate;
	r->next_send = now;
	r->ramp_draining = false;
	tally_window_reset(&r->tally);
	r->n_ramp++;
}

/* The step's time is up and its transactions are done: measure it. */
static enum ramp_stop ramp_step_end(struct run *r, int64_t now)
{
	struct ramp_step *step = &r->ramp[r->n_ramp - 1];
	struct samples *w = &r->tally.window_dot;
	int cap = messages_cap(r);

	step->t_end = now;
	step->started += r->rate_started;
	step->delivered += r->tally.delivered_ok;
	step->failed += r->tally.deliveries_failed;
	step->p50_ns = step->p99_ns = -1;
	if (w->n > 0) {
		samples_sort(w);
		step->p50_ns = samples_percentile(w, 50);
		step->p99_ns = samples_percentile(w, 99);
	}
	step->verdict = ramp_verdict(&r->ramp_rules, &r->ramp[0], step,
				     r->n_ramp - 1, cap == INT_MAX ? -1 :
				     (long)cap - r->rate_started);
	return step->verdict;
}

static void deliver_start(struct run *r, int64_t now)
{
	r->next_send = now;
	r->effective_rate = r->opt.rate;
	if (r->opt.messages == 0 && !options_ramp(&r->opt))
		return;
	if (r->n_eligible == 0) {
		diag_warn(&r->diag, "no mailbox has an idler: nothing "
			  "delivered");
		return;
	}
	if (options_ramp(&r->opt)) {
		/* a step the spacing cannot give would count as behind */
		r->ramp_rules.max_rate = spacing_limited_rate(
			r, r->ramp_rules.max_rate);
		ramp_step_begin(r, now);
		return;
	}
	r->effective_rate = spacing_limited_rate(r, r->opt.rate);
}

/* One step after the other until a verdict stops the ramp. */
static bool ramp_poll(struct run *r, int64_t now)
{
	const struct ramp_step *step = &r->ramp[r->n_ramp - 1];

	if (!r->ramp_draining) {
		if (now < step->t_start +
		    r->ramp_rules.step_secs * NSEC_PER_SEC &&
		    r->rate_started < messages_cap(r)) {
			deliver_kick(r);
			return false;
		}
		r->ramp_draining = true;
	}
	if (lmtp_busy(&r->lmtp))
		return false;
	if (!r->ramp_finished) {
		if (ramp_step_end(r, now) == RAMP_GO_ON &&
		    lmtp_usable(&r->lmtp)) {
			ramp_step_begin(r, now);
			return false;
		}
		r->ramp_finished = true;
	}
	return settled(r, now);
}

static bool deliver_poll(struct run *r, int64_t now)
{
	if (options_ramp(&r->opt) && r->n_ramp > 0)
		return ramp_poll(r, now);
	if (r->n_eligible > 0 && r->rate_started < r->opt.messages &&
	    lmtp_usable(&r->lmtp)) {
		deliver_kick(r);
		return false;
	}
	if (lmtp_busy(&r->lmtp))
		return false;
	return settled(r, now);
}

static void burst_start(struct run *r, int64_t now)
{
	(void)now;
	if (r->opt.burst > 0 &&
	    r->tally.mailboxes[r->opt.burst_user - 1].n_idlers == 0)
		diag_warn(&r->diag, "--burst-user %d has no idlers",
			  r->opt.burst_user);
}

static bool burst_poll(struct run *r, int64_t now)
{
	if (r->opt.burst == 0)
		return true;
	if (r->t_burst_start == 0) {
		if (!tally_may_receive(&r->tally, r->opt.burst_user - 1, now))
			return false;
		r->t_burst_start = now;
	}
	if (r->burst_started < r->opt.burst && lmtp_usable(&r->lmtp)) {
		deliver_kick(r);
		return false;
	}
	if (lmtp_busy(&r->lmtp))
		return false;
	if (r->burst_final_count == 0) {
		const struct mailbox *mb =
			&r->tally.mailboxes[r->opt.burst_user - 1];

		r->burst_final_count = mb->base + mb->confirmed;
		if (r->tally.last_250 >= r->t_burst_start)
			r->t_burst_last_250 = r->tally.last_250;
	}
	return settled(r, now);
}

static void storm_start(struct run *r, int64_t now)
{
	(void)now;
	r->storm_step = STORM_SEED;
}

static bool storm_converged(const struct run *r)
{
	int i;

	for (i = 0; i < r->opt.connections; i++) {
		const struct imap_conn *c = &r->conns[i];

		if (c->view.mbox == r->opt.storm_user - 1 &&
		    idler_counts(&c->view) && imap_flags_differ(c, &r->storm))
			return false;
	}
	return true;
}

/* Seed one message, log in, storm, read the final flags, wait until
   every idler's view converged. */
static bool storm_poll(struct run *r, int64_t now)
{
	struct imap_conn *s = &r->storm;
	int mbox = r->opt.storm_user - 1;

	if (!options_storm(&r->opt))
		return true;
	if (s->view.failed)
		return true;
	if (r->storm_step < STORM_LOGIN && !lmtp_usable(&r->lmtp)) {
		diag_error(&r->diag, "flag storm: no LMTP connection for the "
			   "seed");
		return true;
	}
	switch (r->storm_step) {
	case STORM_SEED:
		if (tally_may_receive(&r->tally, mbox, now) &&
		    lmtp_deliver(&r->lmtp, mbox, PURPOSE_SEED))
			r->storm_step = STORM_SEED_SETTLE;
		return false;
	case STORM_SEED_SETTLE:
		if (lmtp_busy(&r->lmtp) || !settled(r, now))
			return false;
		r->storm_step = STORM_LOGIN;
		imap_connect(s);
		return false;
	case STORM_LOGIN:
		if (s->step != STEP_READY)
			return false;
		r->storm_end = now + r->opt.storm_secs * NSEC_PER_SEC;
		r->storm_next_store = now;
		r->storm_step = STORM_RUN;
		/* fall through */
	case STORM_RUN:
		if (now >= r->storm_end) {
			r->storm_step = STORM_DRAIN;
			return false;
		}
		if (now < r->storm_next_store)
			return false;
		r->storm_next_store += NSEC_PER_SEC / r->opt.storm_rate;
		if (s->step != STEP_READY) {
			r->storm_skipped++;
			return false;
		}
		r->storm_store_set = !r->storm_store_set;
		r->storm_stores++;
		imap_command(s, STEP_STORE, "STORE 1:* %cFLAGS (\\Flagged)",
			     r->storm_store_set ? '+' : '-');
		return false;
	case STORM_DRAIN:
		if (s->step != STEP_READY)
			return false;
		imap_command(s, STEP_FETCH, "FETCH 1:* (FLAGS)");
		r->storm_step = STORM_FETCH;
		return false;
	case STORM_FETCH:
		if (s->step != STEP_READY)
			return false;
		r->imap.flag_reference = s;
		r->storm_step = STORM_CONVERGE;
		/* fall through */
	case STORM_CONVERGE:
		if (storm_converged(r)) {
			r->storm_converged = true;
			r->t_converged = now;
			return true;
		}
		return now >= r->imap.t_last_store_ok + settle_ns(r);
	}
	return true;
}

static void hold_start(struct run *r, int64_t now)
{
	r->phase_deadline = now + r->opt.hold_secs * NSEC_PER_SEC;
}

static bool hold_poll(struct run *r, int64_t now)
{
	return now >= r->phase_deadline;
}

static void teardown_start(struct run *r, int64_t now)
{
	struct imap_conn *c;
	int i;

	r->t_window_end = time(NULL);
	for (i = 0; i < r->opt.connections; i++) {
		c = &r->conns[i];
		if (c->step == STEP_IDLING)
			imap_send_done(c, now);
		else if (imap_conn_open(c))
			imap_fail(c, "aborted");
	}
	if (r->storm.step == STEP_READY)
		imap_command(&r->storm, STEP_LOGOUT, "LOGOUT");
	else if (imap_conn_open(&r->storm))
		imap_fail(&r->storm, "aborted");
	lmtp_quit_all(&r->lmtp);
}

static bool teardown_poll(struct run *r, int64_t now)
{
	int i;

	(void)now;
	for (i = 0; i < r->opt.connections; i++) {
		if (imap_conn_open(&r->conns[i]))
			return false;
	}
	return lmtp_all_closed(&r->lmtp) && !imap_conn_open(&r->storm);
}

static const struct phase {
	const char *stage;	/* printed when the phase completes */
	void (*start)(struct run *r, int64_t now);
	bool (*poll)(struct run *r, int64_t now);	/* true: complete */
} phases[N_PHASES] = {
	{ "ready", lmtp_phase_start, lmtp_phase_poll },
	{ "setup_done", setup_start, setup_poll },
	{ "deliveries_done", deliver_start, deliver_poll },
	{ "burst_done", burst_start, burst_poll },
	{ "flag_storm_done", storm_start, storm_poll },
	{ "quiet_done", hold_start, hold_poll },
	{ "teardown_done", teardown_start, teardown_poll },
};

/* Print the stage; with --pause-file, create the file first so it exists
   whenever the controller reads the line, and pause until it is gone. */
static void stage_reached(struct run *r, const char *name, int64_t now)
{
	FILE *f;

	if (r->n_stages < MAX_STAGES) {
		r->stage_names[r->n_stages] = name;
		r->stage_times[r->n_stages++] = now;
	}
	if (r->opt.pause_file != NULL && !r->timed_out) {
		if ((f = fopen(r->opt.pause_file, "w")) == NULL) {
			diag_warn(&r->diag, "cannot create %s: %s",
				  r->opt.pause_file, strerror(errno));
		} else {
			fprintf(f, "%s\n", name);
			fclose(f);
			r->paused = true;
			r->pause_started = now;
			r->pause_deadline = now +
				r->opt.pause_timeout_secs * NSEC_PER_SEC;
		}
	}
	printf("STAGE %s\n", name);
	fflush(stdout);
}

static void pause_check(struct run *r, int64_t now)
{
	if (access(r->opt.pause_file, F_OK) == 0 && now < r->pause_deadline)
		return;
	if (now >= r->pause_deadline) {
		diag_warn(&r->diag, "%s still there after %d s: resuming",
			  r->opt.pause_file, r->opt.pause_timeout_secs);
		unlink(r->opt.pause_file);
	}
	r->paused = false;
	r->deadline += now - r->pause_started;	/* pauses do not count */
}

static void phase_step(struct run *r, int64_t now)
{
	while (!r->paused && r->phase < N_PHASES) {
		if (!r->phase_started) {
			r->phase_started = true;
			phases[r->phase].start(r, now);
		}
		if (!phases[r->phase].poll(r, now))
			break;
		if (r->phase == PHASE_SETUP)
			r->t_window_start = time(NULL);
		stage_reached(r, phases[r->phase].stage, now);
		r->phase++;
		r->phase_started = false;
	}
}

/* Past the deadline: jump to teardown, and if even that hangs for the
   grace period, close everything. */
static void check_global_deadline(struct run *r, int64_t now)
{
	int i;

	if (now < r->deadline || r->paused)
		return;
	if (!r->timed_out) {
		r->timed_out = true;
		diag_error(&r->diag, "global timeout in phase %s",
			   phase_name(r));
		r->paused = false;
		if (r->phase < PHASE_TEARDOWN) {
			r->phase = PHASE_TEARDOWN;
			r->phase_started = false;
		}
		r->deadline = now + TIMEOUT_GRACE_NSECS;
		return;
	}
	for (i = 0; i < r->opt.connections; i++) {
		if (r->conns[i].ep.fd >= 0)
			imap_fail(&r->conns[i], "teardown timed out");
	}
	if (r->storm.ep.fd >= 0)
		imap_fail(&r->storm, "teardown timed out");
	lmtp_fail_open(&r->lmtp, "teardown timed out");
	r->phase = N_PHASES;
}

static void imap_check_deadline(struct imap_conn *c, int64_t now)
{
	if (c->ep.fd >= 0 && c->ep.deadline != 0 && now > c->ep.deadline)
		imap_fail(c, "timeout");
}

static void scan_deadlines(struct run *r, int64_t now)
{
	int i;

	for (i = 0; i < r->opt.connections; i++)
		imap_check_deadline(&r->conns[i], now);
	imap_check_deadline(&r->storm, now);
	lmtp_check_deadlines(&r->lmtp, now);
}

static void progress(struct run *r, int64_t now)
{
	if (r->opt.no_progress || now < r->next_progress)
		return;
	r->next_progress = now + (r->diag.tty ? 250 : 5000) * NSEC_PER_MSEC;
	fprintf(stderr, "%s%-10s idling %d/%d failed %d | delivered %u "
		"failed %u pending %lld | keepalives %u%s%s",
		r->diag.tty ? "\r" : "", phase_name(r), r->imap.n_idling,
		r->opt.connections, r->imap.n_conn_failed,
		r->tally.delivered_ok, r->tally.deliveries_failed,
		(long long)r->tally.pending_pairs, r->imap.ka_total,
		r->paused ? " | paused" : "", r->diag.tty ? "   " : "\n");
}

/* Loop lag: how late the 10 ms timer is handled. */
static void on_tick(struct run *r, int64_t now)
{
	uint64_t expirations = 1;
	int64_t left;

	if (read(r->timer.fd, &expirations, sizeof(expirations)) < 0 ||
	    expirations == 0)
		expirations = 1;
	r->tick_expected += (expirations - 1) * TICK_NSECS;
	samples_add(r->phase <= PHASE_SETUP ? &r->lag_setup : &r->lag_run,
		    now - r->tick_expected);
	r->tick_expected += TICK_NSECS;
	if (++r->ticks % DEADLINE_SCAN_TICKS == 0) {
		scan_deadlines(r, now);
		left = r->deadline - now;
		if (r->paused)
			left = r->pause_deadline - now + TIMEOUT_GRACE_NSECS;
		alarm(left > 0 ? left / NSEC_PER_SEC + 60 : 60);
	}
	if (r->paused)
		pause_check(r, now);
	check_global_deadline(r, now);
	if (r->phase < N_PHASES)
		phase_step(r, now);
	progress(r, now);
}

static void raise_nofile_limit(struct run *r)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)r->opt.connections +
	    r->opt.lmtp_connections + 16)
		diag_warn(&r->diag, "open-files limit %lu is below what %d "
			  "connections need", (unsigned long)rl.rlim_cur,
			  r->opt.connections);
}

static void on_alarm(int sig)
{
	static const char msg[] = "\nloadgen: hard deadline passed, exit\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(EXIT_INTERNAL);
	_exit(EXIT_INTERNAL);
}

/* The clients, the conns and the tally (connection i -> user i mod U). */
static void init_run(struct run *r)
{
	const struct options *o = &r->opt;
	int i;

	inet_pton(AF_INET, o->host, &r->net.host);
	tally_init(&r->tally, o->users, o->min_spacing_ms);
	r->imap = (struct imap_client){
		.cfg = { .port = o->imap_port, .user_prefix = o->user_prefix,
			 .password = o->password,
			 .setup_timeout_secs = o->setup_timeout_secs,
			 .command_timeout_secs = o->command_timeout_secs,
			 .initial_count = o->initial_count,
			 .flags_mbox = options_storm(o) ?
				 o->storm_user - 1 : -1 },
		.net = &r->net, .diag = &r->diag, .tally = &r->tally,
		.setup_ended = setup_ended, .context = r,
		.t_start_real = r->t_start_real,
	};
	r->lmtp = (struct lmtp_client){
		.port = o->lmtp_port,
		.command_timeout_secs = o->command_timeout_secs,
		.user_prefix = o->user_prefix,
		.t_start_real = r->t_start_real,
		.net = &r->net, .diag = &r->diag, .tally = &r->tally,
		.ready = deliver_kick, .context = r,
	};
	r->ramp_rules = (struct ramp_rules){
		.factor = o->ramp_factor, .max_rate = o->ramp_max_rate,
		.knee = o->ramp_knee, .step_secs = o->ramp_step_secs,
	};
	r->conns = xrealloc(NULL, o->connections * sizeof(*r->conns));
	for (i = 0; i < o->connections; i++)
		imap_conn_init(&r->imap, &r->conns[i], i % o->users, false);
	imap_conn_init(&r->imap, &r->storm, o->storm_user - 1, true);
	r->eligible = xrealloc(NULL, o->users * sizeof(int));
	r->hot = xrealloc(NULL, o->users * sizeof(int));
}

static void start_timer(struct run *r)
{
	struct itimerspec its = { .it_interval.tv_nsec = TICK_NSECS };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &r->timer };

	r->timer.kind = EP_TIMER;
	r->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
				     TFD_CLOEXEC);
	r->tick_expected = r->t_start + TICK_NSECS;
	its.it_value.tv_sec = r->tick_expected / NSEC_PER_SEC;
	its.it_value.tv_nsec = r->tick_expected % NSEC_PER_SEC;
	if (r->timer.fd < 0 ||
	    timerfd_settime(r->timer.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ||
	    epoll_ctl(r->net.epfd, EPOLL_CTL_ADD, r->timer.fd, &ev) < 0) {
		perror("loadgen: timer");
		exit(EXIT_INTERNAL);
	}
}

static void run_loop(struct run *r)
{
	struct epoll_event events[MAX_EVENTS];
	int i, n;

	while (r->phase < N_PHASES || r->paused) {
		n = epoll_wait(r->net.epfd, events, MAX_EVENTS, 1000);
		if (n < 0 && errno != EINTR) {
			perror("loadgen: epoll_wait");
			exit(EXIT_INTERNAL);
		}
		for (i = 0; i < n; i++) {
			struct endpoint *ep = events[i].data.ptr;

			if (ep->kind == EP_TIMER)
				on_tick(r, now_ns());
			else if (ep->fd < 0)
				continue;	/* closed earlier in batch */
			else if (ep->kind == EP_IMAP)
				imap_event((struct imap_conn *)ep,
					   events[i].events);
			else
				lmtp_event((struct lmtp_conn *)ep,
					   events[i].events);
		}
	}
}

int main(int argc, char **argv)
{
	static struct run run;
	struct run *r = &run;
	FILE *out = stdout;
	int status;

	options_defaults(&r->opt);
	if (!options_parse(&r->opt, argc, argv))
		return EXIT_USAGE;
	r->diag.tty = isatty(STDERR_FILENO);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	raise_nofile_limit(r);
	r->t_start = now_ns();
	r->t_start_real = r->t_window_start = time(NULL);
	init_run(r);
	r->deadline = r->t_start + r->opt.timeout_secs * NSEC_PER_SEC;
	alarm(r->opt.timeout_secs + 60);
	if ((r->net.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("loadgen: epoll_create1");
		return EXIT_INTERNAL;
	}
	start_timer(r);
	run_loop(r);
	alarm(0);
	if (!r->opt.no_progress && r->diag.tty)
		fputc('\n', stderr);
	if (r->opt.json_path != NULL &&
	    (out = fopen(r->opt.json_path, "w")) == NULL) {
		perror(r->opt.json_path);
		out = stdout;
	}
	status = report(out, r);
	if (out != stdout)
		fclose(out);
	return status;
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* loadgen: benchmark client for IMAP IDLE notification latency; the
   measurement model is described in loadgen.h. This file holds the
   options, the phases and the event loop. Phases run in a fixed order;
   each has a start and a poll function, polled from the 10 ms timer. */

#include "loadgen.h"

struct options opt = {
	.host = "127.0.0.1", .user_prefix = "user", .password = "pass",
	.connections = 1, .users = 1, .rate = 10, .min_spacing_ms = 2000,
	.burst_user = 1, .lmtp_connections = 1, .setup_concurrency = 64,
	.setup_timeout_secs = 60, .command_timeout_secs = 30,
	.settle_secs = 35, .initial_count = -1, .storm_secs = 10,
	.storm_user = 1, .pause_timeout_secs = 300, .timeout_secs = 600,
};

const struct option_def option_defs[] = {
	{ "host", ARG_STR, &opt.host, 0, 0,
	  "IPv4 address of Dovecot [127.0.0.1]" },
	{ "imap-port", ARG_INT, &opt.imap_port, 1, 65535,
	  "IMAP port (required)" },
	{ "lmtp-port", ARG_INT, &opt.lmtp_port, 1, 65535,
	  "LMTP port (required when anything is delivered)" },
	{ "user-prefix", ARG_STR, &opt.user_prefix, 0, 0,
	  "users are <prefix>1..<prefix>U [user]" },
	{ "password", ARG_STR, &opt.password, 0, 0,
	  "password of every user [pass]" },
	{ "connections", ARG_INT, &opt.connections, 1, 100000,
	  "idling connections N; connection i is user (i mod U)+1 [1]" },
	{ "users", ARG_INT, &opt.users, 1, 100000, "users U [1]" },
	{ "messages", ARG_INT, &opt.messages, 0, 10000000,
	  "deliveries M, round-robin over users with idlers [0]" },
	{ "rate", ARG_DOUBLE, &opt.rate, 0.001, 100000,
	  "deliveries per second over all mailboxes [10]" },
	{ "min-spacing-ms", ARG_INT, &opt.min_spacing_ms, 0, 3600000,
	  "min time from one mailbox's 250 to its next delivery;\n"
	  "wins over --rate [2000]" },
	{ "burst", ARG_INT, &opt.burst, 0, 1000000,
	  "after the deliveries: K messages back to back to one\n"
	  "mailbox, measured until every idler saw the final count [0]" },
	{ "burst-user", ARG_INT, &opt.burst_user, 1, 100000,
	  "user number receiving the burst [1]" },
	{ "lmtp-connections", ARG_INT, &opt.lmtp_connections, 1, 64,
	  "LMTP connections kept open and reused [1]" },
	{ "setup-concurrency", ARG_INT, &opt.setup_concurrency, 1, 100000,
	  "connections between connect and IDLE '+' at most [64]" },
	{ "setup-timeout-secs", ARG_INT, &opt.setup_timeout_secs, 1, 86400,
	  "per connection, from connect to IDLE '+' [60]" },
	{ "command-timeout-secs", ARG_INT, &opt.command_timeout_secs, 1,
	  86400, "for every other IMAP or LMTP reply [30]" },
	{ "settle-secs", ARG_INT, &opt.settle_secs, 0, 86400,
	  "after deliveries, wait at most this long for every EXISTS\n"
	  "(and for flags to converge); 0 = go on at once [35]" },
	{ "hold-secs", ARG_INT, &opt.hold_secs, 0, 86400,
	  "keep idling this long before DONE (keepalives) [0]" },
	{ "initial-count", ARG_INT, &opt.initial_count, 0, 10000000,
	  "expected EXISTS at SELECT; a difference is a warning, the\n"
	  "SELECT count is used either way [not checked]" },
	{ "flag-storm-rate", ARG_DOUBLE, &opt.storm_rate, 0, 10000,
	  "STOREs per second alternating +FLAGS/-FLAGS (\\Flagged)\n"
	  "on 1:* from an extra session; 0 = no storm [0]" },
	{ "flag-storm-secs", ARG_INT, &opt.storm_secs, 0, 86400,
	  "duration of the flag storm [10]" },
	{ "flag-storm-user", ARG_INT, &opt.storm_user, 1, 100000,
	  "user number whose INBOX the storm changes [1]" },
	{ "pause-file", ARG_STR, &opt.pause_file, 0, 0,
	  "after each stage create PATH, then wait until it is gone" },
	{ "pause-timeout-secs", ARG_INT, &opt.pause_timeout_secs, 1, 86400,
	  "resume anyway after waiting this long for PATH [300]" },
	{ "json", ARG_STR, &opt.json_path, 0, 0,
	  "write the JSON result to FILE instead of stdout" },
	{ "timeout-secs", ARG_INT, &opt.timeout_secs, 1, 604800,
	  "global deadline, pauses not counted [600]" },
	{ "no-progress", ARG_FLAG, &opt.no_progress, 0, 0,
	  "no progress line on stderr" },
};
const size_t n_option_defs =
	sizeof(option_defs) / sizeof(option_defs[0]);

struct loadgen lg;

static const char *const phase_names[N_PHASES] = {
	"lmtp", "setup", "deliver", "burst", "flag-storm", "hold", "teardown"
};

static const char *phase_name(void)
{
	return lg.phase < N_PHASES ? phase_names[lg.phase] : "finished";
}

bool storm_enabled(void)
{
	return opt.storm_rate > 0;
}

/* Every live idler has seen every confirmed count, or time is up. */
static bool settled(int64_t now)
{
	return lg.pending_pairs <= 0 ||
		now >= lg.last_250 + opt.settle_secs * NSEC_PER_SEC;
}

static void lmtp_phase_start(int64_t now)
{
	int i;

	(void)now;
	if (opt.messages == 0 && opt.burst == 0 && !storm_enabled())
		return;
	lg.n_lmtp = opt.lmtp_connections;
	lg.lmtp = xrealloc(NULL, lg.n_lmtp * sizeof(*lg.lmtp));
	memset(lg.lmtp, 0, lg.n_lmtp * sizeof(*lg.lmtp));
	for (i = 0; i < lg.n_lmtp; i++) {
		lg.lmtp[i].ep.kind = EP_LMTP;
		lmtp_connect(&lg.lmtp[i]);
	}
}

static bool lmtp_phase_poll(int64_t now)
{
	int i;

	(void)now;
	for (i = 0; i < lg.n_lmtp; i++) {
		if (lg.lmtp[i].step < LMTP_READY)
			return false;
	}
	return true;
}

void setup_fill(void)
{
	static bool filling;	/* a failed connect calls back in here */

	if (filling || lg.phase != PHASE_SETUP || !lg.phase_started)
		return;
	filling = true;
	while (lg.setup_in_flight < opt.setup_concurrency &&
	       lg.next_to_connect < opt.connections) {
		lg.setup_in_flight++;
		imap_connect(&lg.conns[lg.next_to_connect++]);
	}
	filling = false;
}

static void setup_start(int64_t now)
{
	lg.t_setup_first = now;
	setup_fill();
}

static bool setup_poll(int64_t now)
{
	int i;

	(void)now;
	if (lg.next_to_connect < opt.connections || lg.setup_in_flight > 0)
		return false;
	for (i = 0; i < opt.users; i++) {
		struct mailbox *mb = &lg.mailboxes[i];
		int j, live = 0;

		for (j = 0; j < mb->n_idlers; j++)
			live += lg.conns[mb->idlers[j]].idle_started;
		if (live > 0)
			lg.eligible[lg.n_eligible++] = i;
	}
	return true;
}

static void deliver_start(int64_t now)
{
	double spacing_limit;

	lg.next_send = now;
	lg.effective_rate = opt.rate;
	if (opt.messages == 0)
		return;
	if (lg.n_eligible == 0) {
		warn("no mailbox has an idler: nothing delivered");
		return;
	}
	/* spacing wins: U' mailboxes take at most U'/spacing per second */
	spacing_limit = lg.n_eligible * 1000.0 / opt.min_spacing_ms;
	if (opt.min_spacing_ms > 0 && spacing_limit < opt.rate) {
		lg.effective_rate = spacing_limit;
		warn("--rate %g would deliver to each of %d mailboxes more "
		     "often than --min-spacing-ms %d allows: rate lowered to "
		     "%.3f/s", opt.rate, lg.n_eligible, opt.min_spacing_ms,
		     spacing_limit);
	}
}

static void rate_kick(int64_t now)
{
	int64_t interval = NSEC_PER_SEC / lg.effective_rate;

	if (lg.n_eligible == 0)
		return;
	while (lg.rate_started < opt.messages && now >= lg.next_send) {
		int mbox = lg.eligible[lg.rr_next % lg.n_eligible];

		/* strict round robin: wait for this mailbox's spacing */
		if (!mailbox_may_receive(mbox, now) ||
		    !delivery_start(mbox, PURPOSE_RATE))
			break;
		if (lg.rate_started++ == 0)
			lg.t_first_send = now;
		lg.t_last_send = now;
		lg.rr_next++;
		lg.next_send += interval;
		if (lg.next_send < now)
			lg.next_send = now;	/* late: do not catch up */
	}
}

/* As many deliveries as the current phase may start now. */
void deliver_kick(void)
{
	if (!lg.phase_started || lg.paused)
		return;
	if (lg.phase == PHASE_DELIVER)
		rate_kick(now_ns());
	while (lg.phase == PHASE_BURST && lg.t_burst_start != 0 &&
	       lg.burst_started < opt.burst &&
	       delivery_start(opt.burst_user - 1, PURPOSE_BURST))
		lg.burst_started++;
}

static bool deliver_poll(int64_t now)
{
	if (lg.n_eligible > 0 && lg.rate_started < opt.messages &&
	    lmtp_usable()) {
		deliver_kick();
		return false;
	}
	if (lmtp_busy())
		return false;
	return settled(now);
}

static void burst_start(int64_t now)
{
	(void)now;
	if (opt.burst > 0 && lg.mailboxes[opt.burst_user - 1].n_idlers == 0)
		warn("--burst-user %d has no idlers", opt.burst_user);
}

static bool burst_poll(int64_t now)
{
	if (opt.burst == 0)
		return true;
	if (lg.t_burst_start == 0) {
		if (!mailbox_may_receive(opt.burst_user - 1, now))
			return false;
		lg.t_burst_start = now;
	}
	if (lg.burst_started < opt.burst && lmtp_usable()) {
		deliver_kick();
		return false;
	}
	if (lmtp_busy())
		return false;
	if (lg.burst_final_count == 0) {
		struct mailbox *mb = &lg.mailboxes[opt.burst_user - 1];

		lg.burst_final_count = mb->base + mb->confirmed;
		if (lg.last_250 >= lg.t_burst_start)
			lg.t_burst_last_250 = lg.last_250;
	}
	return settled(now);
}

static void storm_start(int64_t now)
{
	(void)now;
	lg.storm_step = STORM_SEED;
}

static bool storm_converged(void)
{
	const struct mailbox *mb = &lg.mailboxes[opt.storm_user - 1];
	int i;

	for (i = 0; i < mb->n_idlers; i++) {
		const struct imap_conn *c = &lg.conns[mb->idlers[i]];

		if (idler_counts(c) && flags_differ(c))
			return false;
	}
	return true;
}

/* Seed one message, log in, storm, read the final flags, wait until
   every idler's view converged. */
static bool storm_poll(int64_t now)
{
	struct imap_conn *s = &lg.storm;
	int mbox = opt.storm_user - 1;

	if (!storm_enabled())
		return true;
	if (s->failed)
		return true;
	if (lg.storm_step < STORM_LOGIN && !lmtp_usable()) {
		record_error("flag storm: no LMTP connection for the seed");
		return true;
	}
	switch (lg.storm_step) {
	case STORM_SEED:
		if (mailbox_may_receive(mbox, now) &&
		    delivery_start(mbox, PURPOSE_SEED))
			lg.storm_step = STORM_SEED_SETTLE;
		return false;
	case STORM_SEED_SETTLE:
		if (lmtp_busy() || !settled(now))
			return false;
		s->mbox = mbox;
		lg.storm_step = STORM_LOGIN;
		imap_connect(s);
		return false;
	case STORM_LOGIN:
		if (s->step != STEP_READY)
			return false;
		lg.storm_end = now + opt.storm_secs * NSEC_PER_SEC;
		lg.storm_next_store = now;
		lg.storm_step = STORM_RUN;
		/* fall through */
	case STORM_RUN:
		if (now >= lg.storm_end) {
			lg.storm_step = STORM_DRAIN;
			return false;
		}
		if (now < lg.storm_next_store)
			return false;
		lg.storm_next_store += NSEC_PER_SEC / opt.storm_rate;
		if (s->step != STEP_READY) {
			lg.storm_skipped++;
			return false;
		}
		lg.storm_store_set = !lg.storm_store_set;
		lg.storm_stores++;
		imap_command(s, STEP_STORE, "STORE 1:* %cFLAGS (\\Flagged)",
			     lg.storm_store_set ? '+' : '-');
		return false;
	case STORM_DRAIN:
		if (s->step != STEP_READY)
			return false;
		imap_command(s, STEP_FETCH, "FETCH 1:* (FLAGS)");
		lg.storm_step = STORM_FETCH;
		return false;
	case STORM_FETCH:
		if (s->step != STEP_READY)
			return false;
		lg.storm_final_known = true;
		lg.storm_step = STORM_CONVERGE;
		/* fall through */
	case STORM_CONVERGE:
		if (storm_converged()) {
			lg.storm_converged = true;
			lg.t_converged = now;
			return true;
		}
		return now >= lg.t_last_store_ok +
			opt.settle_secs * NSEC_PER_SEC;
	}
	return true;
}

static void hold_start(int64_t now)
{
	lg.phase_deadline = now + opt.hold_secs * NSEC_PER_SEC;
}

static bool hold_poll(int64_t now)
{
	return now >= lg.phase_deadline;
}

static void teardown_start(int64_t now)
{
	struct imap_conn *c;
	int i;

	lg.t_window_end = time(NULL);
	for (i = 0; i < opt.connections; i++) {
		c = &lg.conns[i];
		if (c->step == STEP_IDLING) {
			c->t_done_sent = now;
			c->step = STEP_DONE;
			c->ep.deadline = now +
				opt.command_timeout_secs * NSEC_PER_SEC;
			if (ep_send(&c->ep, "DONE\r\n", 6) < 0)
				imap_fail(c, "write: %s", strerror(errno));
		} else if (c->step != STEP_NONE && c->step != STEP_CLOSED) {
			imap_fail(c, "aborted");
		}
	}
	if (lg.storm.step == STEP_READY)
		imap_command(&lg.storm, STEP_LOGOUT, "LOGOUT");
	else if (lg.storm.step != STEP_NONE && lg.storm.step != STEP_CLOSED)
		imap_fail(&lg.storm, "aborted");
	for (i = 0; i < lg.n_lmtp; i++) {
		if (lg.lmtp[i].step == LMTP_READY)
			lmtp_commandf(&lg.lmtp[i], LMTP_QUIT, "QUIT");
		else if (lg.lmtp[i].step != LMTP_CLOSED &&
			 lg.lmtp[i].step != LMTP_NONE)
			lmtp_fail(&lg.lmtp[i], "aborted");
	}
}

static bool teardown_poll(int64_t now)
{
	int i;

	(void)now;
	for (i = 0; i < opt.connections; i++) {
		if (lg.conns[i].step != STEP_CLOSED &&
		    lg.conns[i].step != STEP_NONE)
			return false;
	}
	for (i = 0; i < lg.n_lmtp; i++) {
		if (lg.lmtp[i].step != LMTP_CLOSED &&
		    lg.lmtp[i].step != LMTP_NONE)
			return false;
	}
	return lg.storm.step == STEP_CLOSED || lg.storm.step == STEP_NONE;
}

static const struct phase {
	const char *stage;	/* printed when the phase completes */
	void (*start)(int64_t now);
	bool (*poll)(int64_t now);	/* true once complete */
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
static void stage_reached(const char *name, int64_t now)
{
	FILE *f;

	if (lg.n_stages < MAX_STAGES) {
		lg.stage_names[lg.n_stages] = name;
		lg.stage_times[lg.n_stages++] = now;
	}
	if (opt.pause_file != NULL && !lg.timed_out) {
		if ((f = fopen(opt.pause_file, "w")) == NULL) {
			warn("cannot create %s: %s", opt.pause_file,
			     strerror(errno));
		} else {
			fprintf(f, "%s\n", name);
			fclose(f);
			lg.paused = true;
			lg.pause_started = now;
			lg.pause_deadline = now +
				opt.pause_timeout_secs * NSEC_PER_SEC;
		}
	}
	printf("STAGE %s\n", name);
	fflush(stdout);
}

static void pause_check(int64_t now)
{
	if (access(opt.pause_file, F_OK) == 0 && now < lg.pause_deadline)
		return;
	if (now >= lg.pause_deadline) {
		warn("%s still there after %d s: resuming",
		     opt.pause_file, opt.pause_timeout_secs);
		unlink(opt.pause_file);
	}
	lg.paused = false;
	lg.deadline += now - lg.pause_started;	/* pauses do not count */
}

static void phase_step(int64_t now)
{
	while (!lg.paused && lg.phase < N_PHASES) {
		if (!lg.phase_started) {
			lg.phase_started = true;
			phases[lg.phase].start(now);
		}
		if (!phases[lg.phase].poll(now))
			break;
		if (lg.phase == PHASE_SETUP)
			lg.t_window_start = time(NULL);
		stage_reached(phases[lg.phase].stage, now);
		lg.phase++;
		lg.phase_started = false;
	}
}

/* Past the deadline: jump to teardown, and if even that hangs for the
   grace period, close everything. */
static void check_global_deadline(int64_t now)
{
	int i;

	if (now < lg.deadline || lg.paused)
		return;
	if (!lg.timed_out) {
		lg.timed_out = true;
		record_error("global timeout in phase %s", phase_name());
		lg.paused = false;
		if (lg.phase < PHASE_TEARDOWN) {
			lg.phase = PHASE_TEARDOWN;
			lg.phase_started = false;
		}
		lg.deadline = now + TIMEOUT_GRACE_NSECS;
		return;
	}
	for (i = 0; i < opt.connections; i++) {
		if (lg.conns[i].ep.fd >= 0)
			imap_fail(&lg.conns[i], "teardown timed out");
	}
	if (lg.storm.ep.fd >= 0)
		imap_fail(&lg.storm, "teardown timed out");
	for (i = 0; i < lg.n_lmtp; i++) {
		if (lg.lmtp[i].ep.fd >= 0)
			lmtp_fail(&lg.lmtp[i], "teardown timed out");
	}
	lg.phase = N_PHASES;
}

static void scan_deadlines(int64_t now)
{
	int i;

	for (i = 0; i < opt.connections; i++) {
		struct imap_conn *c = &lg.conns[i];

		if (c->ep.fd >= 0 && c->ep.deadline != 0 &&
		    now > c->ep.deadline)
			imap_fail(c, "timeout");
	}
	if (lg.storm.ep.fd >= 0 && lg.storm.ep.deadline != 0 &&
	    now > lg.storm.ep.deadline)
		imap_fail(&lg.storm, "timeout");
	for (i = 0; i < lg.n_lmtp; i++) {
		if (lg.lmtp[i].ep.fd >= 0 && lg.lmtp[i].ep.deadline != 0 &&
		    now > lg.lmtp[i].ep.deadline)
			lmtp_fail(&lg.lmtp[i], "timeout");
	}
}

static void progress(int64_t now)
{
	if (opt.no_progress || now < lg.next_progress)
		return;
	lg.next_progress = now + (lg.tty ? 250 : 5000) * NSEC_PER_MSEC;
	fprintf(stderr, "%s%-10s idling %d/%d failed %d | delivered %u "
		"failed %u pending %lld | keepalives %u%s%s",
		lg.tty ? "\r" : "", phase_name(), lg.n_idling,
		opt.connections, lg.n_conn_failed, lg.delivered_ok,
		lg.deliveries_failed, (long long)lg.pending_pairs, lg.ka_total,
		lg.paused ? " | paused" : "", lg.tty ? "   " : "\n");
}

/* Loop lag: how late the 10 ms timer is handled. */
static void on_tick(int64_t now)
{
	uint64_t expirations = 1;
	int64_t left;

	if (read(lg.timer.fd, &expirations, sizeof(expirations)) < 0 ||
	    expirations == 0)
		expirations = 1;
	lg.tick_expected += (expirations - 1) * TICK_NSECS;
	samples_add(lg.phase <= PHASE_SETUP ? &lg.lag_setup : &lg.lag_run,
		    now - lg.tick_expected);
	lg.tick_expected += TICK_NSECS;
	if (++lg.ticks % DEADLINE_SCAN_TICKS == 0) {
		scan_deadlines(now);
		left = lg.deadline - now;
		if (lg.paused)
			left = lg.pause_deadline - now + TIMEOUT_GRACE_NSECS;
		alarm(left > 0 ? left / NSEC_PER_SEC + 60 : 60);
	}
	if (lg.paused)
		pause_check(now);
	check_global_deadline(now);
	if (lg.phase < N_PHASES)
		phase_step(now);
	progress(now);
}

static void usage(FILE *f)
{
	size_t i;
	const char *p;

	fputs("usage: loadgen --imap-port P [--lmtp-port L] [options]\n\n"
	      "Holds N IMAP connections in IDLE, delivers through LMTP and\n"
	      "measures LMTP 250 -> '* n EXISTS' at every idler of the\n"
	      "mailbox. Prints 'STAGE <name>' lines (ready, setup_done,\n"
	      "deliveries_done, burst_done, flag_storm_done, quiet_done,\n"
	      "teardown_done), then the JSON result. Exit 0 if all checks\n"
	      "passed, 1 if any failed, 2 on bad usage.\n\n", f);
	for (i = 0; i < n_option_defs; i++) {
		const struct option_def *o = &option_defs[i];

		fprintf(f, "  --%s%s\n      ", o->name,
			o->type == ARG_FLAG ? "" : o->type == ARG_STR ?
			" STR" : " NUM");
		for (p = o->help; *p != '\0'; p++) {
			if (*p == '\n')
				fputs("\n      ", f);
			else
				fputc(*p, f);
		}
		fputc('\n', f);
	}
	fputs("  --help\n      this text\n", f);
}

static bool parse_number(const struct option_def *o, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (*arg == '\0' || *end != '\0' || v < o->min || v > o->max ||
	    (o->type == ARG_INT && v != (int)v)) {
		fprintf(stderr, "loadgen: --%s: '%s' is not a number in "
			"%g..%g\n", o->name, arg, o->min, o->max);
		return false;
	}
	if (o->type == ARG_INT)
		*(int *)o->value = (int)v;
	else
		*(double *)o->value = v;
	return true;
}

static bool parse_options(int argc, char **argv)
{
	struct option *longopts;
	struct in_addr addr;
	size_t i;
	int ch, idx = 0;

	longopts = xrealloc(NULL, (n_option_defs + 2) * sizeof(*longopts));
	for (i = 0; i < n_option_defs; i++) {
		longopts[i] = (struct option){ option_defs[i].name,
			option_defs[i].type == ARG_FLAG ? no_argument :
			required_argument, NULL, 0 };
	}
	longopts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[i] = (struct option){ NULL, 0, NULL, 0 };
	while ((ch = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		const struct option_def *o;

		if (ch == 'h') {
			usage(stdout);
			exit(0);
		}
		if (ch != 0)
			return false;
		o = &option_defs[idx];
		if (o->type == ARG_FLAG)
			*(int *)o->value = 1;
		else if (o->type == ARG_STR)
			*(const char **)o->value = optarg;
		else if (!parse_number(o, optarg))
			return false;
	}
	if (optind < argc || opt.imap_port == 0) {
		fputs("loadgen: --imap-port is required, no arguments\n",
		      stderr);
		return false;
	}
	if (opt.lmtp_port == 0 &&
	    (opt.messages > 0 || opt.burst > 0 || storm_enabled())) {
		fputs("loadgen: deliveries need --lmtp-port\n", stderr);
		return false;
	}
	if (inet_pton(AF_INET, opt.host, &addr) != 1) {
		fputs("loadgen: --host must be an IPv4 address\n", stderr);
		return false;
	}
	if ((opt.burst > 0 && opt.burst_user > opt.users) ||
	    (storm_enabled() && opt.storm_user > opt.users)) {
		fputs("loadgen: --burst-user and --flag-storm-user must be "
		      "<= --users\n", stderr);
		return false;
	}
	return true;
}

static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)opt.connections + opt.lmtp_connections + 16)
		warn("open-files limit %lu is below what %d connections need",
		     (unsigned long)rl.rlim_cur, opt.connections);
}

static void on_alarm(int sig)
{
	static const char msg[] = "\nloadgen: hard deadline passed, exit\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(EXIT_INTERNAL);
	_exit(EXIT_INTERNAL);
}

/* Conns, mailboxes and the idler lists (connection i -> user i mod U). */
static void init_state(void)
{
	int i;

	lg.conns = xrealloc(NULL, opt.connections * sizeof(*lg.conns));
	memset(lg.conns, 0, opt.connections * sizeof(*lg.conns));
	lg.mailboxes = xrealloc(NULL, opt.users * sizeof(*lg.mailboxes));
	memset(lg.mailboxes, 0, opt.users * sizeof(*lg.mailboxes));
	lg.eligible = xrealloc(NULL, opt.users * sizeof(int));
	for (i = 0; i < opt.connections; i++) {
		struct imap_conn *c = &lg.conns[i];
		struct mailbox *mb = &lg.mailboxes[i % opt.users];

		c->ep.kind = EP_IMAP;
		c->ep.fd = -1;
		c->mbox = i % opt.users;
		mb->idlers = xrealloc(mb->idlers,
				      (mb->n_idlers + 1) * sizeof(int));
		mb->idlers[mb->n_idlers++] = i;
	}
	lg.storm.ep.kind = EP_IMAP;
	lg.storm.ep.fd = -1;
	lg.storm.is_storm = true;
	lg.storm.mbox = opt.storm_user - 1;
}

static void start_timer(void)
{
	struct itimerspec its = { .it_interval.tv_nsec = TICK_NSECS };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lg.timer };

	lg.timer.kind = EP_TIMER;
	lg.timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
				     TFD_CLOEXEC);
	lg.tick_expected = lg.t_start + TICK_NSECS;
	its.it_value.tv_sec = lg.tick_expected / NSEC_PER_SEC;
	its.it_value.tv_nsec = lg.tick_expected % NSEC_PER_SEC;
	if (lg.timer.fd < 0 ||
	    timerfd_settime(lg.timer.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ||
	    epoll_ctl(lg.epfd, EPOLL_CTL_ADD, lg.timer.fd, &ev) < 0) {
		perror("loadgen: timer");
		exit(EXIT_INTERNAL);
	}
}

static void run_loop(void)
{
	struct epoll_event events[MAX_EVENTS];
	int i, n;

	while (lg.phase < N_PHASES || lg.paused) {
		n = epoll_wait(lg.epfd, events, MAX_EVENTS, 1000);
		if (n < 0 && errno != EINTR) {
			perror("loadgen: epoll_wait");
			exit(EXIT_INTERNAL);
		}
		for (i = 0; i < n; i++) {
			struct endpoint *ep = events[i].data.ptr;

			if (ep->kind == EP_TIMER)
				on_tick(now_ns());
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
	FILE *out = stdout;
	int status;

	if (!parse_options(argc, argv))
		return EXIT_USAGE;
	lg.tty = isatty(STDERR_FILENO);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	raise_nofile_limit();
	init_state();
	lg.t_start = now_ns();
	lg.t_start_real = lg.t_window_start = time(NULL);
	lg.deadline = lg.t_start + opt.timeout_secs * NSEC_PER_SEC;
	alarm(opt.timeout_secs + 60);
	if ((lg.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("loadgen: epoll_create1");
		return EXIT_INTERNAL;
	}
	start_timer();
	run_loop();
	alarm(0);
	if (!opt.no_progress && lg.tty)
		fputc('\n', stderr);
	if (opt.json_path != NULL &&
	    (out = fopen(opt.json_path, "w")) == NULL) {
		perror(opt.json_path);
		out = stdout;
	}
	status = report(out);
	if (out != stdout)
		fclose(out);
	return status;
}

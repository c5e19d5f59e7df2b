/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "loadgen-options.h"
#include "loadgen-util.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define OFF(field) offsetof(struct options, field)

const struct option_def option_defs[] = {
	{ "host", ARG_STR, OFF(host), 0, 0,
	  "IPv4 address of Dovecot [127.0.0.1]" },
	{ "imap-port", ARG_INT, OFF(imap_port), 1, 65535,
	  "IMAP port (required)" },
	{ "lmtp-port", ARG_INT, OFF(lmtp_port), 1, 65535,
	  "LMTP port (required when anything is delivered)" },
	{ "user-prefix", ARG_STR, OFF(user_prefix), 0, 0,
	  "users are <prefix>1..<prefix>U [user]" },
	{ "password", ARG_STR, OFF(password), 0, 0,
	  "password of every user [pass]" },
	{ "connections", ARG_INT, OFF(connections), 1, 100000,
	  "idling connections N; connection i is user (i mod U)+1 [1]" },
	{ "users", ARG_INT, OFF(users), 1, 100000, "users U [1]" },
	{ "messages", ARG_INT, OFF(messages), 0, 10000000,
	  "deliveries M, round-robin over users with idlers [0]" },
	{ "rate", ARG_DOUBLE, OFF(rate), 0.001, 100000,
	  "deliveries per second over all mailboxes [10]" },
	{ "min-spacing-ms", ARG_INT, OFF(min_spacing_ms), 0, 3600000,
	  "min time from one mailbox's 250 to its next delivery;\n"
	  "wins over --rate [2000]" },
	{ "burst", ARG_INT, OFF(burst), 0, 1000000,
	  "after the deliveries: K messages back to back to one\n"
	  "mailbox, measured until every idler saw the final count [0]" },
	{ "burst-user", ARG_INT, OFF(burst_user), 1, 100000,
	  "user number receiving the burst [1]" },
	{ "lmtp-connections", ARG_INT, OFF(lmtp_connections), 1, 64,
	  "LMTP connections kept open and reused [1]" },
	{ "setup-concurrency", ARG_INT, OFF(setup_concurrency), 1, 100000,
	  "connections between connect and IDLE '+' at most [64]" },
	{ "setup-timeout-secs", ARG_INT, OFF(setup_timeout_secs), 1, 86400,
	  "per connection, from connect to IDLE '+' [60]" },
	{ "command-timeout-secs", ARG_INT, OFF(command_timeout_secs), 1,
	  86400, "for every other IMAP or LMTP reply [30]" },
	{ "settle-secs", ARG_INT, OFF(settle_secs), 0, 86400,
	  "after deliveries, wait at most this long for every EXISTS\n"
	  "(and for flags to converge); 0 = go on at once [35]" },
	{ "hold-secs", ARG_INT, OFF(hold_secs), 0, 86400,
	  "keep idling this long before DONE (keepalives) [0]" },
	{ "initial-count", ARG_INT, OFF(initial_count), 0, 10000000,
	  "expected EXISTS at SELECT; a difference is a warning, the\n"
	  "SELECT count is used either way [not checked]" },
	{ "flag-storm-rate", ARG_DOUBLE, OFF(storm_rate), 0, 10000,
	  "STOREs per second alternating +FLAGS/-FLAGS (\\Flagged)\n"
	  "on 1:* from an extra session; 0 = no storm [0]" },
	{ "flag-storm-secs", ARG_INT, OFF(storm_secs), 0, 86400,
	  "duration of the flag storm [10]" },
	{ "flag-storm-user", ARG_INT, OFF(storm_user), 1, 100000,
	  "user number whose INBOX the storm changes [1]" },
	{ "pause-file", ARG_STR, OFF(pause_file), 0, 0,
	  "after each stage create PATH, then wait until it is gone" },
	{ "pause-timeout-secs", ARG_INT, OFF(pause_timeout_secs), 1, 86400,
	  "resume anyway after waiting this long for PATH [300]" },
	{ "json", ARG_STR, OFF(json_path), 0, 0,
	  "write the JSON result to FILE instead of stdout" },
	{ "timeout-secs", ARG_INT, OFF(timeout_secs), 1, 604800,
	  "global deadline, pauses not counted [600]" },
	{ "no-progress", ARG_FLAG, OFF(no_progress), 0, 0,
	  "no progress line on stderr" },
	{ "ramp-factor", ARG_DOUBLE, OFF(ramp_factor), 0, 100,
	  "saturation ramp: deliver at --rate, then at rate x F, x F^2\n"
	  "..., each for --ramp-step-secs, until the step's LMTP '.' ->\n"
	  "250 p50 reaches --ramp-knee x the first step's, a delivery\n"
	  "fails, the achieved rate falls below 90 % of the offered\n"
	  "one, or the rate passes --ramp-max-rate; 0 = no ramp [0]" },
	{ "ramp-step-secs", ARG_INT, OFF(ramp_step_secs), 1, 3600,
	  "duration of one ramp step [5]" },
	{ "ramp-max-rate", ARG_DOUBLE, OFF(ramp_max_rate), 0.001, 100000,
	  "the ramp stops after the step at this rate [1000]" },
	{ "ramp-knee", ARG_DOUBLE, OFF(ramp_knee), 1, 1000,
	  "the knee: step p50 / first step's p50 [2]" },
	{ "hot-users", ARG_INT, OFF(hot_users), 0, 100000,
	  "users 1..K are hot: --hot-share of the deliveries go to\n"
	  "them round-robin, the rest to the other users [0]" },
	{ "hot-share", ARG_DOUBLE, OFF(hot_share), 0, 1,
	  "share of the deliveries for the hot users [0.5]" },
};
const size_t n_option_defs =
	sizeof(option_defs) / sizeof(option_defs[0]);

void options_defaults(struct options *o)
{
	*o = (struct options){
		.host = "127.0.0.1", .user_prefix = "user", .password = "pass",
		.connections = 1, .users = 1, .rate = 10,
		.min_spacing_ms = 2000, .burst_user = 1,
		.lmtp_connections = 1, .setup_concurrency = 64,
		.setup_timeout_secs = 60, .command_timeout_secs = 30,
		.settle_secs = 35, .initial_count = -1, .storm_secs = 10,
		.storm_user = 1, .pause_timeout_secs = 300,
		.timeout_secs = 600, .ramp_step_secs = 5,
		.ramp_max_rate = 1000, .ramp_knee = 2, .hot_share = 0.5,
	};
}

static void *field(const struct options *o, const struct option_def *d)
{
	return (char *)o + d->offset;
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

static bool parse_number(struct options *opt, const struct option_def *o,
			 const char *arg)
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
		*(int *)field(opt, o) = (int)v;
	else
		*(double *)field(opt, o) = v;
	return true;
}

bool options_parse(struct options *opt, int argc, char **argv)
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
			*(int *)field(opt, o) = 1;
		else if (o->type == ARG_STR)
			*(const char **)field(opt, o) = optarg;
		else if (!parse_number(opt, o, optarg))
			return false;
	}
	if (optind < argc || opt->imap_port == 0) {
		fputs("loadgen: --imap-port is required, no arguments\n",
		      stderr);
		return false;
	}
	if (opt->lmtp_port == 0 &&
	    (opt->messages > 0 || opt->burst > 0 || options_storm(opt) ||
	     options_ramp(opt))) {
		fputs("loadgen: deliveries need --lmtp-port\n", stderr);
		return false;
	}
	if (inet_pton(AF_INET, opt->host, &addr) != 1) {
		fputs("loadgen: --host must be an IPv4 address\n", stderr);
		return false;
	}
	if ((opt->burst > 0 && opt->burst_user > opt->users) ||
	    (options_storm(opt) && opt->storm_user > opt->users)) {
		fputs("loadgen: --burst-user and --flag-storm-user must be "
		      "<= --users\n", stderr);
		return false;
	}
	if (opt->hot_users >= opt->users && opt->hot_users > 0) {
		fputs("loadgen: --hot-users must be < --users (the others "
		      "are the quiet ones)\n", stderr);
		return false;
	}
	if (options_ramp(opt) && opt->ramp_factor <= 1) {
		fputs("loadgen: --ramp-factor must be > 1\n", stderr);
		return false;
	}
	return true;
}

void options_json(FILE *f, const struct options *opt)
{
	size_t i;
	const char *p;

	for (i = 0; i < n_option_defs; i++) {
		const struct option_def *o = &option_defs[i];
		void *v = field(opt, o);

		fputs(i == 0 ? "\"" : ", \"", f);
		for (p = o->name; *p != '\0'; p++)
			fputc(*p == '-' ? '_' : *p, f);
		fputs("\": ", f);
		if (o->offset == offsetof(struct options, password))
			fputs("\"(not shown)\"", f);
		else if (o->type == ARG_STR && *(const char **)v == NULL)
			fputs("null", f);
		else if (o->type == ARG_STR)
			json_string(f, *(const char **)v);
		else if (o->type == ARG_DOUBLE)
			fprintf(f, "%g", *(double *)v);
		else
			fprintf(f, "%d", *(int *)v);
	}
}


/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_OPTIONS_H
#define LOADGEN_OPTIONS_H

/* loadgen's command line: one table row per option drives parsing,
   --help and the JSON "config" echo. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct options {
	const char *host, *user_prefix, *password, *pause_file, *json_path;
	int imap_port, lmtp_port, connections, users, messages;
	double rate;
	int min_spacing_ms, burst, burst_user, lmtp_connections;
	int setup_concurrency, setup_timeout_secs, command_timeout_secs;
	int settle_secs, hold_secs, initial_count;
	double storm_rate;
	int storm_secs, storm_user, pause_timeout_secs, timeout_secs;
	int no_progress;
	double ramp_factor, ramp_max_rate, ramp_knee;
	int ramp_step_secs;
	int hot_users;
	double hot_share;
};

enum arg_type { ARG_STR, ARG_INT, ARG_DOUBLE, ARG_FLAG };

struct option_def {
	const char *name;
	enum arg_type type;
	size_t offset;		/* in struct options */
	double min, max;
	const char *help;
};

extern const struct option_def option_defs[];
extern const size_t n_option_defs;

void options_defaults(struct options *o);
/* False (message on stderr) on bad usage; exits after --help. */
bool options_parse(struct options *o, int argc, char **argv);
/* The "config" object's members, password hidden; no braces. */
void options_json(FILE *f, const struct options *o);

static inline bool options_storm(const struct options *o)
{
	return o->storm_rate > 0;
}

static inline bool options_ramp(const struct options *o)
{
	return o->ramp_factor > 0;
}

#endif

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_RAMP_H
#define LOADGEN_RAMP_H

/* The saturation ramp's rules, apart from any I/O: what one step
   measured, whether the ramp goes on after it, and the rate it reached.
   A step's rate is the first step's times factor^index. */

#include "loadgen-util.h"

#define MAX_RAMP_STEPS 64

enum ramp_stop {
	RAMP_GO_ON, RAMP_KNEE, RAMP_ERRORS, RAMP_BEHIND, RAMP_CAP,
	RAMP_MESSAGES, RAMP_NO_DATA
};

struct ramp_step {
	double rate;		/* offered deliveries/s */
	int started, delivered, failed;
	int64_t t_start, t_end;	/* t_end: its last transaction ended */
	int64_t p50_ns, p99_ns;	/* LMTP '.' -> 250; -1 without data */
	enum ramp_stop verdict;
};

struct ramp_rules {
	double factor, max_rate, knee;
	int step_secs;
};

const char *ramp_stop_name(enum ramp_stop stop);
/* Rate of step index (0 = the first). */
double ramp_rate(const struct ramp_rules *rules, double first_rate,
		 int index);
/* Starts per second the step managed over its nominal duration. */
double ramp_achieved(const struct ramp_rules *rules,
		     const struct ramp_step *step);
/* Whether the ramp goes on after step; first is step 0 (maybe the same
   step).  messages_left: deliveries still allowed (< 0: no limit). */
enum ramp_stop ramp_verdict(const struct ramp_rules *rules,
			    const struct ramp_step *first,
			    const struct ramp_step *step, int index,
			    long messages_left);
/* The highest rate sustained: the last step's before the one that
   stopped the ramp at the knee, on errors or behind; the stopping
   step's own if the ramp ended at the cap or the message limit. */
double ramp_sustained(const struct ramp_step *steps, int n);

#endif

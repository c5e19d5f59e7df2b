/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "loadgen-ramp.h"

/* Below this share of the offered rate the server did not keep up: all
   LMTP connections were busy when the next delivery was due. */
#define RAMP_BEHIND_SHARE 0.9

const char *ramp_stop_name(enum ramp_stop stop)
{
	static const char *const names[] = {
		"go on", "knee", "errors", "behind", "cap", "messages",
		"no data"
	};

	return names[stop];
}

double ramp_rate(const struct ramp_rules *rules, double first_rate,
		 int index)
{
	double rate = first_rate;
	int i;

	for (i = 0; i < index; i++)
		rate *= rules->factor;
	return rate;
}

double ramp_achieved(const struct ramp_rules *rules,
		     const struct ramp_step *step)
{
	return (double)step->started / rules->step_secs;
}

enum ramp_stop ramp_verdict(const struct ramp_rules *rules,
			    const struct ramp_step *first,
			    const struct ramp_step *step, int index,
			    long messages_left)
{
	if (step->failed > 0)
		return RAMP_ERRORS;
	if (step->p50_ns < 0 || first->p50_ns < 0)
		return RAMP_NO_DATA;
	if (index > 0 &&
	    step->p50_ns >= rules->knee * (double)first->p50_ns)
		return RAMP_KNEE;
	if (ramp_achieved(rules, step) < RAMP_BEHIND_SHARE * step->rate)
		return RAMP_BEHIND;
	if (messages_left == 0)
		return RAMP_MESSAGES;
	if (index + 1 >= MAX_RAMP_STEPS ||
	    step->rate * rules->factor > rules->max_rate)
		return RAMP_CAP;
	return RAMP_GO_ON;
}

double ramp_sustained(const struct ramp_step *steps, int n)
{
	if (n == 0)
		return 0;
	switch (steps[n - 1].verdict) {
	case RAMP_CAP:
	case RAMP_MESSAGES:
	case RAMP_GO_ON:
		return steps[n - 1].rate;
	default:
		return n >= 2 ? steps[n - 2].rate : 0;
	}
}

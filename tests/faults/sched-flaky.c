/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* LD_PRELOAD shim for the fault tests: sched_setscheduler() works for the
   first SCHED_FLAKY_GOOD_CALLS calls (default 4), then refuses
   SCHED_OTHER with EPERM: a policy that changes its mind after the
   plugin's probe, which a stateless seccomp filter can't be. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param)
{
	static int (*next)(pid_t, int, const struct sched_param *);
	static int calls = 0;
	const char *env = getenv("SCHED_FLAKY_GOOD_CALLS");
	int good = env != NULL ? atoi(env) : 4;

	if (next == NULL)
		next = (int (*)(pid_t, int, const struct sched_param *))
			dlsym(RTLD_NEXT, "sched_setscheduler");
	if (++calls > good && policy == SCHED_OTHER) {
		errno = EPERM;
		return -1;
	}
	return next(pid, policy, param);
}

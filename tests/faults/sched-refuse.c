/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* sched-refuse POLICY PROGRAM [ARGS...]: runs PROGRAM under a seccomp
   filter that makes sched_setscheduler() fail with EPERM when it asks for
   POLICY (SCHED_OTHER or SCHED_BATCH), as a container runtime's filter
   might.  For the fault tests: Dovecot's service imap runs it as its
   executable, in front of the real imap binary. */

/* for SCHED_BATCH */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

int main(int argc, char *argv[])
{
	unsigned int policy;

	if (argc < 3 || (strcmp(argv[1], "SCHED_OTHER") != 0 &&
			 strcmp(argv[1], "SCHED_BATCH") != 0)) {
		fprintf(stderr, "usage: sched-refuse SCHED_OTHER|SCHED_BATCH "
			"PROGRAM [ARGS...]\n");
		return 2;
	}
	policy = strcmp(argv[1], "SCHED_BATCH") == 0 ? SCHED_BATCH :
		SCHED_OTHER;

	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sched_setscheduler,
			 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, policy, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("sched-refuse: installing the seccomp filter");
		return 1;
	}
	execv(argv[2], argv + 2);
	perror("sched-refuse: execv");
	return 1;
}

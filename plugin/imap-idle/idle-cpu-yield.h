/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_CPU_YIELD_H
#define IDLE_CPU_YIELD_H

struct event;

/* While every client of this imap process is idling with
   imap_idle_yield_cpu = yes, the process runs under SCHED_BATCH: the
   kernel then never lets its wake-ups preempt a running process.  Its
   pushes are caused by a writer (LMTP, another imap) that is still
   finishing its own work; preempting it on a busy host makes the delivery
   slower for the sake of an EXISTS a few hundred microseconds sooner.  On
   an idle CPU nothing waits.  Any other command puts the process back
   under SCHED_OTHER before it runs.  Changing between the two needs no
   privilege. */

/* event: the client's (a warning goes out through a child of it).
   An IDLE with imap_idle_yield_cpu = yes started / ended (its ending line
   was read, or it was cancelled). */
void imap_idle_cpu_yield_idler_add(struct event *event);
void imap_idle_cpu_yield_idler_remove(struct event *event);
/* The process's clients changed (one connected); also called before each
   push sync, which notices clients that left. */
void imap_idle_cpu_yield_update(struct event *event);

#endif

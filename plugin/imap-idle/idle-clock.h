/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_CLOCK_H
#define IDLE_CLOCK_H

/* The shell's two clocks, one per purpose.  The core takes their readings
   as arguments. */

/* Monotonic milliseconds: every delay, deadline and elapsed time (the
   notify policy, the watch's waits).  Never steps with the wall clock. */
uint64_t imap_idle_clock_monotonic_msecs(void);
/* The same clock in microseconds: the latency of a push, where a
   millisecond is most of it. */
uint64_t imap_idle_clock_monotonic_usecs(void);

/* Wall-clock milliseconds since the epoch: only to compare with file
   timestamps, which the kernel stamps from this clock, and to align
   keepalives to wall time across processes and hosts. */
int64_t imap_idle_clock_wall_msecs(void);

#endif

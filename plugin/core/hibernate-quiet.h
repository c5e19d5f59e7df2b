/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_HIBERNATE_QUIET_H
#define IDLE_HIBERNATE_QUIET_H

#include <stdbool.h>
#include <stdint.h>

/* How long an idling client must stay quiet before it hibernates.  A
   hibernate/wake cycle costs a fixed amount of CPU (a process start, a
   state export and import, two walks of the mailbox) and saves memory
   for as long as the client sleeps.  A client woken sooner than it had
   waited before hibernating is on a mailbox that changes more often than
   the quiet time: its next quiet time doubles, up to QUIET_MAX_FACTOR
   times imap_hibernate_timeout.  One that slept at least
   QUIET_RELAX_FACTOR times its quiet time halves it again, down to
   imap_hibernate_timeout.  Times are milliseconds. */
#define IDLE_HIBERNATE_QUIET_MAX_FACTOR 64
#define IDLE_HIBERNATE_QUIET_RELAX_FACTOR 4

/* base_msecs: imap_hibernate_timeout (0: never hibernate, returns 0).
   prev_quiet_msecs: the quiet time used before the last hibernation, 0
   if the client never hibernated.  slept_msecs: how long it stayed
   hibernated. */
unsigned int idle_hibernate_quiet_msecs(unsigned int base_msecs,
					unsigned int prev_quiet_msecs,
					uint64_t slept_msecs);

/* Retry delay after the n-th transient refusal in a row (n >= 1):
   base doubled per refusal, at most max_msecs. */
unsigned int idle_hibernate_retry_msecs(unsigned int base_msecs,
					unsigned int refusals,
					unsigned int max_msecs);

#endif

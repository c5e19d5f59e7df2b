/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_WATCH_SCHEDULE_H
#define IDLE_WATCH_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

/* When the watch looks again: the maildir directory check that follows
   a sync, and the period of polling. */

/* A directory check owed after a sync runs this long after it ends: the
   writer whose commit asked for it is still finishing (LMTP has yet to
   answer), and the check is only for a save that found the uidlist
   locked or a writer that bypassed the index. */
#define IDLE_WATCH_DIRS_CHECK_AFTER_SYNC_MSECS 20
/* A delivery burst asks for a check after every commit; new/ grows with
   it, and reading it for each would cost more than the syncs: checks are
   at least this far apart. */
#define IDLE_WATCH_DIRS_CHECK_SPACING_MSECS 100
/* The most a poll comes early to leave room for the sync it starts. */
#define IDLE_WATCH_POLL_SYNC_ROOM_MSECS 50

/* Milliseconds from now until the directory check after a sync:
   IDLE_WATCH_DIRS_CHECK_AFTER_SYNC_MSECS, or later if that would be
   sooner than IDLE_WATCH_DIRS_CHECK_SPACING_MSECS after the last check.
   checked_before: last_check_msecs holds when the directories were last
   read.  Times are one monotonic clock; a last check "after" now counts
   as long ago. */
unsigned int idle_watch_schedule_dirs_check_msecs(bool checked_before,
						  uint64_t last_check_msecs,
						  uint64_t now_msecs);

/* The poll timer's period for imap_idle_poll_interval: the interval
   bounds how long a change waits to be reported, so polls come a
   twentieth of it (at most IDLE_WATCH_POLL_SYNC_ROOM_MSECS) sooner. */
unsigned int idle_watch_schedule_poll_msecs(unsigned int poll_interval_msecs);

#endif

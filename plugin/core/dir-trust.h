/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_DIR_TRUST_H
#define IDLE_DIR_TRUST_H

#include <stdbool.h>
#include <stdint.h>

/* When a maildir directory's state can be believed.  A directory that a
   check found holding nothing unrecorded stays trusted while its mtime
   stays the same, but only once that mtime has settled: a change within
   the same timestamp tick would leave the mtime as it is.  And cur/'s
   mtime differing from the one Dovecot's last sync recorded is suspected
   first and believed only after it stayed so for a while, since a sync
   that renamed files in cur/ records the new mtime only when it ends. */

enum idle_dir_verdict {
	/* nothing that Dovecot's writers did not record */
	IDLE_DIR_CLEAN = 0,
	/* maybe a writer between its rename and its record: look again */
	IDLE_DIR_UNSURE,
	/* something no Dovecot writer recorded: a full sync is owed */
	IDLE_DIR_UNRECORDED,
};

/* A jiffy (at most 10 ms) is the tick of filesystems with sub-second
   timestamps; this is longer. */
#define IDLE_DIR_TRUST_MTIME_TICK_MSECS 20
/* how long an unrecorded cur/ mtime is suspected before it is believed;
   also how soon an unsure directory check looks again */
#define IDLE_DIR_TRUST_RECHECK_MSECS 50

/* Whether a change after now_msecs would give the directory an mtime
   other than mtime_msecs (both wall clock, milliseconds since the epoch).
   coarse: the timestamp may have a tick of a whole second (it has no
   sub-second part, or the filesystem may be remote, with another clock):
   then it has settled once now is two seconds past its second.  An mtime
   in the future has not settled. */
bool idle_dir_trust_mtime_settled(int64_t mtime_msecs, bool coarse,
				  int64_t now_msecs);

/* The suspicion of one cur/ directory; zero-initialized. */
struct idle_dir_trust_cur {
	int64_t suspect_mtime_nsecs;
	uint64_t suspect_since;
	bool suspect;
};

/* cur/ has mtime_nsecs (any unique encoding of the timestamp); recorded:
   the index records exactly that mtime.  now_msecs is a monotonic clock.
   Returns CLEAN when recorded, UNRECORDED once the same unrecorded mtime
   has been seen for IDLE_DIR_TRUST_RECHECK_MSECS, UNSURE before. */
enum idle_dir_verdict
idle_dir_trust_cur_check(struct idle_dir_trust_cur *cur,
			 int64_t mtime_nsecs, bool recorded,
			 uint64_t now_msecs);

const char *idle_dir_verdict_name(enum idle_dir_verdict verdict);

#endif

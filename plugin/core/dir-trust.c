/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "dir-trust.h"

#define MSECS_PER_SEC 1000

static int64_t floor_secs(int64_t msecs)
{
	return msecs >= 0 ? msecs / MSECS_PER_SEC :
		-((-msecs + MSECS_PER_SEC - 1) / MSECS_PER_SEC);
}

bool idle_dir_trust_mtime_settled(int64_t mtime_msecs, bool coarse,
				  int64_t now_msecs)
{
	/* a whole-second mtime may stand for any moment of its second, and
	   a remote clock may be behind ours: past the next second */
	if (coarse)
		return floor_secs(mtime_msecs) < floor_secs(now_msecs) - 1;
	return now_msecs >= mtime_msecs &&
		now_msecs - mtime_msecs >= IDLE_DIR_TRUST_MTIME_TICK_MSECS;
}

enum idle_dir_verdict
idle_dir_trust_cur_check(struct idle_dir_trust_cur *cur,
			 int64_t mtime_nsecs, bool recorded,
			 uint64_t now_msecs)
{
	if (recorded) {
		cur->suspect = false;
		return IDLE_DIR_CLEAN;
	}
	if (!cur->suspect || cur->suspect_mtime_nsecs != mtime_nsecs) {
		/* a new unrecorded mtime: the sync that made it may still
		   be about to record it */
		cur->suspect = true;
		cur->suspect_mtime_nsecs = mtime_nsecs;
		cur->suspect_since = now_msecs;
		return IDLE_DIR_UNSURE;
	}
	if (now_msecs >= cur->suspect_since &&
	    now_msecs - cur->suspect_since >= IDLE_DIR_TRUST_RECHECK_MSECS) {
		cur->suspect = false;
		return IDLE_DIR_UNRECORDED;
	}
	return IDLE_DIR_UNSURE;
}

const char *idle_dir_verdict_name(enum idle_dir_verdict verdict)
{
	switch (verdict) {
	case IDLE_DIR_CLEAN:
		return "clean";
	case IDLE_DIR_UNSURE:
		return "unsure";
	case IDLE_DIR_UNRECORDED:
		return "unrecorded";
	}
	return "?";
}

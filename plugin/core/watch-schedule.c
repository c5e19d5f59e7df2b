/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "watch-schedule.h"

unsigned int idle_watch_schedule_dirs_check_msecs(bool checked_before,
						  uint64_t last_check_msecs,
						  uint64_t now_msecs)
{
	uint64_t since;

	if (!checked_before || now_msecs < last_check_msecs)
		return IDLE_WATCH_DIRS_CHECK_AFTER_SYNC_MSECS;
	since = now_msecs - last_check_msecs;
	if (since < IDLE_WATCH_DIRS_CHECK_SPACING_MSECS -
	    IDLE_WATCH_DIRS_CHECK_AFTER_SYNC_MSECS)
		return IDLE_WATCH_DIRS_CHECK_SPACING_MSECS - (unsigned int)since;
	return IDLE_WATCH_DIRS_CHECK_AFTER_SYNC_MSECS;
}

unsigned int idle_watch_schedule_poll_msecs(unsigned int poll_interval_msecs)
{
	unsigned int room = poll_interval_msecs / 20;

	if (room > IDLE_WATCH_POLL_SYNC_ROOM_MSECS)
		room = IDLE_WATCH_POLL_SYNC_ROOM_MSECS;
	return poll_interval_msecs - room;
}

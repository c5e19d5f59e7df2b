/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "watch-check.h"

#include <string.h>

void idle_watch_check_plan(const struct idle_watch_check_input *input,
			   struct idle_watch_check *check_r)
{
	memset(check_r, 0, sizeof(*check_r));
	check_r->dirs_check_pending = input->dirs_check_pending;
	if (input->log_grew)
		check_r->signal |= IDLE_WATCH_SIGNAL_LOG_GREW;
	if (input->writer_in_commit) {
		/* look at the directories once the commit is over: mid-commit
		   its files are in new/ before the uidlist lists them, and a
		   save that found the lock taken leaves its file there
		   unlisted, with nothing but new/ changing */
		check_r->signal |= IDLE_WATCH_SIGNAL_WRITER_BUSY;
		check_r->dirs_check_pending = true;
		return;
	}
	if (!input->include_dirs &&
	    !(input->dirs_check_pending && !input->dirs_check_armed))
		return;
	/* after this client's sync: not while it waits for output
	   (refreshing index and uidlist belongs between syncs), and not
	   ahead of the sync the log asks for (EXISTS first) */
	check_r->dirs_check_pending = input->syncing || input->log_grew;
	check_r->read_dirs = !check_r->dirs_check_pending && input->has_dirs;
}

void idle_watch_check_dirs_done(struct idle_watch_check *check,
				enum idle_dir_verdict verdict)
{
	switch (verdict) {
	case IDLE_DIR_CLEAN:
		break;
	case IDLE_DIR_UNSURE:
		check->dirs_check_pending = true;
		check->arm_recheck = true;
		break;
	case IDLE_DIR_UNRECORDED:
		check->signal |= IDLE_WATCH_SIGNAL_FULL_SYNC;
		break;
	}
}

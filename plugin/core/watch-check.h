/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_WATCH_CHECK_H
#define IDLE_WATCH_CHECK_H

#include <stdbool.h>

#include "dir-trust.h"

/* How one look at a mailbox turns into a signal for its idler.  The shell
   looks at the transaction log and (maildir) the uidlist lock, asks
   idle_watch_check_plan() whether the directories are to be read now,
   reads them if so, and folds the verdict in with
   idle_watch_check_dirs_done(). */

enum idle_watch_signal {
	/* Another process is in the middle of its commit (maildir uidlist
	   lock held); its release signals again. */
	IDLE_WATCH_SIGNAL_WRITER_BUSY = 0x01,
	/* The transaction log grew past what this client has synced: the
	   change was written by Dovecot, so syncing the index reports it. */
	IDLE_WATCH_SIGNAL_LOG_GREW = 0x02,
	/* Something changed outside the index (a maildir writer that
	   bypassed Dovecot, or Dovecot's own watch where nothing finer is
	   known): a full mailbox sync is needed. */
	IDLE_WATCH_SIGNAL_FULL_SYNC = 0x04,
};

struct idle_watch_check_input {
	/* the log grew past this client's synced position (or can't be
	   looked at) */
	bool log_grew;
	/* maildir: another process holds dovecot-uidlist.lock */
	bool writer_in_commit;
	/* the event may come from the directories (Dovecot's watch of them,
	   a poll): read them */
	bool include_dirs;
	/* the mailbox has directories to check (maildir) */
	bool has_dirs;
	/* a directory check is owed from before */
	bool dirs_check_pending;
	/* the timer of an owed directory check is armed */
	bool dirs_check_armed;
	/* this client's sync is running */
	bool syncing;
};

struct idle_watch_check {
	enum idle_watch_signal signal;
	/* the new value of the owed directory check */
	bool dirs_check_pending;
	/* read the directories now, then call idle_watch_check_dirs_done() */
	bool read_dirs;
	/* arm the directory check's timer (IDLE_DIR_TRUST_RECHECK_MSECS) */
	bool arm_recheck;
};

/* A writer inside its commit defers the directory check to its end (its
   files are in new/ before the uidlist lists them); so does this client's
   sync, and a grown log (the sync it asks for comes first, EXISTS before
   the check).  An owed check whose timer is armed waits for the timer. */
void idle_watch_check_plan(const struct idle_watch_check_input *input,
			   struct idle_watch_check *check_r);

/* Folds the directory verdict into a check that asked for read_dirs. */
void idle_watch_check_dirs_done(struct idle_watch_check *check,
				enum idle_dir_verdict verdict);

#endif

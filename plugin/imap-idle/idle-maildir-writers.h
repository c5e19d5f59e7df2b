/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_MAILDIR_WRITERS_H
#define IDLE_MAILDIR_WRITERS_H

#include "dir-trust.h"

struct mailbox;

/* Finds what maildir writers that bypassed Dovecot did to one mailbox
   (see idle-maildir-writers.c), and whether a Dovecot writer is inside
   its commit. */

struct imap_idle_maildir_writers *
imap_idle_maildir_writers_create(struct mailbox *box);
void imap_idle_maildir_writers_destroy(struct imap_idle_maildir_writers **w);

/* Another process holds dovecot-uidlist.lock. */
bool imap_idle_maildir_writer_in_commit(struct imap_idle_maildir_writers *w);

/* Whether new/ and cur/ hold what only a full sync finds.  remote_clock:
   the directories may be stamped by another host's clock (polling), so
   their mtimes settle only at a whole-second granularity. */
enum idle_dir_verdict
imap_idle_maildir_writers_check(struct imap_idle_maildir_writers *w,
				bool remote_clock);

/* Milliseconds until the directory check that follows a sync (see
   idle_watch_schedule_dirs_check_msecs()). */
unsigned int
imap_idle_maildir_writers_after_sync_msecs(struct imap_idle_maildir_writers *w);

#endif

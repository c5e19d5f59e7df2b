/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_WATCH_H
#define IDLE_WATCH_H

#include "watch-check.h"
#include "push-source.h"

struct mailbox;
struct event;
struct idle_settings;

/* What one look at the mailbox found, and who asked for the look. */
struct imap_idle_watch_change {
	enum idle_watch_signal signal;
	/* the plugin's watch, Dovecot's, the poll or the maildir re-check */
	enum idle_push_source source;
	/* when the source noticed (imap_idle_clock_monotonic_usecs()) */
	uint64_t since_usecs;
};

/* Change sources for one idling client's selected mailbox, combined into
   one callback with the signals of watch-check.h.  The callback is never
   called from inside imap_idle_watch_*() itself. */
typedef void
imap_idle_watch_callback_t(const struct imap_idle_watch_change *change,
			   void *context);

struct imap_idle_watch *
imap_idle_watch_start(struct mailbox *box, const struct idle_settings *set,
		      struct event *event,
		      imap_idle_watch_callback_t *callback, void *context);
void imap_idle_watch_stop(struct imap_idle_watch **watch);

/* Whether changes are worth a callback now (see
   idle_notify_policy_listening()); not listening lets the process sleep
   through a stream of writes: the directory watches stop, and so does
   Dovecot's own watch in a process serving one client.  The directory
   checks still report.  A sync's start listens again (on maildir a
   directory check follows it). */
void imap_idle_watch_set_listening(struct imap_idle_watch *watch,
				   bool listening);

/* A sync of the mailbox begins. */
void imap_idle_watch_sync_started(struct imap_idle_watch *watch);
/* A sync finished successfully: the log position it reached is what
   later signals are compared with. */
void imap_idle_watch_synced(struct imap_idle_watch *watch);

/* Whether the mailbox changed since this watch last looked at it (or,
   maildir, a writer is in the middle of its commit): a burst goes on. */
bool imap_idle_watch_still_changing(struct imap_idle_watch *watch);

/* Whether a change that Dovecot committed is reported by syncing the
   index alone (MAILBOX_SYNC_FLAG_FAST without the storage sync). */
bool imap_idle_watch_index_sync_suffices(const struct imap_idle_watch *watch);

/* Looks now for changes only a storage sync finds (a maildir writer that
   bypassed Dovecot); for the end of an idle without a final sync. */
bool imap_idle_watch_storage_sync_owed(struct imap_idle_watch *watch);

/* What is expected to report the mailbox's changes: the plugin's watch
   (IDLE_PUSH_SOURCE_WATCH), Dovecot's watch alone (_DOVECOT, see
   idle-storage.c) or the poll (_POLL, filesystem notifications can't be
   used or imap_idle_force_poll). */
enum idle_push_source
imap_idle_watch_primary(const struct imap_idle_watch *watch);

/* Drops the process-wide directory watches; plugin deinit. */
void imap_idle_watch_deinit(void);

#endif

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_WATCH_H
#define IDLE_WATCH_H

struct mailbox;
struct event;
struct idle_settings;

enum idle_watch_signal {
	/* Another process is in the middle of its commit (maildir uidlist
	   lock held); its release signals again. */
	IDLE_WATCH_SIGNAL_WRITER_BUSY = 0x01,
	/* The transaction log grew past what this client has synced: the
	   change was written by Dovecot, so syncing the index reports it. */
	IDLE_WATCH_SIGNAL_LOG_GREW = 0x02,
	/* Something changed outside the index (a maildir writer that
	   bypassed Dovecot, or Dovecot's own watch in formats other than
	   maildir and dbox): a full mailbox sync is needed. */
	IDLE_WATCH_SIGNAL_FULL_SYNC = 0x04,
};

/* Change sources for one idling client's selected mailbox.  The callback
   is never called from inside idle_watch_*() itself. */
typedef void idle_watch_callback_t(enum idle_watch_signal signal,
				   void *context);

struct idle_watch *
idle_watch_start(struct mailbox *box, const struct idle_settings *set,
		 struct event *event, idle_watch_callback_t *callback,
		 void *context);
void idle_watch_stop(struct idle_watch **watch);

/* Whether changes are worth a callback now (see
   idle_notify_policy_listening()); not listening lets the process sleep
   through a stream of writes: the directory watches stop, and so does
   Dovecot's own watch in a process serving one client.  The directory
   checks still report.  A sync's start listens again (on maildir a
   directory check follows it). */
void idle_watch_set_listening(struct idle_watch *watch, bool listening);

/* A sync of the mailbox begins. */
void idle_watch_sync_started(struct idle_watch *watch);
/* A sync finished successfully: the log position it reached is what
   later signals are compared with. */
void idle_watch_synced(struct idle_watch *watch);

/* Whether the mailbox changed since this watch last looked at it (or,
   maildir, a writer is in the middle of its commit): a burst goes on. */
bool idle_watch_still_changing(struct idle_watch *watch);

/* TRUE when this watch polls because filesystem notifications can't be
   used for this mailbox. */
bool idle_watch_is_polling(const struct idle_watch *watch);

/* Whether the client's mailbox state is what its last sync saw and the
   watch can be handed to imap-hibernate: Dovecot's own watch registered,
   not polling, no writer inside its commit, the log not grown, no
   directory check owed (maildir). */
bool idle_watch_quiet(struct idle_watch *watch);
/* maildir: another process holds dovecot-uidlist.lock. */
bool idle_watch_writer_busy(struct idle_watch *watch);

/* Drops the process-wide directory watches; plugin deinit. */
void idle_watch_deinit(void);

#endif

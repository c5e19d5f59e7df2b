/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_WATCH_H
#define IDLE_WATCH_H

struct mailbox;
struct event;
struct idle_settings;

/* Change sources for one idling client's selected mailbox.  The callback
   gets writer_busy = TRUE when another process is still in the middle of
   its commit (the release signals again).  It is never called from inside
   idle_watch_*() itself. */
typedef void idle_watch_callback_t(bool writer_busy, void *context);

struct idle_watch *
idle_watch_start(struct mailbox *box, const struct idle_settings *set,
		 struct event *event, idle_watch_callback_t *callback,
		 void *context);
void idle_watch_stop(struct idle_watch **watch);

/* A sync is about to start / has finished successfully: what the mailbox
   looked like then is what later signals are compared with. */
void idle_watch_sync_starting(struct idle_watch *watch);
void idle_watch_synced(struct idle_watch *watch);

/* TRUE when this watch polls because filesystem notifications can't be
   used for this mailbox. */
bool idle_watch_is_polling(const struct idle_watch *watch);

/* Drops the process-wide directory watches; plugin deinit. */
void idle_watch_deinit(void);

#endif

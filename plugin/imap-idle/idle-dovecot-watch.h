/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_DOVECOT_WATCH_H
#define IDLE_DOVECOT_WATCH_H

struct mailbox;
struct event;

/* Dovecot's own watch of a mailbox (mailbox_notify_changes()): kept
   because hibernation extracts it and it is Dovecot's fallback for
   changes no Dovecot process wrote (an external MDA into maildir new/).
   It fires 500 ms late.  On dbox it watches the transaction log, on
   maildir new/ and cur/. */

typedef void imap_idle_dovecot_watch_callback_t(void *context);

struct imap_idle_dovecot_watch {
	struct mailbox *box;
	imap_idle_dovecot_watch_callback_t *callback;
	void *context;
	/* its client's, for the callback (idle-ioloop-context.h) */
	struct ioloop_context *ioloop_ctx;
	bool started;
	/* stopped while its client isn't listening */
	bool paused;
};

void imap_idle_dovecot_watch_start(struct imap_idle_dovecot_watch *dw,
				   struct mailbox *box,
				   imap_idle_dovecot_watch_callback_t *callback,
				   void *context);
void imap_idle_dovecot_watch_stop(struct imap_idle_dovecot_watch *dw);

/* Stops the watch while its client doesn't listen, if the process
   serves only this client.  Returns TRUE if it was stopped. */
bool imap_idle_dovecot_watch_pause(struct imap_idle_dovecot_watch *dw);
/* Starts a paused watch again.  Returns TRUE if it was paused: what
   happened meanwhile is for the caller to look for. */
bool imap_idle_dovecot_watch_resume(struct imap_idle_dovecot_watch *dw);
/* Registers the watch again (not a paused one): another watch of the
   same path in this process was stopped, which removed the kernel watch
   they shared. */
void imap_idle_dovecot_watch_renew(struct imap_idle_dovecot_watch *dw);

/* Logs why a mailbox is watched with Dovecot's own watch only: a debug
   event each time, an info line rate-limited (idle-events.h). */
void imap_idle_dovecot_watch_log_only(struct event *event, const char *why);

#endif

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "master-service.h"
#include "mail-storage.h"
#include "log-limit.h"
#include "idle-events.h"
#include "idle-ioloop-context.h"
#include "idle-dovecot-watch.h"

/* Dovecot's watches of one path in a process share the kernel's watch
   descriptor, and removing any of them removes it for all.  Hence the
   pause only in a process serving one client (stopping would also take
   the watch of other sessions, NOTIFY or a built-in IDLE), and the renew
   after a neighbour stops. */

/* each client selecting such a mailbox would log it again */
static struct idle_log_limit watch_only_limit;

static void dovecot_notify(struct mailbox *box ATTR_UNUSED,
			   struct imap_idle_dovecot_watch *dw)
{
	/* Dovecot's delay timeout was added by an inotify callback */
	imap_idle_ioloop_context_call(dw->ioloop_ctx, dw->callback,
				      dw->context);
}

void imap_idle_dovecot_watch_start(struct imap_idle_dovecot_watch *dw,
				   struct mailbox *box,
				   imap_idle_dovecot_watch_callback_t *callback,
				   void *context)
{
	i_zero(dw);
	dw->box = box;
	dw->callback = callback;
	dw->context = context;
	dw->ioloop_ctx = imap_idle_ioloop_context_capture();
	dw->started = TRUE;
	mailbox_notify_changes(box, dovecot_notify, dw);
}

void imap_idle_dovecot_watch_stop(struct imap_idle_dovecot_watch *dw)
{
	if (!dw->started)
		return;
	dw->started = FALSE;
	imap_idle_ioloop_context_release(&dw->ioloop_ctx);
	mailbox_notify_changes_stop(dw->box);
}

bool imap_idle_dovecot_watch_pause(struct imap_idle_dovecot_watch *dw)
{
	if (!dw->started || dw->paused ||
	    master_service_get_client_limit(master_service) != 1)
		return FALSE;
	mailbox_notify_changes_stop(dw->box);
	dw->paused = TRUE;
	return TRUE;
}

bool imap_idle_dovecot_watch_resume(struct imap_idle_dovecot_watch *dw)
{
	if (!dw->paused)
		return FALSE;
	dw->paused = FALSE;
	mailbox_notify_changes(dw->box, dovecot_notify, dw);
	return TRUE;
}

void imap_idle_dovecot_watch_renew(struct imap_idle_dovecot_watch *dw)
{
	if (!dw->started || dw->paused)
		return;
	mailbox_notify_changes_stop(dw->box);
	mailbox_notify_changes(dw->box, dovecot_notify, dw);
}

void imap_idle_dovecot_watch_log_only(struct event *event, const char *why)
{
	const char *more;

	e_debug(event_create_passthrough(event)->
		set_name("imap_idle_dovecot_watch_only")->
		add_str("reason", why)->event(),
		"Watching the mailbox with Dovecot's own watch only: %s", why);
	if ((more = imap_idle_log_limited(&watch_only_limit)) == NULL)
		return;
	e_info(event, "%s, so idling clients of this process learn of "
	       "its changes as with Dovecot's own IDLE (a full sync on each "
	       "signal of Dovecot's watch, which comes 0.5 s late)%s", why,
	       more);
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "ioloop.h"
#include "mail-storage.h"
#include "idle-dovecot-private.h"
#include "idle-settings.h"
#include "idle-storage.h"
#include "idle-dir-watch.h"
#include "idle-dovecot-watch.h"
#include "idle-log-position.h"
#include "idle-maildir-writers.h"
#include "idle-poll.h"
#include "idle-clock.h"
#include "idle-watch.h"

/* Three change sources feed one callback:
   1. Dovecot's own watch (idle-dovecot-watch.c).  On maildir and dbox its
      signal is filtered like the others; elsewhere, and when the index is
      in memory, it is taken at face value (a full sync), as Dovecot's
      IDLE does.
   2. The shared watches of the mailbox's index and control directories
      (idle-dir-watch.c), which every Dovecot writer touches when it
      commits (dovecot.index.log, maildir's dovecot-uidlist.lock).  They
      are other paths than Dovecot's watch, so neither shadows the other.
      A client whose sync is owed at a deadline anyway stops listening
      until that sync: a mailbox under constant change wakes its idlers
      about once per sync instead of on every write.
   3. A poll timer (idle-poll.c), instead of 2 when the ioloop can't
      watch, or with imap_idle_force_poll.
   Signals are filtered: the mailbox changed only if its transaction log
   grew past the position this client's view last synced to
   (idle-log-position.c), or (maildir) new/ or cur/ holds a change no
   Dovecot process recorded (idle-maildir-writers.c); watch-check.c
   combines the two.  What the storage allows is decided once, in
   idle-storage.c. */

struct imap_idle_watch {
	struct mailbox *box;
	struct event *event;
	imap_idle_watch_callback_t *callback;
	void *context;
	const struct idle_settings *set;
	struct imap_idle_storage storage;

	struct imap_idle_dovecot_watch dovecot;
	/* the index and control directories (one if they are the same) */
	struct imap_idle_dir_sub *dirs[2];
	unsigned int dir_count;
	struct timeout *to_poll;
	struct timeout *to_dirs_check;
	struct imap_idle_log_position log;
	/* maildir with a shared index */
	struct imap_idle_maildir_writers *writers;

	/* maildir: check the directories when the writer's commit or this
	   client's sync ends */
	bool dirs_check_pending;
	bool syncing;
	bool polling;
	/* subscribed to the directory watches but not listening */
	bool muted;
};

static void dirs_check_timeout(struct imap_idle_watch *watch);

static void dirs_check_later(struct imap_idle_watch *watch,
			     unsigned int msecs)
{
	if (watch->to_dirs_check == NULL) {
		watch->to_dirs_check = timeout_add_short(msecs,
			dirs_check_timeout, watch);
	}
}

static void watch_notify(struct imap_idle_watch *watch,
			 enum idle_watch_signal signal,
			 enum idle_push_source source, uint64_t since_usecs)
{
	struct imap_idle_watch_change change = {
		.signal = signal,
		.source = source,
		.since_usecs = since_usecs,
	};

	watch->callback(&change, watch->context);
}

static void watch_check(struct imap_idle_watch *watch, bool include_dirs,
			enum idle_push_source source, uint64_t since_usecs)
{
	struct idle_watch_check_input input;
	struct idle_watch_check check;

	i_zero(&input);
	input.log_grew = imap_idle_log_position_grew(&watch->log, watch->box);
	input.writer_in_commit =
		imap_idle_maildir_writer_in_commit(watch->writers);
	input.include_dirs = include_dirs;
	input.has_dirs = watch->writers != NULL;
	input.dirs_check_pending = watch->dirs_check_pending;
	input.dirs_check_armed = watch->to_dirs_check != NULL;
	input.syncing = watch->syncing;
	idle_watch_check_plan(&input, &check);
	if (check.read_dirs) {
		idle_watch_check_dirs_done(&check,
			imap_idle_maildir_writers_check(watch->writers,
							watch->polling));
	}
	watch->dirs_check_pending = check.dirs_check_pending;
	if (check.arm_recheck)
		dirs_check_later(watch, IDLE_DIR_TRUST_RECHECK_MSECS);
	if (check.signal != 0)
		watch_notify(watch, check.signal, source, since_usecs);
}

static void dirs_check_timeout(struct imap_idle_watch *watch)
{
	timeout_remove(&watch->to_dirs_check);
	watch_check(watch, FALSE, IDLE_PUSH_SOURCE_RECHECK,
		    imap_idle_clock_monotonic_usecs());
}

static void dir_event(uint64_t read_usecs, void *context)
{
	struct imap_idle_watch *watch = context;

	watch_check(watch, FALSE, IDLE_PUSH_SOURCE_WATCH, read_usecs);
}

static void poll_timeout(void *context)
{
	struct imap_idle_watch *watch = context;

	watch_check(watch, TRUE, IDLE_PUSH_SOURCE_POLL,
		    imap_idle_clock_monotonic_usecs());
}

static void dovecot_watch_signal(void *context)
{
	struct imap_idle_watch *watch = context;
	uint64_t now = imap_idle_clock_monotonic_usecs();

	/* dbox: Dovecot watches the transaction log itself, through which
	   every change goes, so the log position says it all; maildir: the
	   log or the directories.  Otherwise: take it as is. */
	if (watch->storage.dovecot_watches_log ||
	    watch->storage.check_new_cur) {
		watch_check(watch, watch->storage.check_new_cur,
			    IDLE_PUSH_SOURCE_DOVECOT, now);
	} else {
		watch_notify(watch, IDLE_WATCH_SIGNAL_FULL_SYNC,
			     IDLE_PUSH_SOURCE_DOVECOT, now);
	}
}

static void watch_start_polling(struct imap_idle_watch *watch,
				const char *why)
{
	watch->polling = TRUE;
	watch->to_poll = imap_idle_poll_start(watch->set->poll_interval_msecs,
					      watch->event, why,
					      poll_timeout, watch);
}

static void watch_unsubscribe_dirs(struct imap_idle_watch *watch)
{
	while (watch->dir_count > 0)
		imap_idle_dir_watch_unsubscribe(&watch->dirs[--watch->dir_count]);
	watch->muted = FALSE;
}

/* Returns FALSE if the ioloop can't watch the directory. */
static bool watch_add_dir(struct imap_idle_watch *watch,
			  enum mailbox_list_path_type type)
{
	struct imap_idle_dir_sub *sub;
	const char *path;
	unsigned int i;

	if (imap_idle_storage_path(watch->box, type, &path) <= 0)
		return TRUE;
	for (i = 0; i < watch->dir_count; i++) {
		if (strcmp(imap_idle_dir_watch_path(watch->dirs[i]), path) == 0)
			return TRUE;
	}
	sub = imap_idle_dir_watch_subscribe(path, dir_event, watch);
	if (sub == NULL)
		return FALSE;
	watch->dirs[watch->dir_count++] = sub;
	return TRUE;
}

struct imap_idle_watch *
imap_idle_watch_start(struct mailbox *box, const struct idle_settings *set,
		      struct event *event,
		      imap_idle_watch_callback_t *callback, void *context)
{
	struct imap_idle_watch *watch;

	watch = i_new(struct imap_idle_watch, 1);
	watch->box = box;
	watch->event = event;
	watch->callback = callback;
	watch->context = context;
	watch->set = set;
	imap_idle_storage_get(box, &watch->storage);
	if (watch->storage.check_new_cur)
		watch->writers = imap_idle_maildir_writers_create(box);
	imap_idle_log_position_init(&watch->log);
	imap_idle_watch_synced(watch);
	imap_idle_dovecot_watch_start(&watch->dovecot, box,
				      dovecot_watch_signal, watch);

	if (watch->storage.dovecot_watch_only_reason != NULL) {
		imap_idle_dovecot_watch_log_only(event,
			watch->storage.dovecot_watch_only_reason);
		return watch;
	}
	if (set->force_poll) {
		watch_start_polling(watch, IMAP_IDLE_POLL_FORCED_REASON);
		return watch;
	}
	if (!watch_add_dir(watch, MAILBOX_LIST_PATH_TYPE_INDEX) ||
	    !watch_add_dir(watch, MAILBOX_LIST_PATH_TYPE_CONTROL) ||
	    watch->dir_count == 0) {
		watch_unsubscribe_dirs(watch);
		watch_start_polling(watch,
			"inotify instance or watch limit reached, or the "
			"filesystem has no notifications");
	}
	return watch;
}

static void dovecot_watch_renew(void *context)
{
	struct imap_idle_watch *watch = context;

	imap_idle_dovecot_watch_renew(&watch->dovecot);
}

void imap_idle_watch_stop(struct imap_idle_watch **_watch)
{
	struct imap_idle_watch *watch = *_watch;

	if (watch == NULL)
		return;
	*_watch = NULL;

	timeout_remove(&watch->to_poll);
	timeout_remove(&watch->to_dirs_check);
	imap_idle_dovecot_watch_stop(&watch->dovecot);
	/* that removed the kernel watch the other clients idling on this
	   mailbox in this process share (the subscribers of its index dir
	   are exactly them): without theirs again, they would hear of
	   changes Dovecot alone sees (an outside writer) only on the 30 s
	   mailbox_idle_check_interval */
	if (watch->dir_count > 0) {
		imap_idle_dir_watch_foreach_other(watch->dirs[0],
						  dovecot_watch_renew);
	}
	watch_unsubscribe_dirs(watch);
	imap_idle_maildir_writers_destroy(&watch->writers);
	i_free(watch);
}

void imap_idle_watch_sync_started(struct imap_idle_watch *watch)
{
	/* what changes from here on is news for the follow-up sync */
	imap_idle_watch_set_listening(watch, TRUE);
	watch->syncing = TRUE;
}

void imap_idle_watch_set_listening(struct imap_idle_watch *watch,
				   bool listening)
{
	unsigned int i;

	if (watch->muted != listening)
		return;
	if (!listening) {
		for (i = 0; i < watch->dir_count; i++)
			(void)imap_idle_dir_watch_listen(watch->dirs[i], FALSE);
		watch->muted = TRUE;
		/* while muted Dovecot's watch carries no news either: what it
		   would report, the owed sync or the directory check after it
		   finds */
		if (watch->dir_count > 0)
			(void)imap_idle_dovecot_watch_pause(&watch->dovecot);
		return;
	}
	watch->muted = FALSE;
	if (imap_idle_dovecot_watch_resume(&watch->dovecot) &&
	    watch->writers != NULL)
		watch->dirs_check_pending = TRUE;
	for (i = 0; i < watch->dir_count; i++) {
		if (!imap_idle_dir_watch_listen(watch->dirs[i], TRUE)) {
			/* the watch limit was reached meanwhile */
			watch_unsubscribe_dirs(watch);
			watch_start_polling(watch,
					    "inotify watch limit reached");
			return;
		}
	}
}

void imap_idle_watch_synced(struct imap_idle_watch *watch)
{
	watch->syncing = FALSE;
	if (watch->dirs_check_pending && watch->writers != NULL) {
		dirs_check_later(watch,
			imap_idle_maildir_writers_after_sync_msecs(
				watch->writers));
	}
	imap_idle_log_position_synced(&watch->log, watch->box);
}

bool imap_idle_watch_still_changing(struct imap_idle_watch *watch)
{
	if (imap_idle_maildir_writer_in_commit(watch->writers))
		return TRUE;
	return watch->storage.shared_index &&
		imap_idle_log_position_changed(&watch->log, watch->box);
}

bool imap_idle_watch_index_sync_suffices(const struct imap_idle_watch *watch)
{
	return watch->storage.index_sync_suffices;
}

bool imap_idle_watch_storage_sync_owed(struct imap_idle_watch *watch)
{
	return watch->writers != NULL &&
		imap_idle_maildir_writers_check(watch->writers,
						watch->polling) !=
		IDLE_DIR_CLEAN;
}

enum idle_push_source
imap_idle_watch_primary(const struct imap_idle_watch *watch)
{
	if (watch->polling)
		return IDLE_PUSH_SOURCE_POLL;
	if (watch->storage.dovecot_watch_only_reason != NULL)
		return IDLE_PUSH_SOURCE_DOVECOT;
	return IDLE_PUSH_SOURCE_WATCH;
}

void imap_idle_watch_deinit(void)
{
	imap_idle_dir_watch_deinit();
}

bool imap_idle_watch_quiet(struct imap_idle_watch *watch)
{
	return !watch->polling && !watch->muted &&
		!watch->dovecot.paused && watch->dovecot.started &&
		imap_idle_private_dovecot_watching(watch->box) &&
		!watch->dirs_check_pending && watch->to_dirs_check == NULL &&
		!imap_idle_maildir_writer_in_commit(watch->writers) &&
		!imap_idle_log_position_grew(&watch->log, watch->box);
}

bool imap_idle_watch_writer_busy(struct imap_idle_watch *watch)
{
	return imap_idle_maildir_writer_in_commit(watch->writers);
}

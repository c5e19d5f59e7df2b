/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "imap-common.h"
#include "array.h"
#include "ioloop.h"
#include "master-service.h"
#include "time-util.h"
#include "mail-storage-private.h"
#include "mail-index-private.h"
#include "mail-index-view-private.h"
#include "mail-transaction-log-private.h"
#include "maildir-storage.h"
#include "maildir-uidlist.h"
#include "maildir-sync.h"
#include "idle-settings.h"
#include "idle-watch.h"

#include <sys/stat.h>
#include <dirent.h>

/* Three change sources feed one callback:
   1. Dovecot's own watch (mailbox_notify_changes()): kept because
      hibernation extracts it and it is Dovecot's fallback for changes no
      Dovecot process wrote (an external MDA into maildir new/).  It fires
      500 ms late.  On dbox it watches the transaction log, on maildir
      new/ and cur/; there its signal is filtered like the others, in
      other formats taken at face value.
   2. A watch on the mailbox's index and control directories, which every
      Dovecot writer touches when it commits (dovecot.index.log, and for
      maildir the dovecot-uidlist.lock rename that ends a delivery).  These
      are other paths than Dovecot's own watch, so neither shadows the
      other, and they use the ioloop's one inotify instance, so an idling
      process needs no more instances than stock.  One inotify watch per
      directory serves every client of the process (the kernel hands out
      one wd per path and instance, and the ioloop calls only the first io
      of a wd), fanned out here to each subscriber.  A subscriber whose
      sync is owed at a deadline anyway stops listening until that sync
      (idle_watch_set_listening()); once none listens, the kernel watch
      is dropped, so a mailbox under constant change wakes its idlers
      about once per sync instead of on every write.
   3. A poll timer at imap_idle_poll_interval, used instead of 2 when the
      ioloop can't watch (inotify limits hit, or imap_idle_force_poll).
   Signals are filtered: the mailbox changed only if its transaction log
   grew past the position this client's view last synced to, or (maildir)
   new/ or cur/ holds a change no Dovecot process recorded.  That drops
   the events of this client's own writes without a race: the position
   comes from the view, so a commit that lands during a sync is still
   newer.  A change that is in the log needs only an index sync to be
   reported; the others need a full one (see idle-watch.h). */

struct idle_dir_watch {
	char *path;
	/* NULL while no subscriber listens */
	struct io *io;
	ARRAY(struct idle_watch *) subscribers;
	unsigned int listeners;
	/* events were read; they are looked at together (a commit raises
	   several at once, each a separate ioloop callback) */
	struct timeout *to_batch;
	/* fanning out an event: a subscriber's callback may unsubscribe the
	   last one, so freeing waits until the fan-out is over */
	bool fanning_out;
};

struct idle_watch {
	struct mailbox *box;
	struct event *event;
	idle_watch_callback_t *callback;
	void *context;
	const struct idle_settings *set;

	/* maildir only: exists while a writer is inside its commit */
	char *uidlist_lock_path;
	char *new_path, *cur_path;

	struct idle_dir_watch *dirs[2];
	unsigned int dir_count;
	struct timeout *to_poll;
	struct timeout *to_dirs_check;

	/* what the last sync saw */
	ino_t log_ino;
	uoff_t log_offset;
	bool log_position_known;
	/* the log as this watch last looked at it */
	ino_t looked_ino;
	off_t looked_size;

	/* maildir: new/ and cur/ as the last check found them holding
	   nothing unrecorded (while dirs_clean) */
	struct timespec clean_new_mtime, clean_cur_mtime;
	bool dirs_clean;
	/* maildir: a cur/ mtime the index header didn't have, since when */
	struct timespec cur_suspect_mtime;
	struct timeval cur_suspect_since;
	bool cur_suspect;
	/* maildir: when the directories were last read */
	struct timeval last_dirs_check;
	/* maildir: check the directories when the writer's commit or this
	   client's sync ends */
	bool dirs_check_pending;
	bool syncing;
	bool dovecot_watches_log;
	bool polling;
	/* subscribed to the directory watches but not listening */
	bool muted;
	/* Dovecot's own watch is stopped while muted */
	bool dovecot_watch_stopped;
};

#define FORCED_POLL_REASON "imap_idle_force_poll = yes"
#define POLL_SYNC_ROOM_MSECS 50
#define DIRS_CHECK_AFTER_SYNC_MSECS 20
/* a delivery burst asks for a check after every commit; new/ grows with
   it, and reading it for each would cost more than the syncs */
#define DIRS_CHECK_SPACING_MSECS 100
#define DIRS_RECHECK_MSECS 50
/* longer than a jiffy: see mtime_settled() */
#define MTIME_TICK_MSECS 20

static ARRAY(struct idle_dir_watch *) dir_watches = ARRAY_INIT;
static bool poll_warning_logged = FALSE;

/* maildir: another process holds dovecot-uidlist.lock */
static bool writer_in_commit(struct idle_watch *watch)
{
	struct stat st;

	return watch->uidlist_lock_path != NULL &&
		stat(watch->uidlist_lock_path, &st) == 0;
}

/* Returns FALSE if the log can't be looked at. */
static bool log_look(struct idle_watch *watch, struct stat *st_r)
{
	if (stat(watch->box->index->log->filepath, st_r) < 0) {
		watch->looked_size = -1;
		return FALSE;
	}
	watch->looked_ino = st_r->st_ino;
	watch->looked_size = st_r->st_size;
	return TRUE;
}

static bool log_grew(struct idle_watch *watch)
{
	struct stat st;

	if (!log_look(watch, &st) || !watch->log_position_known)
		return TRUE;
	return st.st_ino != watch->log_ino ||
		(uoff_t)st.st_size > watch->log_offset;
}

enum maildir_dirs_verdict {
	DIRS_CLEAN,
	/* maybe a writer between its rename and its record: look again */
	DIRS_UNSURE,
	/* something no Dovecot writer recorded: a full sync is owed */
	DIRS_UNRECORDED,
};

/* A Dovecot delivery renames its file into new/ before it lists the file
   in the uidlist, both under dovecot-uidlist.lock.  So a file the uidlist
   lacks is unrecorded only if it is still missing after the lock was seen
   free, from a uidlist read after that (a save that found the lock taken
   never lists its file; neither does a writer bypassing Dovecot). */
static enum maildir_dirs_verdict
maildir_check_new(struct idle_watch *watch, struct maildir_uidlist *uidlist)
{
	ARRAY_TYPE(const_string) unknown;
	const char *const *name;
	struct dirent *d;
	DIR *dir;
	uint32_t uid;

	if (maildir_uidlist_refresh(uidlist) < 0)
		return DIRS_UNRECORDED;
	if ((dir = opendir(watch->new_path)) == NULL)
		return errno == ENOENT ? DIRS_CLEAN : DIRS_UNRECORDED;
	t_array_init(&unknown, 4);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] != '.' &&
		    !maildir_uidlist_get_uid(uidlist, d->d_name, &uid)) {
			const char *copy = t_strdup(d->d_name);
			array_push_back(&unknown, &copy);
		}
	}
	(void)closedir(dir);
	if (array_count(&unknown) == 0)
		return DIRS_CLEAN;
	if (writer_in_commit(watch))
		return DIRS_UNSURE;
	if (maildir_uidlist_refresh(uidlist) < 0)
		return DIRS_UNRECORDED;
	array_foreach(&unknown, name) {
		if (!maildir_uidlist_get_uid(uidlist, *name, &uid))
			return DIRS_UNRECORDED;
	}
	return DIRS_CLEAN;
}

static bool timespec_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* A Dovecot sync that renames files in cur/ stores cur/'s new mtime in
   the index header when it ends, so a difference is believed only once
   the same cur/ mtime has gone unrecorded for DIRS_RECHECK_MSECS. */
static enum maildir_dirs_verdict
maildir_check_cur(struct idle_watch *watch, const struct stat *cur_st)
{
	struct maildir_mailbox *mbox = MAILDIR_MAILBOX(watch->box);
	bool suspected;

	if (maildir_sync_header_refresh(mbox) < 0)
		return DIRS_UNRECORDED;
	if ((uint32_t)cur_st->st_mtime == mbox->maildir_hdr.cur_mtime &&
	    (uint32_t)ST_MTIME_NSEC(*cur_st) ==
	    mbox->maildir_hdr.cur_mtime_nsecs) {
		watch->cur_suspect = FALSE;
		return DIRS_CLEAN;
	}
	suspected = watch->cur_suspect &&
		timespec_equal(&cur_st->st_mtim, &watch->cur_suspect_mtime);
	if (suspected && timeval_diff_msecs(&ioloop_timeval,
			&watch->cur_suspect_since) >= DIRS_RECHECK_MSECS) {
		watch->cur_suspect = FALSE;
		return DIRS_UNRECORDED;
	}
	if (!suspected) {
		watch->cur_suspect = TRUE;
		watch->cur_suspect_mtime = cur_st->st_mtim;
		watch->cur_suspect_since = ioloop_timeval;
	}
	return DIRS_UNSURE;
}

/* Whether a change after now would give the directory another mtime: not
   within the timestamp tick of its current one, which is a second on some
   filesystems and a jiffy (at most 10 ms) on those with sub-second
   timestamps.  Local ones stamp from the clock ioloop_timeval reads; a
   polled one may be remote, with another clock, so it gets the second. */
static bool mtime_settled(const struct idle_watch *watch,
			  const struct stat *st)
{
	struct timeval mtime;

	if (st->st_mtim.tv_nsec == 0 || watch->polling)
		return st->st_mtime < ioloop_time - 1;
	mtime.tv_sec = st->st_mtim.tv_sec;
	mtime.tv_usec = st->st_mtim.tv_nsec / 1000;
	return timeval_diff_msecs(&ioloop_timeval, &mtime) >=
		MTIME_TICK_MSECS;
}

/* Whether maildir holds what only a full sync finds.  Dovecot's own
   writers record everything they do: a delivery is in the uidlist and the
   index when it commits (its file may stay in new/, and moving it to cur/
   is no news to anyone), and a sync that renames files in cur/ stores the
   resulting cur/ mtime in the index header.  So a full sync is owed only
   for a file in new/ that the uidlist doesn't know, or a cur/ mtime that
   no sync recorded: a writer that bypassed Dovecot.  Checking this instead
   of "new/ is not empty" keeps idlers of one mailbox from all queueing on
   the uidlist lock to move each delivery into cur/.
   Directories that haven't changed since a check found them clean are
   still clean: the steady state of a poll costs two stat()s (see
   mtime_settled()). */
static enum maildir_dirs_verdict maildir_dirs_check(struct idle_watch *watch)
{
	struct maildir_mailbox *mbox = MAILDIR_MAILBOX(watch->box);
	enum maildir_dirs_verdict verdict;
	struct stat new_st, cur_st;

	if (stat(watch->new_path, &new_st) < 0 ||
	    stat(watch->cur_path, &cur_st) < 0) {
		watch->dirs_clean = FALSE;
		return DIRS_UNRECORDED;
	}
	if (watch->dirs_clean &&
	    timespec_equal(&new_st.st_mtim, &watch->clean_new_mtime) &&
	    timespec_equal(&cur_st.st_mtim, &watch->clean_cur_mtime))
		return DIRS_CLEAN;
	watch->last_dirs_check = ioloop_timeval;
	T_BEGIN {
		verdict = maildir_check_cur(watch, &cur_st);
		if (verdict == DIRS_CLEAN)
			verdict = maildir_check_new(watch, mbox->uidlist);
	} T_END;
	watch->dirs_clean = verdict == DIRS_CLEAN &&
		mtime_settled(watch, &new_st) && mtime_settled(watch, &cur_st);
	watch->clean_new_mtime = new_st.st_mtim;
	watch->clean_cur_mtime = cur_st.st_mtim;
	return verdict;
}

static void dirs_check_timeout(struct idle_watch *watch);

static void watch_dirs_check_later(struct idle_watch *watch,
				   unsigned int msecs)
{
	if (watch->to_dirs_check == NULL) {
		watch->to_dirs_check = timeout_add_short(msecs,
			dirs_check_timeout, watch);
	}
}

/* Returns TRUE if a full sync is owed; when unsure, looks again soon. */
static bool watch_dirs_unrecorded(struct idle_watch *watch)
{
	switch (maildir_dirs_check(watch)) {
	case DIRS_CLEAN:
		break;
	case DIRS_UNSURE:
		watch->dirs_check_pending = TRUE;
		watch_dirs_check_later(watch, DIRS_RECHECK_MSECS);
		break;
	case DIRS_UNRECORDED:
		return TRUE;
	}
	return FALSE;
}

static void watch_check(struct idle_watch *watch, bool include_dirs)
{
	enum idle_watch_signal signal = 0;

	if (log_grew(watch))
		signal |= IDLE_WATCH_SIGNAL_LOG_GREW;
	if (writer_in_commit(watch)) {
		signal |= IDLE_WATCH_SIGNAL_WRITER_BUSY;
		/* look at the directories once the commit is over: mid-commit
		   its files are in new/ before the uidlist lists them, and a
		   save that found the lock taken leaves its file there
		   unlisted, with nothing but new/ changing */
		watch->dirs_check_pending = TRUE;
	} else if (include_dirs || (watch->dirs_check_pending &&
				    watch->to_dirs_check == NULL)) {
		/* after this client's sync: not while it waits for output
		   (refreshing index and uidlist belongs between syncs), and
		   not ahead of the sync the log asks for (EXISTS first) */
		watch->dirs_check_pending = watch->syncing ||
			(signal & IDLE_WATCH_SIGNAL_LOG_GREW) != 0;
		if (!watch->dirs_check_pending && watch->new_path != NULL &&
		    watch_dirs_unrecorded(watch))
			signal |= IDLE_WATCH_SIGNAL_FULL_SYNC;
	}
	if (signal != 0)
		watch->callback(signal, watch->context);
}

/* --- 2. shared directory watches ---------------------------------------- */

static bool dir_watch_has(struct idle_dir_watch *dir, struct idle_watch *watch)
{
	struct idle_watch *const *w;

	array_foreach(&dir->subscribers, w) {
		if (*w == watch)
			return TRUE;
	}
	return FALSE;
}

static void dir_watch_free(struct idle_dir_watch *dir);

static void dir_watch_event(struct idle_dir_watch *dir)
{
	ARRAY(struct idle_watch *) snapshot;
	struct idle_watch *const *w;

	/* a callback may stop watches (its client may finish or be
	   destroyed), so walk a copy and skip the ones gone since */
	t_array_init(&snapshot, array_count(&dir->subscribers));
	array_append_array(&snapshot, &dir->subscribers);
	dir->fanning_out = TRUE;
	array_foreach(&snapshot, w) {
		if (dir_watch_has(dir, *w) && !(*w)->muted)
			watch_check(*w, FALSE);
	}
	dir->fanning_out = FALSE;
	if (array_count(&dir->subscribers) == 0)
		dir_watch_free(dir);
}

static void dir_watch_batch(struct idle_dir_watch *dir)
{
	timeout_remove(&dir->to_batch);
	T_BEGIN {
		dir_watch_event(dir);
	} T_END;
}

static void dir_watch_input(struct idle_dir_watch *dir)
{
	/* the timeout runs right after the events of this read */
	if (dir->to_batch == NULL)
		dir->to_batch = timeout_add_short(0, dir_watch_batch, dir);
}

static struct idle_dir_watch *dir_watch_find(const char *path)
{
	struct idle_dir_watch *const *d;

	if (!array_is_created(&dir_watches))
		return NULL;
	array_foreach(&dir_watches, d) {
		if (strcmp((*d)->path, path) == 0)
			return *d;
	}
	return NULL;
}

static void dir_watch_free(struct idle_dir_watch *dir)
{
	struct idle_dir_watch *const *d;

	array_foreach(&dir_watches, d) {
		if (*d == dir) {
			array_delete(&dir_watches,
				     array_foreach_idx(&dir_watches, d), 1);
			break;
		}
	}
	io_remove(&dir->io);
	timeout_remove(&dir->to_batch);
	array_free(&dir->subscribers);
	i_free(dir->path);
	i_free(dir);
}

static bool dir_watch_listen(struct idle_dir_watch *dir)
{
	if (dir->listeners++ > 0)
		return TRUE;
	if (io_add_notify(dir->path, dir_watch_input, dir, &dir->io) ==
	    IO_NOTIFY_ADDED)
		return TRUE;
	dir->listeners--;
	return FALSE;
}

static void dir_watch_unlisten(struct idle_dir_watch *dir)
{
	i_assert(dir->listeners > 0);
	if (--dir->listeners == 0)
		io_remove(&dir->io);
}

/* Returns FALSE if the ioloop can't watch path. */
static bool dir_watch_subscribe(struct idle_watch *watch, const char *path)
{
	struct idle_dir_watch *dir = dir_watch_find(path);

	if (dir == NULL) {
		dir = i_new(struct idle_dir_watch, 1);
		dir->path = i_strdup(path);
		if (!dir_watch_listen(dir)) {
			i_free(dir->path);
			i_free(dir);
			return FALSE;
		}
		i_array_init(&dir->subscribers, 4);
		if (!array_is_created(&dir_watches))
			i_array_init(&dir_watches, 16);
		array_push_back(&dir_watches, &dir);
	} else if (!dir_watch_listen(dir))
		return FALSE;
	array_push_back(&dir->subscribers, &watch);
	watch->dirs[watch->dir_count++] = dir;
	return TRUE;
}

static void dir_watch_unsubscribe(struct idle_watch *watch,
				  struct idle_dir_watch *dir)
{
	struct idle_watch *const *w;

	array_foreach(&dir->subscribers, w) {
		if (*w == watch) {
			array_delete(&dir->subscribers,
				     array_foreach_idx(&dir->subscribers, w), 1);
			break;
		}
	}
	if (!watch->muted)
		dir_watch_unlisten(dir);
	if (array_count(&dir->subscribers) == 0 && !dir->fanning_out)
		dir_watch_free(dir);
}

static void watch_unsubscribe_dirs(struct idle_watch *watch)
{
	while (watch->dir_count > 0)
		dir_watch_unsubscribe(watch, watch->dirs[--watch->dir_count]);
	watch->muted = FALSE;
}

/* --- 1. Dovecot's own watch, 3. polling ---------------------------------- */

static void dovecot_notify_callback(struct mailbox *box ATTR_UNUSED,
				    struct idle_watch *watch)
{
	/* dbox: Dovecot watches the transaction log itself, through which
	   every change goes, so the log position says it all; maildir: the
	   log or the directories (see maildir_dirs_check()).  Other
	   formats: take it as is. */
	if (watch->dovecot_watches_log || watch->new_path != NULL)
		watch_check(watch, watch->new_path != NULL);
	else
		watch->callback(IDLE_WATCH_SIGNAL_FULL_SYNC, watch->context);
}

static void poll_timeout(struct idle_watch *watch)
{
	watch_check(watch, TRUE);
}

static void dirs_check_timeout(struct idle_watch *watch)
{
	timeout_remove(&watch->to_dirs_check);
	watch_check(watch, FALSE);
}

static void log_poll_fallback(struct idle_watch *watch, const char *why)
{
	e_debug(event_create_passthrough(watch->event)->
		set_name("imap_idle_poll_fallback")->
		add_str("reason", why)->event(),
		"Polling the mailbox for changes: %s", why);
	if (poll_warning_logged || strcmp(why, FORCED_POLL_REASON) == 0)
		return;
	poll_warning_logged = TRUE;
	e_warning(watch->event,
		  "Filesystem notifications are unavailable (%s), so idling "
		  "clients of this process learn of changes by polling every "
		  "imap_idle_poll_interval. Fix: raise the inotify limits, "
		  "e.g. sysctl -w fs.inotify.max_user_instances=8192 "
		  "fs.inotify.max_user_watches=1048576 (the instance limit "
		  "must exceed the number of imap processes per mail uid)",
		  why);
}

/* imap_idle_poll_interval bounds how long a change waits to be reported,
   so polls come a little more often: the sync a poll starts needs room. */
static unsigned int poll_period_msecs(const struct idle_settings *set)
{
	unsigned int room = set->poll_interval_msecs / 20;

	if (room > POLL_SYNC_ROOM_MSECS)
		room = POLL_SYNC_ROOM_MSECS;
	return set->poll_interval_msecs - room;
}

static void watch_start_polling(struct idle_watch *watch,
				const struct idle_settings *set,
				const char *why)
{
	watch->polling = TRUE;
	watch->to_poll = timeout_add(poll_period_msecs(set),
				     poll_timeout, watch);
	log_poll_fallback(watch, why);
}

/* --- lifecycle ------------------------------------------------------------ */

static void watch_add_dir(struct idle_watch *watch,
			  enum mailbox_list_path_type type, bool *failed)
{
	const char *path;
	unsigned int i;

	if (*failed || mailbox_get_path_to(watch->box, type, &path) <= 0)
		return;
	for (i = 0; i < watch->dir_count; i++) {
		if (strcmp(watch->dirs[i]->path, path) == 0)
			return;
	}
	if (!dir_watch_subscribe(watch, path))
		*failed = TRUE;
}

struct idle_watch *
idle_watch_start(struct mailbox *box, const struct idle_settings *set,
		 struct event *event, idle_watch_callback_t *callback,
		 void *context)
{
	struct idle_watch *watch;
	const char *control_dir;
	bool failed = FALSE;

	watch = i_new(struct idle_watch, 1);
	watch->box = box;
	watch->event = event;
	watch->callback = callback;
	watch->context = context;
	watch->set = set;
	watch->looked_size = -1;

	if (strcmp(box->storage->name, "maildir") == 0) {
		const char *box_path = mailbox_get_path(box);

		watch->new_path = i_strconcat(box_path, "/new", NULL);
		watch->cur_path = i_strconcat(box_path, "/cur", NULL);
		if (mailbox_get_path_to(box, MAILBOX_LIST_PATH_TYPE_CONTROL,
					&control_dir) > 0) {
			watch->uidlist_lock_path = i_strconcat(control_dir,
				"/dovecot-uidlist.lock", NULL);
		}
	}
	watch->dovecot_watches_log =
		strcmp(box->storage->name, "sdbox") == 0 ||
		strcmp(box->storage->name, "mdbox") == 0;
	idle_watch_synced(watch);

	mailbox_notify_changes(box, dovecot_notify_callback, watch);

	if (set->force_poll) {
		watch_start_polling(watch, set, FORCED_POLL_REASON);
		return watch;
	}
	watch_add_dir(watch, MAILBOX_LIST_PATH_TYPE_INDEX, &failed);
	watch_add_dir(watch, MAILBOX_LIST_PATH_TYPE_CONTROL, &failed);
	if (failed || watch->dir_count == 0) {
		watch_unsubscribe_dirs(watch);
		watch_start_polling(watch, set,
			"inotify instance or watch limit reached, or the "
			"filesystem has no notifications");
	}
	return watch;
}

/* Dovecot's watches of one path in a process share the kernel's watch
   descriptor, and removing any of them removes it for all: once one
   client stops, the other clients idling on this mailbox would hear of
   changes Dovecot alone sees (an outside writer) only on the 30 s
   mailbox_idle_check_interval.  So they register theirs again.  (The
   subscribers of the mailbox's index dir watch are exactly them.) */
static void dovecot_watches_renew(struct idle_watch *stopped)
{
	struct idle_dir_watch *dir;
	struct idle_watch *const *w;

	if (stopped->dir_count == 0)
		return;
	dir = stopped->dirs[0];
	array_foreach(&dir->subscribers, w) {
		if (*w == stopped || (*w)->dovecot_watch_stopped)
			continue;
		mailbox_notify_changes_stop((*w)->box);
		mailbox_notify_changes((*w)->box, dovecot_notify_callback, *w);
	}
}

void idle_watch_stop(struct idle_watch **_watch)
{
	struct idle_watch *watch = *_watch;

	if (watch == NULL)
		return;
	*_watch = NULL;

	timeout_remove(&watch->to_poll);
	timeout_remove(&watch->to_dirs_check);
	mailbox_notify_changes_stop(watch->box);
	dovecot_watches_renew(watch);
	watch_unsubscribe_dirs(watch);
	i_free(watch->uidlist_lock_path);
	i_free(watch->new_path);
	i_free(watch->cur_path);
	i_free(watch);
}

void idle_watch_sync_started(struct idle_watch *watch)
{
	/* what changes from here on is news for the follow-up sync */
	idle_watch_set_listening(watch, TRUE);
	watch->syncing = TRUE;
}

/* Dovecot's watch wakes the process on every write into new/ and cur/
   (stock's idlers pay that too).  While muted it carries no news either:
   what it would report, the owed sync or the directory check after it
   (maildir) finds.  Only stopped in a process that serves one client:
   stopping removes the kernel watch that all of the process's watches of
   the path share, other sessions' (NOTIFY, a built-in IDLE) included. */
static void dovecot_watch_pause(struct idle_watch *watch)
{
	if (watch->dir_count == 0 ||
	    master_service_get_client_limit(master_service) != 1)
		return;
	mailbox_notify_changes_stop(watch->box);
	watch->dovecot_watch_stopped = TRUE;
}

static void dovecot_watch_resume(struct idle_watch *watch)
{
	if (!watch->dovecot_watch_stopped)
		return;
	watch->dovecot_watch_stopped = FALSE;
	mailbox_notify_changes(watch->box, dovecot_notify_callback, watch);
	if (watch->new_path != NULL)
		watch->dirs_check_pending = TRUE;
}

void idle_watch_set_listening(struct idle_watch *watch, bool listening)
{
	unsigned int i;

	if (watch->muted != listening)
		return;
	if (!listening) {
		for (i = 0; i < watch->dir_count; i++)
			dir_watch_unlisten(watch->dirs[i]);
		watch->muted = TRUE;
		dovecot_watch_pause(watch);
		return;
	}
	watch->muted = FALSE;
	dovecot_watch_resume(watch);
	for (i = 0; i < watch->dir_count; i++) {
		if (!dir_watch_listen(watch->dirs[i])) {
			/* the watch limit was reached meanwhile */
			while (i > 0)
				dir_watch_unlisten(watch->dirs[--i]);
			watch->muted = TRUE;
			watch_unsubscribe_dirs(watch);
			watch_start_polling(watch, watch->set,
				"inotify watch limit reached");
			return;
		}
	}
}

/* DIRS_CHECK_AFTER_SYNC, or later if that would be sooner than
   DIRS_CHECK_SPACING after the last check. */
static unsigned int
dirs_check_after_sync_msecs(const struct idle_watch *watch)
{
	int since;

	if (watch->last_dirs_check.tv_sec == 0)
		return DIRS_CHECK_AFTER_SYNC_MSECS;
	since = timeval_diff_msecs(&ioloop_timeval, &watch->last_dirs_check);
	if (since >= 0 &&
	    since < DIRS_CHECK_SPACING_MSECS - DIRS_CHECK_AFTER_SYNC_MSECS)
		return DIRS_CHECK_SPACING_MSECS - since;
	return DIRS_CHECK_AFTER_SYNC_MSECS;
}

void idle_watch_synced(struct idle_watch *watch)
{
	struct mail_transaction_log_file *head;
	struct mail_index_view *view = watch->box->view;

	watch->syncing = FALSE;
	if (watch->dirs_check_pending) {
		/* a little later: the writer whose commit asked for it is
		   still finishing (LMTP has yet to answer), and this is only
		   a check for a save that found the uidlist locked or a
		   writer that bypassed the index */
		watch_dirs_check_later(watch,
				       dirs_check_after_sync_msecs(watch));
	}
	watch->log_position_known = FALSE;
	if (view == NULL || watch->box->index == NULL ||
	    watch->box->index->log == NULL)
		return;
	head = watch->box->index->log->head;
	if (head == NULL || head->fd == -1 ||
	    head->hdr.file_seq != view->log_file_head_seq)
		return;
	watch->log_ino = head->st_ino;
	watch->log_offset = view->log_file_head_offset;
	watch->log_position_known = TRUE;
}

bool idle_watch_still_changing(struct idle_watch *watch)
{
	ino_t ino = watch->looked_ino;
	off_t size = watch->looked_size;
	struct stat st;

	if (writer_in_commit(watch))
		return TRUE;
	return !log_look(watch, &st) || size == -1 ||
		st.st_ino != ino || st.st_size != size;
}

bool idle_watch_is_polling(const struct idle_watch *watch)
{
	return watch->polling;
}

void idle_watch_deinit(void)
{
	struct idle_dir_watch *const *d;

	if (!array_is_created(&dir_watches))
		return;
	/* clients are gone by now; anything left is a leak we clean up */
	while (array_count(&dir_watches) > 0) {
		d = array_front(&dir_watches);
		dir_watch_free(*d);
	}
	array_free(&dir_watches);
}

bool idle_watch_quiet(struct idle_watch *watch)
{
	return !watch->polling && !watch->muted &&
		!watch->dovecot_watch_stopped &&
		watch->box->notify_files != NULL &&
		!watch->dirs_check_pending && watch->to_dirs_check == NULL &&
		!writer_in_commit(watch) && !log_grew(watch);
}

bool idle_watch_writer_busy(struct idle_watch *watch)
{
	return writer_in_commit(watch);
}

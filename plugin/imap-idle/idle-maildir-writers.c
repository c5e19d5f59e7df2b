/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "array.h"
#include "mail-storage.h"
#include "watch-schedule.h"
#include "idle-clock.h"
#include "idle-dovecot-private.h"
#include "idle-storage.h"
#include "idle-maildir-writers.h"

#include <sys/stat.h>
#include <dirent.h>

/* Dovecot's own writers record everything they do: a delivery is in the
   uidlist and the index when it commits (its file may stay in new/, and
   moving it to cur/ is no news to anyone), and a sync that renames files
   in cur/ stores the resulting cur/ mtime in the index header.  So a
   full sync is owed only for a file in new/ that the uidlist doesn't
   know, or a cur/ mtime that no sync recorded: a writer that bypassed
   Dovecot.  Checking this instead of "new/ is not empty" keeps idlers of
   one mailbox from all queueing on the uidlist lock to move each delivery
   into cur/.  Directories that haven't changed since a check found them
   clean are still clean (once their mtimes settled, see dir-trust.h): the
   steady state of a poll costs two stat()s. */

struct imap_idle_maildir_writers {
	struct mailbox *box;
	/* exists while a writer is inside its commit */
	char *uidlist_lock_path;
	char *new_path, *cur_path;

	/* new/ and cur/ as the last check found them holding nothing
	   unrecorded (while dirs_clean) */
	struct timespec clean_new_mtime, clean_cur_mtime;
	bool dirs_clean;
	struct idle_dir_trust_cur cur_trust;
	/* when the directories were last read (monotonic) */
	uint64_t last_read_msecs;
	bool read_before;
};

struct imap_idle_maildir_writers *
imap_idle_maildir_writers_create(struct mailbox *box)
{
	struct imap_idle_maildir_writers *w;
	struct imap_idle_maildir_paths paths;

	w = i_new(struct imap_idle_maildir_writers, 1);
	w->box = box;
	T_BEGIN {
		imap_idle_storage_maildir_paths(box, &paths);
		w->new_path = i_strdup(paths.new_path);
		w->cur_path = i_strdup(paths.cur_path);
		w->uidlist_lock_path = i_strdup(paths.uidlist_lock_path);
	} T_END;
	return w;
}

void imap_idle_maildir_writers_destroy(struct imap_idle_maildir_writers **_w)
{
	struct imap_idle_maildir_writers *w = *_w;

	if (w == NULL)
		return;
	*_w = NULL;
	i_free(w->uidlist_lock_path);
	i_free(w->new_path);
	i_free(w->cur_path);
	i_free(w);
}

bool imap_idle_maildir_writer_in_commit(struct imap_idle_maildir_writers *w)
{
	struct stat st;

	return w != NULL && w->uidlist_lock_path != NULL &&
		stat(w->uidlist_lock_path, &st) == 0;
}

/* A Dovecot delivery renames its file into new/ before it lists the file
   in the uidlist, both under dovecot-uidlist.lock.  So a file the uidlist
   lacks is unrecorded only if it is still missing after the lock was seen
   free, from a uidlist read after that (a save that found the lock taken
   never lists its file; neither does a writer bypassing Dovecot). */
static enum idle_dir_verdict
check_new(struct imap_idle_maildir_writers *w)
{
	ARRAY_TYPE(const_string) unknown;
	const char *const *name;
	struct dirent *d;
	DIR *dir;

	if (imap_idle_private_maildir_uidlist_refresh(w->box) < 0)
		return IDLE_DIR_UNRECORDED;
	if ((dir = opendir(w->new_path)) == NULL)
		return errno == ENOENT ? IDLE_DIR_CLEAN : IDLE_DIR_UNRECORDED;
	t_array_init(&unknown, 4);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] != '.' &&
		    !imap_idle_private_maildir_uidlist_has(w->box, d->d_name)) {
			const char *copy = t_strdup(d->d_name);
			array_push_back(&unknown, &copy);
		}
	}
	(void)closedir(dir);
	if (array_count(&unknown) == 0)
		return IDLE_DIR_CLEAN;
	if (imap_idle_maildir_writer_in_commit(w))
		return IDLE_DIR_UNSURE;
	if (imap_idle_private_maildir_uidlist_refresh(w->box) < 0)
		return IDLE_DIR_UNRECORDED;
	array_foreach(&unknown, name) {
		if (!imap_idle_private_maildir_uidlist_has(w->box, *name))
			return IDLE_DIR_UNRECORDED;
	}
	return IDLE_DIR_CLEAN;
}

static enum idle_dir_verdict
check_cur(struct imap_idle_maildir_writers *w, const struct stat *cur_st)
{
	bool recorded;

	if (imap_idle_private_maildir_cur_recorded(w->box, cur_st,
						   &recorded) < 0)
		return IDLE_DIR_UNRECORDED;
	return idle_dir_trust_cur_check(&w->cur_trust,
		(int64_t)cur_st->st_mtim.tv_sec * 1000000000 +
		cur_st->st_mtim.tv_nsec, recorded,
		imap_idle_clock_monotonic_msecs());
}

static bool timespec_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool mtime_settled(const struct stat *st, bool remote_clock,
			  int64_t now_msecs)
{
	return idle_dir_trust_mtime_settled(
		(int64_t)st->st_mtim.tv_sec * 1000 +
		st->st_mtim.tv_nsec / 1000000,
		st->st_mtim.tv_nsec == 0 || remote_clock, now_msecs);
}

enum idle_dir_verdict
imap_idle_maildir_writers_check(struct imap_idle_maildir_writers *w,
				bool remote_clock)
{
	enum idle_dir_verdict verdict;
	struct stat new_st, cur_st;
	/* read before the stat()s: a timestamp compared with it is never
	   older than it looks */
	int64_t now = imap_idle_clock_wall_msecs();

	if (w->new_path == NULL || stat(w->new_path, &new_st) < 0 ||
	    stat(w->cur_path, &cur_st) < 0) {
		w->dirs_clean = FALSE;
		return IDLE_DIR_UNRECORDED;
	}
	if (w->dirs_clean &&
	    timespec_equal(&new_st.st_mtim, &w->clean_new_mtime) &&
	    timespec_equal(&cur_st.st_mtim, &w->clean_cur_mtime))
		return IDLE_DIR_CLEAN;
	w->last_read_msecs = imap_idle_clock_monotonic_msecs();
	w->read_before = TRUE;
	T_BEGIN {
		verdict = check_cur(w, &cur_st);
		if (verdict == IDLE_DIR_CLEAN)
			verdict = check_new(w);
	} T_END;
	w->dirs_clean = verdict == IDLE_DIR_CLEAN &&
		mtime_settled(&new_st, remote_clock, now) &&
		mtime_settled(&cur_st, remote_clock, now);
	w->clean_new_mtime = new_st.st_mtim;
	w->clean_cur_mtime = cur_st.st_mtim;
	return verdict;
}

unsigned int
imap_idle_maildir_writers_after_sync_msecs(struct imap_idle_maildir_writers *w)
{
	return idle_watch_schedule_dirs_check_msecs(w->read_before,
		w->last_read_msecs, imap_idle_clock_monotonic_msecs());
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* fallocate() */
#define _GNU_SOURCE

#include "imap-common.h"
#include "str.h"
#include "strnum.h"
#include "istream.h"
#include "ostream.h"
#include "ioloop.h"
#include "imap-client.h"
#include "hostpid.h"
#include "mail-storage.h"
#include "hibernate-quiet.h"
#include "idle-clock.h"
#include "idle-dovecot-private.h"
#include "idle-storage.h"
#include "idle-hibernate.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

/* Hibernation goes through Dovecot's own imap_client_hibernate(): it
   exports the state, extracts Dovecot's mailbox watch into a new inotify
   instance and hands the connection to imap-hibernate, which wakes the
   client into a new imap process on any event of that instance or on
   input.  Dovecot does not retry a refusal; here a transient one (output
   pending, an interrupted hand-off) is retried with backoff, a lasting
   one is logged once per process and the client stays with the plugin.

   The hand-off window: the export happens before the extracted watches
   exist, so a change that lands in between raises no event in
   imap-hibernate.  On maildir a delivery renames into new/ under
   dovecot-uidlist.lock and commits uidlist and index afterwards, in
   directories imap-hibernate doesn't watch: the client would sleep
   through it.  So the paths Dovecot watches are looked at before the
   hand-off and again after it, when the new watches exist; if anything
   moved (or a writer is inside its commit), the plugin raises an event
   on a watched path that changes nothing in the mailbox: see
   wake_maildir() and wake_log(). */

#define IMAP_MASTER_SOCKET "imap-master"
#define IMAP_HIBERNATE_SOCKET "imap-hibernate"
#define MEMO_FIELD IMAP_IDLE_HIBERNATE_MEMO_FIELD"="
#define RETRY_MAX_MSECS (60 * 1000)
#define MASTER_FIX "service imap { unix_listener imap-master { " \
	"user = $default_internal_user } }"

struct idle_hibernate {
	struct client *client;
	struct event *event;
	idle_hibernate_ready_t *ready;
	void *context;
	struct timeout *to;
	unsigned int quiet_msecs;
	unsigned int refusals;
	/* a lasting refusal: this IDLE stays in the process */
	bool given_up;
};

/* what a hand-off's window is checked against */
struct hibernate_paths {
	/* maildir's; all NULL for other storages */
	struct imap_idle_maildir_paths maildir;
	const char *log_path;
	struct stat new_st, cur_st, log_st;
};

enum master_check {
	MASTER_UNCHECKED = 0,
	MASTER_USABLE,
	MASTER_UNUSABLE,
};

static enum master_check master_check = MASTER_UNCHECKED;
static bool lasting_logged = FALSE;

/* The memo crosses processes (and the time spent in imap-hibernate), so
   it is stamped with the shell's wall clock, not the monotonic one. */
static uint64_t wall_msecs(void)
{
	return (uint64_t)imap_idle_clock_wall_msecs();
}

static bool is_memo_field(const char *field)
{
	return strncmp(field, MEMO_FIELD, strlen(MEMO_FIELD)) == 0;
}

/* The memo of the last hibernation travels with the client through
   imap-hibernate as a userdb field ("quiet_msecs:unix_msecs"), which
   comes back in the woken client's userdb_fields. */
static const char *memo_get(struct client *client)
{
	const char *const *f;

	for (f = client->userdb_fields; f != NULL && *f != NULL; f++) {
		if (is_memo_field(*f))
			return *f + strlen(MEMO_FIELD);
	}
	return NULL;
}

static unsigned int memo_quiet_msecs(struct client *client,
				     unsigned int base_msecs)
{
	const char *memo = memo_get(client);
	const char *p;
	unsigned int prev;
	uint64_t at, now = wall_msecs();

	if (!client->state_import_idle_continue || memo == NULL ||
	    (p = strchr(memo, ':')) == NULL ||
	    str_to_uint(t_strdup_until(memo, p), &prev) < 0 ||
	    str_to_uint64(p + 1, &at) < 0)
		return idle_hibernate_quiet_msecs(base_msecs, 0, 0);
	return idle_hibernate_quiet_msecs(base_msecs, prev,
					  now > at ? now - at : 0);
}

static void memo_set(struct client *client, unsigned int quiet_msecs)
{
	ARRAY_TYPE(const_string) fields;
	const char *const *f, *memo;

	memo = p_strdup_printf(client->pool, MEMO_FIELD"%u:%"PRIu64,
			       quiet_msecs, wall_msecs());
	p_array_init(&fields, client->pool, 8);
	for (f = client->userdb_fields; f != NULL && *f != NULL; f++) {
		if (!is_memo_field(*f))
			array_push_back(&fields, f);
	}
	array_push_back(&fields, &memo);
	array_append_zero(&fields);
	client->userdb_fields = array_front(&fields);
}

/* imap-hibernate runs as $default_internal_user and connects to
   base_dir/imap-master to wake a client.  Stock's listener is root's with
   mode 0600: Dovecot hands the client over, and every wake-up then fails
   with "Permission denied" and drops it.  The internal group is the group
   of the imap-hibernate listener; its user is taken to be the one whose
   primary group that is. */
static bool imap_master_usable(struct client *client, const char **error_r)
{
	const char *base_dir = client->user->set->base_dir;
	const char *master_path, *hib_path;
	struct stat master_st, hib_st;
	struct passwd *pw;

	master_path = t_strconcat(base_dir, "/"IMAP_MASTER_SOCKET, NULL);
	hib_path = t_strconcat(base_dir, "/"IMAP_HIBERNATE_SOCKET, NULL);
	if (stat(hib_path, &hib_st) < 0) {
		*error_r = t_strdup_printf("stat(%s) failed: %m", hib_path);
		return FALSE;
	}
	if (stat(master_path, &master_st) < 0) {
		*error_r = t_strdup_printf("stat(%s) failed: %m", master_path);
		return FALSE;
	}
	if ((master_st.st_mode & S_IWOTH) != 0)
		return TRUE;
	if ((master_st.st_mode & S_IWGRP) != 0 &&
	    master_st.st_gid == hib_st.st_gid)
		return TRUE;
	if ((master_st.st_mode & S_IWUSR) != 0 && master_st.st_uid != 0 &&
	    (pw = getpwuid(master_st.st_uid)) != NULL &&
	    pw->pw_gid == hib_st.st_gid)
		return TRUE;
	*error_r = t_strdup_printf("%s (uid %ld, gid %ld, mode %04o) can't "
		"be opened by imap-hibernate, so every wake-up would fail",
		master_path, (long)master_st.st_uid, (long)master_st.st_gid,
		(unsigned int)(master_st.st_mode & 07777));
	return FALSE;
}

static void paths_stat(struct hibernate_paths *paths)
{
	i_zero(&paths->new_st);
	i_zero(&paths->cur_st);
	i_zero(&paths->log_st);
	if (paths->maildir.new_path != NULL) {
		(void)stat(paths->maildir.new_path, &paths->new_st);
		(void)stat(paths->maildir.cur_path, &paths->cur_st);
	}
	if (paths->log_path != NULL)
		(void)stat(paths->log_path, &paths->log_st);
}

static void paths_init(struct mailbox *box, struct hibernate_paths *paths)
{
	struct imap_idle_storage storage;

	i_zero(paths);
	if (box == NULL)
		return;
	imap_idle_storage_get(box, &storage);
	if (storage.kind == IMAP_IDLE_STORAGE_MAILDIR)
		imap_idle_storage_maildir_paths(box, &paths->maildir);
	paths->log_path = t_strdup(imap_idle_private_log_path(box));
	paths_stat(paths);
}

static bool st_moved(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_size != b->st_size ||
		a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
		a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* maildir: an empty dotfile created and removed in new/ (maildir skips
   names starting with a dot). */
static bool wake_maildir(const char *new_path)
{
	const char *path;
	int fd;

	path = t_strdup_printf("%s/.imap-idle-wake.%s", new_path, my_pid);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1) {
		i_error("imap-idle: open(%s) failed: %m", path);
		return FALSE;
	}
	i_close_fd(&fd);
	i_unlink(path);
	return TRUE;
}

/* dbox: the watch is on the transaction log itself.  fallocate() of its
   first byte changes nothing (the byte is there, and the size stays), but
   Linux raises IN_MODIFY for every fallocate() that succeeds.  A log
   rotated meanwhile is another inode: its successor isn't watched. */
static bool wake_log(const char *log_path, const struct stat *watched_st)
{
	struct stat st;
	bool woken = FALSE;
	int fd;

	fd = open(log_path, O_WRONLY);
	if (fd == -1) {
		i_error("imap-idle: open(%s) failed: %m", log_path);
		return FALSE;
	}
	if (fstat(fd, &st) < 0)
		i_error("imap-idle: fstat(%s) failed: %m", log_path);
	else if (st.st_ino != watched_st->st_ino || st.st_size == 0)
		;
	else if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1) < 0) {
		if (errno != EOPNOTSUPP)
			i_error("imap-idle: fallocate(%s) failed: %m",
				log_path);
	} else {
		woken = TRUE;
	}
	i_close_fd(&fd);
	return woken;
}

/* After a hand-off: wakes the hibernated client if its mailbox changed
   while its watch didn't exist yet.  Returns what was done. */
static const char *wake_if_missed(const struct hibernate_paths *before)
{
	struct hibernate_paths after = *before;
	struct stat st;
	bool woken;

	if (before->maildir.new_path == NULL && before->log_path == NULL)
		return "none";
	paths_stat(&after);
	if (!st_moved(&before->new_st, &after.new_st) &&
	    !st_moved(&before->cur_st, &after.cur_st) &&
	    !st_moved(&before->log_st, &after.log_st) &&
	    (before->maildir.uidlist_lock_path == NULL ||
	     stat(before->maildir.uidlist_lock_path, &st) < 0))
		return "none";
	if (before->maildir.new_path != NULL)
		woken = wake_maildir(before->maildir.new_path);
	else
		woken = wake_log(before->log_path, &before->log_st);
	return woken ? "woken" : "missed";
}

static void idle_hibernate_timeout(struct idle_hibernate *hib);

static void hibernate_refused(struct idle_hibernate *hib, const char *reason,
			      bool transient)
{
	e_debug(event_create_passthrough(hib->event)->
		set_name("imap_idle_hibernate_refused")->
		add_str("reason", reason)->
		add_str("retry", transient ? "yes" : "no")->event(),
		"Not hibernating: %s", reason);
	if (transient) {
		hib->refusals++;
		hib->to = timeout_add(idle_hibernate_retry_msecs(
			hib->quiet_msecs, hib->refusals, RETRY_MAX_MSECS),
			idle_hibernate_timeout, hib);
	} else {
		hib->given_up = TRUE;
	}
}

/* A refusal by imap_client_hibernate() that may go away by itself. */
static bool reason_is_transient(const char *reason)
{
	return strcmp(reason, "output pending to client") == 0 ||
		strstr(reason, "Interrupted system call") != NULL ||
		strstr(reason, "Resource temporarily unavailable") != NULL;
}

static const char *reason_fix(const char *reason)
{
	if (strcmp(reason, "Filesystem notifications not supported") == 0 ||
	    strcmp(reason, "Couldn't extra notify fd") == 0) {
		return "raise fs.inotify.max_user_instances (each hibernated "
			"client keeps one inotify instance of its mail uid "
			"open in imap-hibernate, and a hand-off needs two "
			"more for a moment)";
	}
	return "see the error above";
}

static void hibernate_lasting(struct idle_hibernate *hib, const char *reason,
			      const char *fix)
{
	hibernate_refused(hib, reason, FALSE);
	if (lasting_logged)
		return;
	lasting_logged = TRUE;
	e_warning(hib->event, "Can't hibernate idling clients (%s); they "
		  "stay in their imap process with the plugin's push. "
		  "Fix: %s", reason, fix);
}

/* Everything but the hand-off itself; returns FALSE if refused. */
static bool hibernate_allowed(struct idle_hibernate *hib)
{
	struct client *client = hib->client;
	const char *error;

	if (!hib->ready(hib->context) ||
	    i_stream_get_data_size(client->input) > 0 ||
	    client->command_queue_size != 1) {
		/* busy: a settling command re-arms sooner */
		e_debug(hib->event, "Not hibernating yet: busy");
		hib->to = timeout_add(hib->quiet_msecs,
				      idle_hibernate_timeout, hib);
		return FALSE;
	}
	if (client->mailbox != NULL &&
	    !imap_idle_private_dovecot_watching(client->mailbox)) {
		hibernate_lasting(hib, "the mailbox has no watch to hand over",
				  "inotify must be usable for the mailbox");
		return FALSE;
	}
	if (master_check == MASTER_UNCHECKED) {
		master_check = imap_master_usable(client, &error) ?
			MASTER_USABLE : MASTER_UNUSABLE;
		if (master_check == MASTER_UNUSABLE) {
			e_warning(hib->event, "Not hibernating idling clients: "
				  "%s. They stay in their imap process with "
				  "the plugin's push. Fix: %s", error,
				  MASTER_FIX);
		}
	}
	if (master_check == MASTER_UNUSABLE) {
		hibernate_refused(hib, "imap-master listener unusable", FALSE);
		return FALSE;
	}
	return TRUE;
}

static void idle_hibernate_try(struct idle_hibernate *hib)
{
	struct client *client = hib->client;
	struct hibernate_paths paths;
	struct event *event;
	const char *reason, *window;
	unsigned int quiet_msecs = hib->quiet_msecs;

	if (!hibernate_allowed(hib))
		return;
	paths_init(client->mailbox, &paths);
	memo_set(client, quiet_msecs);
	/* the command and its event are gone once the client is */
	event = event_create(hib->event);
	if (imap_client_hibernate(&client, &reason)) {
		window = wake_if_missed(&paths);
		e_debug(event_create_passthrough(event)->
			set_name("imap_idle_hibernated")->
			add_int("quiet_msecs", quiet_msecs)->
			add_str("window", window)->event(),
			"Hibernated after %u ms quiet (hand-off window: %s)",
			quiet_msecs, window);
		event_unref(&event);
		return;
	}
	event_unref(&event);
	if (reason_is_transient(reason))
		hibernate_refused(hib, reason, TRUE);
	else
		hibernate_lasting(hib, reason, reason_fix(reason));
}

static void idle_hibernate_timeout(struct idle_hibernate *hib)
{
	timeout_remove(&hib->to);
	T_BEGIN {
		idle_hibernate_try(hib);
	} T_END;
}

struct idle_hibernate *
idle_hibernate_start(struct client *client, struct event *event,
		     idle_hibernate_ready_t *ready, void *context)
{
	struct idle_hibernate *hib;
	unsigned int base_msecs = client->set->imap_hibernate_timeout * 1000;

	if (base_msecs == 0)
		return NULL;
	hib = i_new(struct idle_hibernate, 1);
	hib->client = client;
	hib->event = event;
	hib->ready = ready;
	hib->context = context;
	T_BEGIN {
		hib->quiet_msecs = memo_quiet_msecs(client, base_msecs);
	} T_END;
	return hib;
}

void idle_hibernate_arm(struct idle_hibernate *hib)
{
	if (hib == NULL || hib->given_up)
		return;
	timeout_remove(&hib->to);
	hib->refusals = 0;
	hib->to = timeout_add(hib->quiet_msecs, idle_hibernate_timeout, hib);
}

void idle_hibernate_disarm(struct idle_hibernate *hib)
{
	if (hib != NULL)
		timeout_remove(&hib->to);
}

void idle_hibernate_stop(struct idle_hibernate **_hib)
{
	struct idle_hibernate *hib = *_hib;

	if (hib == NULL)
		return;
	*_hib = NULL;
	timeout_remove(&hib->to);
	i_free(hib);
}

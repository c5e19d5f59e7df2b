/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_SETTINGS_H
#define IDLE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

/* Every imap_idle_* setting, parsed and validated.  The shell looks the raw
   strings up (plugin {} or userdb) and this file decides what they mean;
   an unset or empty key takes its default, a bad value is an error, never a
   silent default. */

struct idle_settings {
	/* imap_idle_notify_delay: coalescing window opened by the first
	   change before the sync starts. 0 = sync on the leading edge. */
	unsigned int notify_delay_msecs;
	/* imap_idle_poll_interval: how often to look for changes when
	   filesystem notifications can't be used. */
	unsigned int poll_interval_msecs;
	/* imap_idle_done_sync: sync once more on DONE before the tagged OK. */
	bool done_sync;
	/* imap_idle_writer_wait: how long to wait for another process to
	   release the mailbox's write lock before syncing anyway. */
	unsigned int writer_wait_msecs;
	/* imap_idle_force_poll: never use filesystem notifications (for
	   shared filesystems such as NFS, where other hosts' writes raise
	   no local event). */
	bool force_poll;
	/* imap_idle_yield_cpu: while all of an imap process's clients
	   idle, let its pushes wait for a running writer instead of
	   preempting it (SCHED_BATCH). */
	bool yield_cpu;
};

/* Returns the raw value of key, or NULL when it is not set. */
typedef const char *idle_settings_lookup_func_t(const char *key,
						void *context);

/* Number of settings and their keys, for documentation and tests. */
unsigned int idle_settings_count(void);
const char *idle_settings_key(unsigned int idx);
/* The default of setting idx as text, e.g. "0", "2s", "yes". */
const char *idle_settings_default_text(unsigned int idx);

/* One row of the settings table: the single place that says which
   settings exist, their defaults and their bounds.  Dovecot 2.4's
   declarations (idle-settings-dovecot.c) are checked against it. */
enum idle_setting_type {
	IDLE_SETTING_TIME,	/* unsigned int milliseconds */
	IDLE_SETTING_BOOL,	/* bool */
};

struct idle_setting_def {
	const char *key;
	enum idle_setting_type type;
	const char *default_text;
	unsigned int min_msecs, max_msecs;	/* IDLE_SETTING_TIME only */
	size_t offset;		/* of the field in struct idle_settings */
};

/* Row idx of the table, or NULL past its end. */
const struct idle_setting_def *idle_settings_def(unsigned int idx);

/* Fills *set_r with the defaults. */
void idle_settings_defaults(struct idle_settings *set_r);

/* Reads every setting through lookup.  Returns 0 on success; -1 with a
   one-line message in error_buf naming the key, the value and the accepted
   form.  *set_r is fully written either way: all defaults on error. */
int idle_settings_parse(struct idle_settings *set_r,
			idle_settings_lookup_func_t *lookup, void *context,
			char *error_buf, size_t error_size);

/* Checks the bounds of already parsed values (Dovecot 2.4 parses them
   itself).  Returns 0, or -1 with a message like idle_settings_parse()'s
   naming the first setting out of range. */
int idle_settings_check(const struct idle_settings *set,
			char *error_buf, size_t error_size);

/* Parses a time such as "0", "20ms", "2s", "2 secs", "1min" or "1h" into
   milliseconds; a bare number means seconds, as in Dovecot's own settings.
   Returns 0, or -1 on a malformed value or one above max_msecs. */
int idle_settings_parse_time_msecs(const char *value, unsigned int max_msecs,
				   unsigned int *msecs_r);

/* Parses yes/no/true/false/1/0/on/off (any case); -1 otherwise. */
int idle_settings_parse_bool(const char *value, bool *bool_r);

#endif

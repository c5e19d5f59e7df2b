/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "idle-settings.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* One table row per setting: key, default, bounds and parser.  Defaults are
   written as text and parsed with the same code as user values, so the
   documented default can never drift from the real one. */

#define MSECS_PER_SEC 1000U
#define MSECS_PER_MIN (60U * MSECS_PER_SEC)
#define MSECS_PER_HOUR (60U * MSECS_PER_MIN)

static const struct idle_setting_def setting_defs[] = {
	{ "imap_idle_notify_delay", IDLE_SETTING_TIME, "0",
	  0, 10 * MSECS_PER_SEC,
	  offsetof(struct idle_settings, notify_delay_msecs) },
	{ "imap_idle_poll_interval", IDLE_SETTING_TIME, "2s",
	  100, MSECS_PER_HOUR,
	  offsetof(struct idle_settings, poll_interval_msecs) },
	{ "imap_idle_done_sync", IDLE_SETTING_BOOL, "yes", 0, 0,
	  offsetof(struct idle_settings, done_sync) },
	{ "imap_idle_writer_wait", IDLE_SETTING_TIME, "1s",
	  1, 10 * MSECS_PER_SEC,
	  offsetof(struct idle_settings, writer_wait_msecs) },
	{ "imap_idle_force_poll", IDLE_SETTING_BOOL, "no", 0, 0,
	  offsetof(struct idle_settings, force_poll) },
	{ "imap_idle_yield_cpu", IDLE_SETTING_BOOL, "yes", 0, 0,
	  offsetof(struct idle_settings, yield_cpu) },
};
#define SETTING_COUNT (sizeof(setting_defs) / sizeof(setting_defs[0]))

static const struct {
	const char *name;
	unsigned int msecs;
} time_units[] = {
	{ "ms", 1 }, { "msec", 1 }, { "msecs", 1 },
	{ "millisecond", 1 }, { "milliseconds", 1 },
	{ "s", MSECS_PER_SEC }, { "sec", MSECS_PER_SEC },
	{ "secs", MSECS_PER_SEC }, { "second", MSECS_PER_SEC },
	{ "seconds", MSECS_PER_SEC },
	{ "m", MSECS_PER_MIN }, { "min", MSECS_PER_MIN },
	{ "mins", MSECS_PER_MIN }, { "minute", MSECS_PER_MIN },
	{ "minutes", MSECS_PER_MIN },
	{ "h", MSECS_PER_HOUR }, { "hour", MSECS_PER_HOUR },
	{ "hours", MSECS_PER_HOUR },
};

unsigned int idle_settings_count(void)
{
	return SETTING_COUNT;
}

const char *idle_settings_key(unsigned int idx)
{
	return idx < SETTING_COUNT ? setting_defs[idx].key : NULL;
}

const char *idle_settings_default_text(unsigned int idx)
{
	return idx < SETTING_COUNT ? setting_defs[idx].default_text : NULL;
}

const struct idle_setting_def *idle_settings_def(unsigned int idx)
{
	return idx < SETTING_COUNT ? &setting_defs[idx] : NULL;
}

int idle_settings_parse_time_msecs(const char *value, unsigned int max_msecs,
				   unsigned int *msecs_r)
{
	const char *p = value, *unit;
	uint64_t number = 0;
	size_t unit_len, i;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		number = number * 10 + (uint64_t)(*p - '0');
		if (number > UINT_MAX)
			return -1;
	}
	while (*p == ' ')
		p++;
	unit = p;
	unit_len = strlen(unit);
	if (unit_len == 0) {
		/* a bare number is seconds, as Dovecot reads time settings */
		number *= MSECS_PER_SEC;
	} else {
		for (i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++) {
			if (strcasecmp(unit, time_units[i].name) == 0)
				break;
		}
		if (i == sizeof(time_units) / sizeof(time_units[0]))
			return -1;
		number *= time_units[i].msecs;
	}
	if (number > max_msecs)
		return -1;
	*msecs_r = (unsigned int)number;
	return 0;
}

int idle_settings_parse_bool(const char *value, bool *bool_r)
{
	static const char *const yes_words[] = { "yes", "true", "on", "1" };
	static const char *const no_words[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes_words) / sizeof(yes_words[0]); i++) {
		if (strcasecmp(value, yes_words[i]) == 0) {
			*bool_r = true;
			return 0;
		}
		if (strcasecmp(value, no_words[i]) == 0) {
			*bool_r = false;
			return 0;
		}
	}
	return -1;
}

static int setting_apply(const struct idle_setting_def *def, const char *value,
			 struct idle_settings *set)
{
	void *field = (char *)set + def->offset;
	unsigned int msecs;

	switch (def->type) {
	case IDLE_SETTING_TIME:
		if (idle_settings_parse_time_msecs(value, def->max_msecs,
						   &msecs) < 0 ||
		    msecs < def->min_msecs)
			return -1;
		*(unsigned int *)field = msecs;
		return 0;
	case IDLE_SETTING_BOOL:
		return idle_settings_parse_bool(value, (bool *)field);
	}
	return -1;
}

static void format_time(char *buf, size_t size, unsigned int msecs)
{
	if (msecs != 0 && msecs % MSECS_PER_SEC == 0)
		snprintf(buf, size, "%us", msecs / MSECS_PER_SEC);
	else
		snprintf(buf, size, "%ums", msecs);
}

/* The value as the error quotes it: a userdb (SQL, LDAP) can hand over
   any bytes, and the error becomes one log line, so control and non-ASCII
   bytes show as '?', and a long value is cut so that the accepted form
   still fits in the message. */
#define QUOTED_VALUE_MAX 64

static void quote_value(char *buf, size_t size, const char *value)
{
	size_t i, max = size - 1;
	bool cut = strlen(value) > max;

	if (cut)
		max -= 3;
	for (i = 0; i < max && value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		buf[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	if (cut) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
}

static void time_range_error(const struct idle_setting_def *def,
			     const char *value, char *error_buf,
			     size_t error_size)
{
	char min[32], max[32];

	format_time(min, sizeof(min), def->min_msecs);
	format_time(max, sizeof(max), def->max_msecs);
	snprintf(error_buf, error_size,
		 "%s: invalid value '%s': expected a time from %s to %s "
		 "with a unit (ms, s, min, h), e.g. %s = %s",
		 def->key, value, min, max, def->key, def->default_text);
}

static void setting_error(const struct idle_setting_def *def, const char *raw,
			  char *error_buf, size_t error_size)
{
	char value[QUOTED_VALUE_MAX + 1];

	quote_value(value, sizeof(value), raw);
	switch (def->type) {
	case IDLE_SETTING_TIME:
		time_range_error(def, value, error_buf, error_size);
		break;
	case IDLE_SETTING_BOOL:
		snprintf(error_buf, error_size,
			 "%s: invalid value '%s': expected yes or no",
			 def->key, value);
		break;
	}
}

void idle_settings_defaults(struct idle_settings *set_r)
{
	size_t i;

	memset(set_r, 0, sizeof(*set_r));
	for (i = 0; i < SETTING_COUNT; i++) {
		/* the table's defaults are covered by the unit tests */
		(void)setting_apply(&setting_defs[i],
				    setting_defs[i].default_text, set_r);
	}
}

int idle_settings_parse(struct idle_settings *set_r,
			idle_settings_lookup_func_t *lookup, void *context,
			char *error_buf, size_t error_size)
{
	const char *value;
	size_t i;

	idle_settings_defaults(set_r);
	for (i = 0; i < SETTING_COUNT; i++) {
		value = lookup(setting_defs[i].key, context);
		/* "key =" with nothing after it is how Dovecot configs unset */
		if (value == NULL || value[0] == '\0')
			continue;
		if (setting_apply(&setting_defs[i], value, set_r) < 0) {
			setting_error(&setting_defs[i], value,
				      error_buf, error_size);
			idle_settings_defaults(set_r);
			return -1;
		}
	}
	return 0;
}

int idle_settings_check(const struct idle_settings *set,
			char *error_buf, size_t error_size)
{
	const struct idle_setting_def *def;
	unsigned int msecs;
	char value[32];
	size_t i;

	for (i = 0; i < SETTING_COUNT; i++) {
		def = &setting_defs[i];
		if (def->type != IDLE_SETTING_TIME)
			continue;
		msecs = *(const unsigned int *)
			((const char *)set + def->offset);
		if (msecs >= def->min_msecs && msecs <= def->max_msecs)
			continue;
		format_time(value, sizeof(value), msecs);
		time_range_error(def, value, error_buf, error_size);
		return -1;
	}
	return 0;
}

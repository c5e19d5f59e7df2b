/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "idle-settings.h"
#include "unit-main.h"

#include <limits.h>
#include <string.h>

#define KEY_NOTIFY_DELAY "imap_idle_notify_delay"
#define KEY_POLL_INTERVAL "imap_idle_poll_interval"
#define KEY_DONE_SYNC "imap_idle_done_sync"
#define KEY_WRITER_WAIT "imap_idle_writer_wait"
#define KEY_FORCE_POLL "imap_idle_force_poll"
#define KEY_YIELD_CPU "imap_idle_yield_cpu"

/* every key, its field in struct idle_settings and its default */
static const struct {
	const char *key;
	const char *default_text;
	unsigned int default_value;
} settings[] = {
	{ KEY_NOTIFY_DELAY, "0", 0 },
	{ KEY_POLL_INTERVAL, "2s", 2000 },
	{ KEY_DONE_SYNC, "yes", 1 },
	{ KEY_WRITER_WAIT, "1s", 1000 },
	{ KEY_FORCE_POLL, "no", 0 },
	{ KEY_YIELD_CPU, "yes", 1 },
};

static unsigned int setting_value(const struct idle_settings *set,
				  const char *key)
{
	if (strcmp(key, KEY_NOTIFY_DELAY) == 0)
		return set->notify_delay_msecs;
	if (strcmp(key, KEY_POLL_INTERVAL) == 0)
		return set->poll_interval_msecs;
	if (strcmp(key, KEY_DONE_SYNC) == 0)
		return set->done_sync ? 1 : 0;
	if (strcmp(key, KEY_WRITER_WAIT) == 0)
		return set->writer_wait_msecs;
	if (strcmp(key, KEY_FORCE_POLL) == 0)
		return set->force_poll ? 1 : 0;
	if (strcmp(key, KEY_YIELD_CPU) == 0)
		return set->yield_cpu ? 1 : 0;
	return UINT_MAX;
}

/* Checks that every field of set has its default; label names the row. */
static void check_defaults(const char *label, const struct idle_settings *set)
{
	unsigned int i, value;

	for (i = 0; i < N_ELEMENTS(settings); i++) {
		value = setting_value(set, settings[i].key);
		UNIT_CHECK(value == settings[i].default_value,
			   "%s: %s is %u, expected the default %u", label,
			   settings[i].key, value,
			   settings[i].default_value);
	}
}

/* A settings source: key/value pairs, NULL-terminated. */
struct kv {
	const char *key, *value;
};

struct lookup_context {
	const struct kv *pairs;
	unsigned int lookups[N_ELEMENTS(settings)];
	unsigned int unknown_lookups;
};

static const char *kv_lookup(const char *key, void *context)
{
	struct lookup_context *ctx = context;
	const struct kv *kv;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(settings); i++) {
		if (strcmp(settings[i].key, key) == 0)
			break;
	}
	if (i < N_ELEMENTS(settings))
		ctx->lookups[i]++;
	else
		ctx->unknown_lookups++;
	for (kv = ctx->pairs; kv->key != NULL; kv++) {
		if (strcmp(kv->key, key) == 0)
			return kv->value;
	}
	return NULL;
}

/* Parses pairs into *set_r (first filled with garbage, to see that it is
   fully written) and returns what idle_settings_parse() returned. */
static int parse_pairs(const struct kv *pairs, struct idle_settings *set_r,
		       char *error_buf, size_t error_size,
		       struct lookup_context *ctx_r)
{
	memset(ctx_r, 0, sizeof(*ctx_r));
	ctx_r->pairs = pairs;
	memset(set_r, 0xa5, sizeof(*set_r));
	memset(error_buf, 0, error_size);
	return idle_settings_parse(set_r, kv_lookup, ctx_r,
				   error_buf, error_size);
}

static void test_idle_settings_defaults(void)
{
	struct idle_settings set;

	memset(&set, 0xa5, sizeof(set));
	idle_settings_defaults(&set);
	UNIT_CHECK(set.notify_delay_msecs == 0, "notify_delay %u",
		   set.notify_delay_msecs);
	UNIT_CHECK(set.poll_interval_msecs == 2000, "poll_interval %u",
		   set.poll_interval_msecs);
	UNIT_CHECK(set.done_sync, "done_sync is not yes");
	UNIT_CHECK(set.writer_wait_msecs == 1000, "writer_wait %u",
		   set.writer_wait_msecs);
	UNIT_CHECK(!set.force_poll, "force_poll is not no");
	UNIT_CHECK(set.yield_cpu, "yield_cpu is not yes");
}

static void test_idle_settings_keys(void)
{
	struct idle_settings set;
	struct lookup_context ctx;
	struct kv pairs[2];
	char error[256], label[128];
	const char *key, *text;
	unsigned int i;

	UNIT_CHECK_FATAL(idle_settings_count() == N_ELEMENTS(settings),
			 "idle_settings_count() = %u, expected %zu",
			 idle_settings_count(), N_ELEMENTS(settings));
	for (i = 0; i < N_ELEMENTS(settings); i++) {
		key = idle_settings_key(i);
		text = idle_settings_default_text(i);
		UNIT_CHECK(key != NULL && strcmp(key, settings[i].key) == 0,
			   "row %u: key \"%s\", expected \"%s\"", i,
			   key == NULL ? "(null)" : key, settings[i].key);
		UNIT_CHECK(text != NULL &&
			   strcmp(text, settings[i].default_text) == 0,
			   "row %u: default \"%s\", expected \"%s\"", i,
			   text == NULL ? "(null)" : text,
			   settings[i].default_text);
		if (text == NULL)
			continue;
		/* the documented default, written out, gives the default */
		pairs[0].key = settings[i].key;
		pairs[0].value = text;
		pairs[1].key = NULL;
		snprintf(label, sizeof(label), "row %u: %s = %s", i,
			 settings[i].key, text);
		UNIT_CHECK(parse_pairs(pairs, &set, error, sizeof(error),
				       &ctx) == 0, "%s: error %s", label,
			   error);
		check_defaults(label, &set);
	}
	UNIT_CHECK(idle_settings_key(i) == NULL, "key %u is not NULL", i);
	UNIT_CHECK(idle_settings_default_text(i) == NULL,
		   "default %u is not NULL", i);
	UNIT_CHECK(idle_settings_key(UINT_MAX) == NULL, "key UINT_MAX");
	UNIT_CHECK(idle_settings_default_text(UINT_MAX) == NULL,
		   "default UINT_MAX");
}

/* One valid key = value; the other keys keep their defaults. */
static const struct {
	const char *key, *value;
	unsigned int expected;
} valid_cases[] = {
	{ KEY_NOTIFY_DELAY, "0", 0 },
	{ KEY_NOTIFY_DELAY, "0ms", 0 },
	{ KEY_NOTIFY_DELAY, "20ms", 20 },
	{ KEY_NOTIFY_DELAY, "20 msecs", 20 },
	{ KEY_NOTIFY_DELAY, "2s", 2000 },
	{ KEY_NOTIFY_DELAY, "2S", 2000 },
	{ KEY_NOTIFY_DELAY, "2 secs", 2000 },
	{ KEY_NOTIFY_DELAY, "1", 1000 },
	{ KEY_NOTIFY_DELAY, "10", 10000 },
	{ KEY_NOTIFY_DELAY, "10s", 10000 },
	{ KEY_NOTIFY_DELAY, "10000ms", 10000 },
	{ KEY_NOTIFY_DELAY, "", 0 },
	{ KEY_POLL_INTERVAL, "100ms", 100 },
	{ KEY_POLL_INTERVAL, "2 seconds", 2000 },
	{ KEY_POLL_INTERVAL, "30", 30000 },
	{ KEY_POLL_INTERVAL, "1min", 60000 },
	{ KEY_POLL_INTERVAL, "1 minute", 60000 },
	{ KEY_POLL_INTERVAL, "5 mins", 300000 },
	{ KEY_POLL_INTERVAL, "60m", 3600000 },
	{ KEY_POLL_INTERVAL, "1h", 3600000 },
	{ KEY_POLL_INTERVAL, "1 hour", 3600000 },
	{ KEY_POLL_INTERVAL, "3600", 3600000 },
	{ KEY_POLL_INTERVAL, "", 2000 },
	{ KEY_DONE_SYNC, "no", 0 },
	{ KEY_DONE_SYNC, "NO", 0 },
	{ KEY_DONE_SYNC, "false", 0 },
	{ KEY_DONE_SYNC, "Off", 0 },
	{ KEY_DONE_SYNC, "0", 0 },
	{ KEY_DONE_SYNC, "yes", 1 },
	{ KEY_DONE_SYNC, "TRUE", 1 },
	{ KEY_DONE_SYNC, "", 1 },
	{ KEY_WRITER_WAIT, "1ms", 1 },
	{ KEY_WRITER_WAIT, "250 milliseconds", 250 },
	{ KEY_WRITER_WAIT, "5", 5000 },
	{ KEY_WRITER_WAIT, "10s", 10000 },
	{ KEY_WRITER_WAIT, "", 1000 },
	{ KEY_FORCE_POLL, "yes", 1 },
	{ KEY_FORCE_POLL, "On", 1 },
	{ KEY_FORCE_POLL, "1", 1 },
	{ KEY_FORCE_POLL, "tRuE", 1 },
	{ KEY_FORCE_POLL, "OFF", 0 },
	{ KEY_FORCE_POLL, "", 0 },
	{ KEY_YIELD_CPU, "no", 0 },
	{ KEY_YIELD_CPU, "Yes", 1 },
	{ KEY_YIELD_CPU, "", 1 },
};

static void test_idle_settings_parse_valid(void)
{
	struct idle_settings set;
	struct lookup_context ctx;
	struct kv pairs[2];
	char error[256], label[128];
	unsigned int row, i, value, expected;

	for (row = 0; row < N_ELEMENTS(valid_cases); row++) {
		pairs[0].key = valid_cases[row].key;
		pairs[0].value = valid_cases[row].value;
		pairs[1].key = NULL;
		snprintf(label, sizeof(label), "row %u: %s = \"%s\"", row,
			 valid_cases[row].key, valid_cases[row].value);
		UNIT_CHECK(parse_pairs(pairs, &set, error, sizeof(error),
				       &ctx) == 0,
			   "%s: failed: %s", label, error);
		for (i = 0; i < N_ELEMENTS(settings); i++) {
			value = setting_value(&set, settings[i].key);
			expected = strcmp(settings[i].key,
					  valid_cases[row].key) == 0 ?
				valid_cases[row].expected :
				settings[i].default_value;
			UNIT_CHECK(value == expected,
				   "%s: %s is %u, expected %u", label,
				   settings[i].key, value, expected);
			UNIT_CHECK(ctx.lookups[i] == 1,
				   "%s: %s looked up %u times", label,
				   settings[i].key, ctx.lookups[i]);
		}
		UNIT_CHECK(ctx.unknown_lookups == 0,
			   "%s: %u lookups of unknown keys", label,
			   ctx.unknown_lookups);
	}
}

static void test_idle_settings_parse_all_keys(void)
{
	static const struct kv pairs[] = {
		{ "imap_idle_unrelated", "whatever" },
		{ KEY_NOTIFY_DELAY, "20ms" },
		{ KEY_POLL_INTERVAL, "1min" },
		{ KEY_DONE_SYNC, "no" },
		{ KEY_WRITER_WAIT, "2s" },
		{ KEY_FORCE_POLL, "yes" },
		{ KEY_YIELD_CPU, "no" },
		{ NULL, NULL }
	};
	static const struct kv no_pairs[] = { { NULL, NULL } };
	struct idle_settings set;
	struct lookup_context ctx;
	char error[256];

	UNIT_CHECK(parse_pairs(pairs, &set, error, sizeof(error), &ctx) == 0,
		   "failed: %s", error);
	UNIT_CHECK(set.notify_delay_msecs == 20, "notify_delay %u",
		   set.notify_delay_msecs);
	UNIT_CHECK(set.poll_interval_msecs == 60000, "poll_interval %u",
		   set.poll_interval_msecs);
	UNIT_CHECK(!set.done_sync, "done_sync");
	UNIT_CHECK(set.writer_wait_msecs == 2000, "writer_wait %u",
		   set.writer_wait_msecs);
	UNIT_CHECK(set.force_poll, "force_poll");
	UNIT_CHECK(!set.yield_cpu, "yield_cpu");

	UNIT_CHECK(parse_pairs(no_pairs, &set, error, sizeof(error),
			       &ctx) == 0, "nothing set: failed: %s", error);
	check_defaults("nothing set", &set);
}

/* One invalid key = value: -1, a message naming both, and defaults. */
static const struct {
	const char *key, *value;
} invalid_cases[] = {
	{ KEY_NOTIFY_DELAY, "abc" },
	{ KEY_NOTIFY_DELAY, "-1" },
	{ KEY_NOTIFY_DELAY, "-0" },
	{ KEY_NOTIFY_DELAY, "+1s" },
	{ KEY_NOTIFY_DELAY, "99999999999" },
	{ KEY_NOTIFY_DELAY, "99999999999ms" },
	{ KEY_NOTIFY_DELAY, "4294967296ms" },
	{ KEY_NOTIFY_DELAY, "18446744073709551617ms" },
	{ KEY_NOTIFY_DELAY, "4294967295" },
	{ KEY_NOTIFY_DELAY, "2sx" },
	{ KEY_NOTIFY_DELAY, "2 s x" },
	{ KEY_NOTIFY_DELAY, "2.5s" },
	{ KEY_NOTIFY_DELAY, "0x10" },
	{ KEY_NOTIFY_DELAY, "ms" },
	{ KEY_NOTIFY_DELAY, "10001ms" },
	{ KEY_NOTIFY_DELAY, "11s" },
	{ KEY_NOTIFY_DELAY, "11" },
	{ KEY_NOTIFY_DELAY, "1min" },
	{ KEY_POLL_INTERVAL, "garbage" },
	{ KEY_POLL_INTERVAL, "-5s" },
	{ KEY_POLL_INTERVAL, "99999999999" },
	{ KEY_POLL_INTERVAL, "2sx" },
	{ KEY_POLL_INTERVAL, "2 minx" },
	{ KEY_POLL_INTERVAL, "99ms" },
	{ KEY_POLL_INTERVAL, "0" },
	{ KEY_POLL_INTERVAL, "0ms" },
	{ KEY_POLL_INTERVAL, "61min" },
	{ KEY_POLL_INTERVAL, "3601" },
	{ KEY_POLL_INTERVAL, "2h" },
	{ KEY_DONE_SYNC, "maybe" },
	{ KEY_DONE_SYNC, "2" },
	{ KEY_DONE_SYNC, "-1" },
	{ KEY_DONE_SYNC, "99999999999" },
	{ KEY_DONE_SYNC, "yess" },
	{ KEY_DONE_SYNC, "y" },
	{ KEY_DONE_SYNC, "1s" },
	{ KEY_WRITER_WAIT, "x" },
	{ KEY_WRITER_WAIT, "-1" },
	{ KEY_WRITER_WAIT, "99999999999" },
	{ KEY_WRITER_WAIT, "1msx" },
	{ KEY_WRITER_WAIT, "0" },
	{ KEY_WRITER_WAIT, "0ms" },
	{ KEY_WRITER_WAIT, "10001ms" },
	{ KEY_WRITER_WAIT, "1m" },
	{ KEY_FORCE_POLL, "nope" },
	{ KEY_FORCE_POLL, "10" },
	{ KEY_FORCE_POLL, "truee" },
	{ KEY_FORCE_POLL, "no!" },
	{ KEY_YIELD_CPU, "sometimes" },
};

static void check_invalid(const char *label, const struct kv *pairs,
			  const char *key, const char *value)
{
	struct idle_settings set;
	struct lookup_context ctx;
	char error[512];

	UNIT_CHECK(parse_pairs(pairs, &set, error, sizeof(error), &ctx) == -1,
		   "%s: accepted", label);
	UNIT_CHECK(strstr(error, key) != NULL,
		   "%s: error \"%s\" does not name the key", label, error);
	UNIT_CHECK(strstr(error, value) != NULL,
		   "%s: error \"%s\" does not name the value", label, error);
	UNIT_CHECK(strstr(error, "expected") != NULL,
		   "%s: error \"%s\" does not say what is expected", label,
		   error);
	UNIT_CHECK(strchr(error, '\n') == NULL,
		   "%s: error \"%s\" is not one line", label, error);
	check_defaults(label, &set);
}

static void test_idle_settings_parse_invalid(void)
{
	/* a valid value other than the default for every key */
	static const struct kv other_values[] = {
		{ KEY_NOTIFY_DELAY, "5s" },
		{ KEY_POLL_INTERVAL, "1min" },
		{ KEY_DONE_SYNC, "no" },
		{ KEY_WRITER_WAIT, "2s" },
		{ KEY_FORCE_POLL, "yes" },
		{ KEY_YIELD_CPU, "no" },
	};
	struct kv pairs[N_ELEMENTS(other_values) + 2];
	char label[160];
	unsigned int row, i, n;

	for (row = 0; row < N_ELEMENTS(invalid_cases); row++) {
		pairs[0].key = invalid_cases[row].key;
		pairs[0].value = invalid_cases[row].value;
		pairs[1].key = NULL;
		snprintf(label, sizeof(label), "row %u: %s = \"%s\"", row,
			 invalid_cases[row].key, invalid_cases[row].value);
		check_invalid(label, pairs, invalid_cases[row].key,
			      invalid_cases[row].value);

		/* the other keys, set validly, are reset to defaults too */
		for (i = n = 0; i < N_ELEMENTS(other_values); i++) {
			if (strcmp(other_values[i].key,
				   invalid_cases[row].key) != 0)
				pairs[n++] = other_values[i];
		}
		pairs[n].key = invalid_cases[row].key;
		pairs[n].value = invalid_cases[row].value;
		pairs[n + 1].key = NULL;
		snprintf(label, sizeof(label),
			 "row %u: %s = \"%s\" among valid keys", row,
			 invalid_cases[row].key, invalid_cases[row].value);
		check_invalid(label, pairs, invalid_cases[row].key,
			      invalid_cases[row].value);
	}
}

static void test_idle_settings_error_truncated(void)
{
	static const struct kv pairs[] = {
		{ KEY_POLL_INTERVAL, "garbage" },
		{ NULL, NULL }
	};
	struct idle_settings set;
	struct lookup_context ctx;
	char error[17];

	error[16] = 'Z';
	UNIT_CHECK(parse_pairs(pairs, &set, error, 16, &ctx) == -1,
		   "accepted");
	UNIT_CHECK(strlen(error) < 16, "error not truncated: %zu bytes",
		   strlen(error));
	UNIT_CHECK(error[16] == 'Z', "wrote past error_size");
}

/* Found by tests/fuzz/fuzz-idle-settings: a userdb value with a newline
   made the error (one log line) two lines.  Values with control bytes,
   non-ASCII bytes or great length are quoted printable and clipped, and
   the message still says what is expected. */
static const struct {
	const char *value, *quoted;
} unprintable_cases[] = {
	{ "1s\nimap_idle_x = 1", "'1s?imap_idle_x = 1'" },
	{ "1s\r", "'1s?'" },
	{ "\t", "'?'" },
	{ "\x1b[31mred", "'?[31mred'" },
	{ "caf\xc3\xa9", "'caf?" "?'" },
	{ "\x7f", "'?'" },
	{ "9999999999999999999999999999999999999999999999999999999999999999"
	  "9999", "'999999999999999999999999999999999999999999999999999999999"
	  "9999...'" },
};

static void test_idle_settings_error_printable(void)
{
	struct kv pairs[2] = { { KEY_NOTIFY_DELAY, NULL }, { NULL, NULL } };
	struct idle_settings set;
	struct lookup_context ctx;
	char error[512];
	unsigned int row, i;

	for (row = 0; row < N_ELEMENTS(unprintable_cases); row++) {
		pairs[0].value = unprintable_cases[row].value;
		UNIT_CHECK(parse_pairs(pairs, &set, error, sizeof(error),
				       &ctx) == -1, "row %u: accepted", row);
		for (i = 0; error[i] != '\0'; i++) {
			unsigned char c = (unsigned char)error[i];

			UNIT_CHECK(c >= 0x20 && c < 0x7f,
				   "row %u: byte %u of the error is 0x%02x",
				   row, i, c);
		}
		UNIT_CHECK(strstr(error, unprintable_cases[row].quoted) != NULL,
			   "row %u: error \"%s\" does not quote the value "
			   "as %s", row, error, unprintable_cases[row].quoted);
		UNIT_CHECK(strstr(error, "expected a time") != NULL,
			   "row %u: error \"%s\" lost the accepted form",
			   row, error);
	}
}

static const struct {
	const char *value;
	unsigned int max_msecs;
	int ret;
	unsigned int msecs;
} time_cases[] = {
	{ "0", UINT_MAX, 0, 0 },
	{ "20ms", UINT_MAX, 0, 20 },
	{ "2s", UINT_MAX, 0, 2000 },
	{ "2 secs", UINT_MAX, 0, 2000 },
	{ "2  s", UINT_MAX, 0, 2000 },
	{ "1min", UINT_MAX, 0, 60000 },
	{ "1h", UINT_MAX, 0, 3600000 },
	{ "1 HOURS", UINT_MAX, 0, 3600000 },
	{ "1", UINT_MAX, 0, 1000 },
	{ "007", UINT_MAX, 0, 7000 },
	{ "1ms", UINT_MAX, 0, 1 },
	{ "1msec", UINT_MAX, 0, 1 },
	{ "1msecs", UINT_MAX, 0, 1 },
	{ "1millisecond", UINT_MAX, 0, 1 },
	{ "1milliseconds", UINT_MAX, 0, 1 },
	{ "1s", UINT_MAX, 0, 1000 },
	{ "1sec", UINT_MAX, 0, 1000 },
	{ "1secs", UINT_MAX, 0, 1000 },
	{ "1second", UINT_MAX, 0, 1000 },
	{ "1seconds", UINT_MAX, 0, 1000 },
	{ "1m", UINT_MAX, 0, 60000 },
	{ "1mins", UINT_MAX, 0, 60000 },
	{ "1minute", UINT_MAX, 0, 60000 },
	{ "1minutes", UINT_MAX, 0, 60000 },
	{ "1hour", UINT_MAX, 0, 3600000 },
	{ "1hours", UINT_MAX, 0, 3600000 },
	/* bounds */
	{ "5s", 5000, 0, 5000 },
	{ "5001ms", 5000, -1, 0 },
	{ "6", 5000, -1, 0 },
	{ "0", 0, 0, 0 },
	{ "1ms", 0, -1, 0 },
	{ "4294967295ms", UINT_MAX, 0, 4294967295U },
	{ "4294967296ms", UINT_MAX, -1, 0 },
	{ "4294967s", UINT_MAX, 0, 4294967000U },
	{ "4294968s", UINT_MAX, -1, 0 },
	{ "1193h", UINT_MAX, 0, 4294800000U },
	{ "1194h", UINT_MAX, -1, 0 },
	{ "4294967295h", UINT_MAX, -1, 0 },
	{ "99999999999", UINT_MAX, -1, 0 },
	{ "99999999999999999999999ms", UINT_MAX, -1, 0 },
	/* malformed */
	{ "", UINT_MAX, -1, 0 },
	{ "s", UINT_MAX, -1, 0 },
	{ "-1", UINT_MAX, -1, 0 },
	{ "+1", UINT_MAX, -1, 0 },
	{ "1.5s", UINT_MAX, -1, 0 },
	{ "1e3", UINT_MAX, -1, 0 },
	{ "2sx", UINT_MAX, -1, 0 },
	{ "2 s s", UINT_MAX, -1, 0 },
	{ "2mss", UINT_MAX, -1, 0 },
	{ "1 2s", UINT_MAX, -1, 0 },
};

static void test_idle_settings_parse_time(void)
{
	unsigned int row, msecs;
	int ret;

	for (row = 0; row < N_ELEMENTS(time_cases); row++) {
		msecs = 12345;
		ret = idle_settings_parse_time_msecs(time_cases[row].value,
						     time_cases[row].max_msecs,
						     &msecs);
		UNIT_CHECK(ret == time_cases[row].ret,
			   "row %u: \"%s\" (max %u) returned %d, expected %d",
			   row, time_cases[row].value,
			   time_cases[row].max_msecs, ret,
			   time_cases[row].ret);
		if (ret == 0 && time_cases[row].ret == 0) {
			UNIT_CHECK(msecs == time_cases[row].msecs,
				   "row %u: \"%s\" is %u ms, expected %u",
				   row, time_cases[row].value, msecs,
				   time_cases[row].msecs);
		}
	}
}

static const struct {
	const char *value;
	int ret;
	bool value_r;
} bool_cases[] = {
	{ "yes", 0, true }, { "YES", 0, true }, { "Yes", 0, true },
	{ "true", 0, true }, { "True", 0, true }, { "on", 0, true },
	{ "ON", 0, true }, { "1", 0, true },
	{ "no", 0, false }, { "No", 0, false }, { "false", 0, false },
	{ "FALSE", 0, false }, { "off", 0, false }, { "oFF", 0, false },
	{ "0", 0, false },
	{ "", -1, false }, { "y", -1, false }, { "n", -1, false },
	{ "ye", -1, false }, { "yes ", -1, false }, { " no", -1, false },
	{ "2", -1, false }, { "-1", -1, false }, { "01", -1, false },
	{ "enabled", -1, false }, { "nope", -1, false },
};

static void test_idle_settings_parse_bool(void)
{
	unsigned int row, start;
	bool value;
	int ret;

	for (row = 0; row < N_ELEMENTS(bool_cases); row++) {
		/* start from the opposite value so that a write is seen */
		for (start = 0; start < 2; start++) {
			value = start != 0;
			ret = idle_settings_parse_bool(bool_cases[row].value,
						       &value);
			UNIT_CHECK(ret == bool_cases[row].ret,
				   "row %u: \"%s\" returned %d, expected %d",
				   row, bool_cases[row].value, ret,
				   bool_cases[row].ret);
			if (ret != 0 || bool_cases[row].ret != 0)
				continue;
			UNIT_CHECK(value == bool_cases[row].value_r,
				   "row %u: \"%s\" is %s", row,
				   bool_cases[row].value,
				   value ? "true" : "false");
		}
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_idle_settings_defaults),
		UNIT_TEST(test_idle_settings_keys),
		UNIT_TEST(test_idle_settings_parse_valid),
		UNIT_TEST(test_idle_settings_parse_all_keys),
		UNIT_TEST(test_idle_settings_parse_invalid),
		UNIT_TEST(test_idle_settings_error_truncated),
		UNIT_TEST(test_idle_settings_error_printable),
		UNIT_TEST(test_idle_settings_parse_time),
		UNIT_TEST(test_idle_settings_parse_bool),
		UNIT_TEST_END
	};

	return unit_main("idle-settings", tests);
}

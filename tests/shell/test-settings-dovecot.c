/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* Dovecot 2.4 only: the settings declared to Dovecot
   (idle-settings-dovecot.c) against the core's table, row by row: same
   keys in the same order, matching types and fields, the same defaults,
   and the core's bounds applied by check_func. */

#include "lib.h"
#include "settings-parser.h"
#include "test-common.h"
#include "idle-settings.h"
#include "idle-settings-dovecot.h"

static const struct setting_define *define_at(unsigned int idx)
{
	const struct setting_define *defs =
		imap_idle_setting_parser_info.defines;
	unsigned int i;

	for (i = 0; i < idx; i++) {
		if (defs[i].key == NULL)
			return NULL;
	}
	return &defs[idx];
}

static void test_declarations_match_table(void)
{
	const struct idle_setting_def *row;
	const struct setting_define *def;
	enum setting_type want;
	unsigned int i, count = idle_settings_count();

	test_begin("2.4 declarations match the core's table");
	for (i = 0; i < count; i++) {
		row = idle_settings_def(i);
		def = define_at(i);
		test_assert_idx(def != NULL && def->key != NULL, i);
		if (def == NULL || def->key == NULL)
			break;
		want = row->type == IDLE_SETTING_TIME ?
			SET_TIME_MSECS : SET_BOOL;
		test_assert_idx(strcmp(def->key, row->key) == 0, i);
		test_assert_idx(def->type == want, i);
		test_assert_idx(def->offset ==
				offsetof(struct imap_idle_settings, idle) +
				row->offset, i);
	}
	/* nothing declared that the table does not have */
	def = define_at(count);
	test_assert(def != NULL && def->key == NULL);
	test_end();
}

static void test_declared_defaults(void)
{
	const struct imap_idle_settings *defaults =
		imap_idle_setting_parser_info.defaults;
	struct idle_settings want;

	test_begin("2.4 defaults are the core's");
	imap_idle_settings_defaults_init();
	idle_settings_defaults(&want);
	test_assert(memcmp(&defaults->idle, &want, sizeof(want)) == 0);
	test_end();
}

static bool check(const struct imap_idle_settings *set, const char **error_r)
{
	return imap_idle_setting_parser_info.check_func(
		(void *)set, default_pool, error_r);
}

static void test_check_bounds(void)
{
	const struct idle_setting_def *row;
	struct imap_idle_settings set;
	unsigned int i, *field;
	const char *error;

	test_begin("2.4 check_func applies the core's bounds");
	for (i = 0; i < idle_settings_count(); i++) {
		row = idle_settings_def(i);
		if (row->type != IDLE_SETTING_TIME)
			continue;
		i_zero(&set);
		idle_settings_defaults(&set.idle);
		field = (unsigned int *)((char *)&set.idle + row->offset);

		*field = row->min_msecs;
		test_assert_idx(check(&set, &error), i);
		*field = row->max_msecs;
		test_assert_idx(check(&set, &error), i);
		*field = row->max_msecs + 1;
		error = NULL;
		test_assert_idx(!check(&set, &error), i);
		test_assert_idx(error != NULL &&
				strstr(error, row->key) != NULL, i);
		if (row->min_msecs > 0) {
			*field = row->min_msecs - 1;
			error = NULL;
			test_assert_idx(!check(&set, &error), i);
			test_assert_idx(error != NULL &&
					strstr(error, row->key) != NULL, i);
		}
	}
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_declarations_match_table,
		test_declared_defaults,
		test_check_bounds,
		NULL
	};
	return test_run(test_functions);
}

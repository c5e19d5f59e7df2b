/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "settings-parser.h"
#include "idle-settings-dovecot.h"

/* The keys and types here repeat the core's table (Dovecot wants a
   static list); tests/shell/test-settings-dovecot.c checks that they match
   it row by row.  Defaults and bounds come from the core only: the
   defaults struct is filled from it at init and check_func applies its
   bounds, so doveconf and the imap process reject the same values with
   the same message as Dovecot 2.3's parser. */

#undef DEF
#define DEF(type, key, field) \
	SETTING_DEFINE_STRUCT_##type(key, idle.field, struct imap_idle_settings)

static const struct setting_define imap_idle_setting_defines[] = {
	DEF(TIME_MSECS, "imap_idle_notify_delay", notify_delay_msecs),
	DEF(TIME_MSECS, "imap_idle_poll_interval", poll_interval_msecs),
	DEF(BOOL, "imap_idle_done_sync", done_sync),
	DEF(TIME_MSECS, "imap_idle_writer_wait", writer_wait_msecs),
	DEF(BOOL, "imap_idle_force_poll", force_poll),
	DEF(BOOL, "imap_idle_yield_cpu", yield_cpu),
	SETTING_DEFINE_LIST_END
};

static struct imap_idle_settings imap_idle_default_settings;

static bool imap_idle_settings_check(void *_set, pool_t pool ATTR_UNUSED,
				     const char **error_r)
{
	const struct imap_idle_settings *set = _set;
	char error[512];

	if (idle_settings_check(&set->idle, error, sizeof(error)) < 0) {
		*error_r = t_strdup(error);
		return FALSE;
	}
	return TRUE;
}

const struct setting_parser_info imap_idle_setting_parser_info = {
	.name = "imap_idle",

	.defines = imap_idle_setting_defines,
	.defaults = &imap_idle_default_settings,

	.struct_size = sizeof(struct imap_idle_settings),
	.pool_offset1 = 1 + offsetof(struct imap_idle_settings, pool),

	.check_func = imap_idle_settings_check,
};

void imap_idle_settings_defaults_init(void)
{
	idle_settings_defaults(&imap_idle_default_settings.idle);
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "settings-parser.h"
#include "idle-settings-dovecot.h"

/* Dovecot 2.4's config process (and doveconf) load every module in
   $moduledir/settings/ and add the parser infos it exports as
   <name>_set_infos; without this, "imap_idle_poll_interval = 1s" in
   dovecot.conf is an unknown setting.  Installed as
   libimap_idle_settings.so, so <name> is imap_idle_settings. */

#define IMAP_IDLE_EXPORT __attribute__((visibility("default")))

struct module;

IMAP_IDLE_EXPORT void imap_idle_settings_init(struct module *module);
IMAP_IDLE_EXPORT void imap_idle_settings_deinit(void);

IMAP_IDLE_EXPORT const char *imap_idle_settings_version = DOVECOT_ABI_VERSION;
IMAP_IDLE_EXPORT const struct setting_parser_info *
imap_idle_settings_set_infos[] = {
	&imap_idle_setting_parser_info,
	NULL
};

void imap_idle_settings_init(struct module *module ATTR_UNUSED)
{
	imap_idle_settings_defaults_init();
}

void imap_idle_settings_deinit(void)
{
}

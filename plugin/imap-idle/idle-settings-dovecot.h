/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_SETTINGS_DOVECOT_H
#define IDLE_SETTINGS_DOVECOT_H

#include "idle-settings.h"

/* Dovecot 2.4 only: the imap_idle_* settings declared to Dovecot's
   settings framework, so that the config process and doveconf know them,
   parse their types and check their ranges, and the imap process reads
   them (with userdb overrides) through settings_get().  Built into both
   the imap module and the settings module Dovecot's config loads. */

struct imap_idle_settings {
	pool_t pool;
	struct idle_settings idle;
};

extern const struct setting_parser_info imap_idle_setting_parser_info;

/* Fills the declared defaults from the core's table; called by each
   module's init before Dovecot reads them. */
void imap_idle_settings_defaults_init(void);

#endif

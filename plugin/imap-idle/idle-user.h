/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_USER_H
#define IDLE_USER_H

#include "idle-settings.h"

struct module;
struct mail_user;
struct mail_user_settings;

/* Reads every imap_idle_* setting of user, userdb overrides included.
   Returns 0, or -1 with *error_r naming the key, the bad value and the
   accepted form (then *set_r has the defaults). */
int imap_idle_user_settings_get(struct mail_user *user,
				struct idle_settings *set_r,
				const char **error_r);
/* Dovecot 2.3: the same from the plugin {} settings, merged with userdb
   fields. */
int imap_idle_user_settings_read(const struct mail_user_settings *user_set,
				 struct idle_settings *set_r,
				 const char **error_r);

/* The user's parsed imap_idle_* settings, or NULL when the plugin is not
   loaded for this user (then the built-in IDLE serves them). */
const struct idle_settings *imap_idle_user_settings(struct mail_user *user);

void imap_idle_user_hooks_init(struct module *module);
void imap_idle_user_hooks_deinit(void);

#endif

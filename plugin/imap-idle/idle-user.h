/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_USER_H
#define IDLE_USER_H

#include "idle-settings.h"

struct mail_user;

/* The user's parsed imap_idle_* settings, or NULL when the plugin is not
   loaded for this user (then the built-in IDLE serves them). */
const struct idle_settings *imap_idle_user_settings(struct mail_user *user);

void imap_idle_user_hooks_init(struct module *module);
void imap_idle_user_hooks_deinit(void);

#endif

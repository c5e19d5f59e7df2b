/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IMAP_IDLE_PLUGIN_H
#define IMAP_IDLE_PLUGIN_H

#define IMAP_IDLE_EXPORT __attribute__((visibility("default")))

struct module;

extern struct module *imap_idle_module;
extern struct event_category event_category_imap_idle;

IMAP_IDLE_EXPORT void imap_idle_plugin_init(struct module *module);
IMAP_IDLE_EXPORT void imap_idle_plugin_deinit(void);

#endif

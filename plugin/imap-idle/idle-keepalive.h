/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_KEEPALIVE_H
#define IDLE_KEEPALIVE_H

/* A repeating timer on the current ioloop that fires every interval at the
   user's phase (see keepalive-phase.h), for "* OK Still here".  Returns
   NULL when interval_secs is 0 (keepalives off). */
typedef void imap_idle_keepalive_callback_t(void *context);

struct imap_idle_keepalive *
imap_idle_keepalive_start(unsigned int interval_secs, const char *username,
		     imap_idle_keepalive_callback_t *callback, void *context);
void imap_idle_keepalive_stop(struct imap_idle_keepalive **keepalive);

#endif

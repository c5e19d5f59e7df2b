/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_KEEPALIVE_H
#define IDLE_KEEPALIVE_H

struct client;

/* "* OK Still here" every imap_idle_notify_interval, at the user's phase
   (see keepalive-phase.h).  Each keepalive also resets the client's
   inactivity timer, so an idling client is not logged out.  Returns NULL
   when the interval is 0. */
struct idle_keepalive *idle_keepalive_start(struct client *client);
void idle_keepalive_stop(struct idle_keepalive **keepalive);

#endif

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_HIBERNATE_H
#define IDLE_HIBERNATE_H

/* The userdb field that carries the adaptive quiet time's memo through
   imap-hibernate (not a setting: plugin/ keeps any Dovecot from taking it
   for one of its own). */
#define IMAP_IDLE_HIBERNATE_MEMO_FIELD "plugin/imap_idle_hibernate_memo"

struct client;
struct event;

/* Whether the command may hand its client over now: no sync running or
   owed, no policy timer, nothing half-read by the DONE scanner, the
   watch listening (Dovecot's own registered), not polling, the mailbox
   not changing.  May start listening again to get there. */
typedef bool idle_hibernate_ready_t(void *context);

/* Moves an idling client into imap-hibernate through Dovecot's
   imap_client_hibernate() after imap_hibernate_timeout (or the adaptive
   quiet time) without changes.  NULL when imap_hibernate_timeout is 0.
   Call before the command clears client->state_import_idle_continue. */
struct idle_hibernate *
idle_hibernate_start(struct client *client, struct event *event,
		     idle_hibernate_ready_t *ready, void *context);
/* The command settled waiting for input: the quiet time starts now. */
void idle_hibernate_arm(struct idle_hibernate *hib);
/* A sync starts: no hibernation until it settles again. */
void idle_hibernate_disarm(struct idle_hibernate *hib);
void idle_hibernate_stop(struct idle_hibernate **hib);

#endif

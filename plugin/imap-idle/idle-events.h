/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_EVENTS_H
#define IDLE_EVENTS_H

struct event;
struct idle_log_limit;

/* Every line and named event of the plugin goes out through a child of
   the client's (or the IDLE command's) event made here: Dovecot's prefix
   with the user and session, then "imap-idle: ", and the imap-idle
   category that log_debug and metric filters select. */
struct event *imap_idle_event_create(struct event *parent);

/* Lines that clients or outside writers can trigger again and again are
   logged at most once per this interval in a process. */
#define IMAP_IDLE_LOG_INTERVAL_MSECS (60 * 60 * 1000)

/* For such a line: NULL to hold it back, else the text to append to it
   ("" or how many were held back since the last one). */
const char *imap_idle_log_limited(struct idle_log_limit *limit);

#endif

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_DIR_WATCH_H
#define IDLE_DIR_WATCH_H

/* The process's directory watches, shared by every subscriber of a path:
   the kernel hands out one watch descriptor per path and inotify
   instance, and the ioloop calls only the first io of a descriptor, so
   one io per path serves all, fanned out here.  The events of one read
   are batched: a commit raises several at once.  A directory whose
   subscribers all stop listening drops its kernel watch until one
   listens again. */

/* read_usecs: when the events were read (imap_idle_clock_monotonic_usecs()),
   which for a late subscriber of a large fan-out is well before its
   call. */
typedef void imap_idle_dir_event_t(uint64_t read_usecs, void *context);
typedef void imap_idle_dir_each_t(void *context);

/* Subscribes to changes in the directory at path; the subscription
   listens from the start.  The callback may unsubscribe anyone (itself
   included) and may run the ioloop.  Returns NULL if the ioloop can't
   watch path (inotify limits, no notifications on the filesystem). */
struct imap_idle_dir_sub *
imap_idle_dir_watch_subscribe(const char *path,
			      imap_idle_dir_event_t *callback, void *context);
void imap_idle_dir_watch_unsubscribe(struct imap_idle_dir_sub **sub);

/* Starts or stops the callbacks of sub.  Returns FALSE if the directory
   has to be watched again and can't be (the watch limit was reached);
   sub then stays not listening. */
bool imap_idle_dir_watch_listen(struct imap_idle_dir_sub *sub,
				bool listening);

const char *imap_idle_dir_watch_path(const struct imap_idle_dir_sub *sub);

/* Calls fn with the context of every other subscriber of sub's
   directory.  fn must not subscribe or unsubscribe. */
void imap_idle_dir_watch_foreach_other(struct imap_idle_dir_sub *sub,
				       imap_idle_dir_each_t *fn);

/* Drops every directory watch; plugin deinit. */
void imap_idle_dir_watch_deinit(void);

#endif

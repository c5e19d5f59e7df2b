/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_IOLOOP_CONTEXT_H
#define IDLE_IOLOOP_CONTEXT_H

struct ioloop_context;

/* Dovecot's filesystem-notification ios carry no ioloop context: their
   callbacks run in whatever context the process's one inotify io was
   created under (another user's, in a process serving several) or in
   none, and so do the timeouts they add.  The user's context is what
   puts "imap(user)<pid><session>" before a log line, and what Dovecot's
   own code running in the callback expects.  A callback from such a
   source is run through imap_idle_ioloop_context_call() with the context
   its subscriber had. */

/* The context active now, referenced (NULL if none); release it with
   imap_idle_ioloop_context_release(). */
struct ioloop_context *imap_idle_ioloop_context_capture(void);
void imap_idle_ioloop_context_release(struct ioloop_context **ctx);

typedef void imap_idle_ioloop_context_fn_t(void *context);

/* Calls fn(context) with ctx active (as is, if ctx is NULL), and puts
   back the context that was active before. */
void imap_idle_ioloop_context_call(struct ioloop_context *ctx,
				   imap_idle_ioloop_context_fn_t *fn,
				   void *context);

#endif

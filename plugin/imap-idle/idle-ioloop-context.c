/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "ioloop.h"
#include "idle-ioloop-context.h"

struct ioloop_context *imap_idle_ioloop_context_capture(void)
{
	struct ioloop_context *ctx =
		io_loop_get_current_context(current_ioloop);

	if (ctx != NULL)
		io_loop_context_ref(ctx);
	return ctx;
}

void imap_idle_ioloop_context_release(struct ioloop_context **ctx)
{
	if (*ctx != NULL)
		io_loop_context_unref(ctx);
}

void imap_idle_ioloop_context_call(struct ioloop_context *ctx,
				   imap_idle_ioloop_context_fn_t *fn,
				   void *context)
{
	struct ioloop_context *prev =
		io_loop_get_current_context(current_ioloop);

	if (ctx == NULL || ctx == prev) {
		fn(context);
		return;
	}
	/* fn may end its client, which drops the client's reference, and
	   run the ioloop, which may deactivate ctx */
	io_loop_context_ref(ctx);
	if (prev != NULL) {
		io_loop_context_ref(prev);
		io_loop_context_deactivate(prev);
	}
	io_loop_context_activate(ctx);
	fn(context);
	if (io_loop_get_current_context(current_ioloop) == ctx)
		io_loop_context_deactivate(ctx);
	if (prev != NULL) {
		if (io_loop_get_current_context(current_ioloop) == NULL)
			io_loop_context_activate(prev);
		io_loop_context_unref(&prev);
	}
	io_loop_context_unref(&ctx);
}

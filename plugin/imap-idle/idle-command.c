/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "imap-common.h"
#include "istream.h"
#include "ostream.h"
#include "ioloop.h"
#include "imap-commands.h"
#include "imap-sync.h"
#include "idle-input.h"
#include "notify-policy.h"
#include "idle-user.h"
#include "idle-watch.h"
#include "idle-keepalive.h"
#include "idle-clock.h"
#include "idle-dovecot-private.h"
#include "idle-cpu-yield.h"
#include "idle-push-event.h"
#include "idle-events.h"
#include "idle-hibernate.h"
#include "idle-command.h"

/* The command's life: "+ idling", then syncs driven by notify-policy, each
   one written out through Dovecot's imap_sync_*() exactly as the built-in
   IDLE does; the client's lines are classified by done-scanner as they
   arrive.  DONE starts one last sync, so a change that committed before
   DONE is reported before the tagged OK.  At most one sync runs; client
   input is left unread while a sync is writing, so DONE always comes
   after the output of the sync that was running when it arrived.

   Who frees the command: when the core called us (cmd->func), returning
   TRUE lets the core free it; when an io or timeout of ours ends the
   command, idle_command_end_from_callback() frees it and lets the core go
   on with pipelined input. */

struct idle_command {
	struct client *client;
	struct client_command_context *cmd;
	const struct idle_settings *set;
	struct event *event;

	struct idle_done_scanner scanner;
	struct idle_notify_policy policy;
	struct imap_idle_watch *watch;
	struct imap_idle_keepalive *keepalive;
	struct imap_idle_push push;
	struct idle_hibernate *hibernate;
	/* the storage sync skipped by this idle's index-only syncs */
	struct imap_idle_storage_claim storage_claim;
	struct imap_sync_context *sync_ctx;
	struct timeout *to_policy;

	/* the line that ends IDLE, once seen */
	enum idle_done_verdict ending;
	unsigned int syncs;
	/* the client's message count when the running sync started */
	uint32_t messages_before_sync;

	bool manual_cork:1;
	bool full_sync_owed:1;
	bool finished:1;
	bool final_sync_started:1;
	bool sync_failed:1;
	/* counted by idle-cpu-yield.c */
	bool yielding:1;
};

static bool idle_command_continue(struct client_command_context *cmd);
static void idle_end_storage_claim(struct idle_command *ctx);

static const char *idle_tagline(struct idle_command *ctx)
{
	switch (ctx->ending) {
	case IDLE_DONE_DONE:
		return "OK Idle completed.";
	case IDLE_DONE_TOO_LONG:
		return t_strdup_printf("BAD Expected DONE, got a line longer "
			"than %zu bytes.", ctx->scanner.max_line_len);
	case IDLE_DONE_OTHER_LINE:
	case IDLE_DONE_NEED_MORE:
		break;
	}
	return "BAD Expected DONE.";
}

static void idle_stop_yielding(struct idle_command *ctx)
{
	if (ctx->yielding) {
		ctx->yielding = FALSE;
		imap_idle_cpu_yield_idler_remove(ctx->client->event);
	}
}

/* Stops everything and sends the tagged reply (suppressed by the core on
   cancel or a closed stream). */
static void idle_finish(struct idle_command *ctx, const char *tagline)
{
	struct client *client = ctx->client;
	bool was_corked = o_stream_is_corked(client->output);

	if (ctx->finished)
		return;
	ctx->finished = TRUE;
	idle_stop_yielding(ctx);
	timeout_remove(&ctx->to_policy);
	imap_idle_keepalive_stop(&ctx->keepalive);
	idle_hibernate_stop(&ctx->hibernate);
	if (ctx->sync_ctx != NULL) {
		/* only on connection failures */
		(void)imap_sync_deinit(ctx->sync_ctx, ctx->cmd);
		ctx->sync_ctx = NULL;
	}
	o_stream_cork(client->output);
	io_remove(&client->io);
	idle_end_storage_claim(ctx);
	imap_idle_watch_stop(&ctx->watch);
	client_send_tagline(ctx->cmd, tagline);
	if (!was_corked)
		o_stream_uncork(client->output);

	e_debug(event_create_passthrough(ctx->event)->
		set_name("imap_idle_finished")->
		add_str("reply", tagline)->
		add_int("syncs", ctx->syncs)->
		add_int("pushes", ctx->push.count)->event(),
		"IDLE finished after %u syncs (%u pushed changes): %s",
		ctx->syncs, ctx->push.count, tagline);
	event_unref(&ctx->event);
}

/* For io and timeout callbacks: a command that ended outside cmd->func is
   freed here; then the core handles what the client pipelined, or destroys
   a disconnected client (which cancels a command still running). */
static void idle_command_end_from_callback(struct idle_command *ctx,
					   bool finished)
{
	struct client *client = ctx->client;
	struct client_command_context *cmd = ctx->cmd;

	if (finished)
		client_command_free(&cmd);
	if (finished || client->disconnected)
		client_continue_pending_input(client);
}

/* A change Dovecot wrote is in the index already, so syncing the index
   reports it.  The storage sync waits for DONE, unless a maildir writer
   bypassed Dovecot (idle-watch.c): on maildir it scans the directories
   and moves new/ to cur/ under the uidlist lock, on dbox it takes the
   transaction log's lock, and on both it claims \Recent, writing to the
   log.  Every idler of a mailbox would queue on that lock for every
   delivery, beside the writer's next commit, and the claim's write would
   wake them all again.  FAST skips the storage sync only within
   MAILBOX_FULL_SYNC_INTERVAL of the last full one, so the index sync
   claims that it just checked (idle-dovecot-private.c). */
static enum mailbox_sync_flags idle_sync_flags(struct idle_command *ctx)
{
	if (ctx->full_sync_owed ||
	    !imap_idle_watch_index_sync_suffices(ctx->watch)) {
		imap_idle_private_claim_drop(&ctx->storage_claim);
		return 0;
	}
	imap_idle_private_claim_storage_checked(ctx->client->mailbox,
						&ctx->storage_claim);
	return MAILBOX_SYNC_FLAG_FAST;
}

/* The claim must not outlive the idle: the next command's FAST sync
   would skip the storage sync for up to MAILBOX_FULL_SYNC_INTERVAL, and
   without a final sync (imap_idle_done_sync = no) miss a maildir writer
   that bypassed Dovecot.  So the last real check is put back, or none if
   such a change is known or found now. */
static void idle_end_storage_claim(struct idle_command *ctx)
{
	struct mailbox *box = ctx->client->mailbox;
	bool owed;

	if (box == NULL || ctx->watch == NULL || ctx->client->disconnected)
		return;
	/* a final sync checked the storage just now */
	owed = ctx->full_sync_owed || (!ctx->final_sync_started &&
		imap_idle_watch_storage_sync_owed(ctx->watch));
	imap_idle_private_claim_end(box, &ctx->storage_claim, owed);
}

static bool idle_sync_start(struct idle_command *ctx)
{
	struct client *client = ctx->client;
	enum mailbox_sync_flags flags = idle_sync_flags(ctx);

	imap_idle_cpu_yield_update(client->event);
	idle_notify_policy_sync_started(&ctx->policy, imap_idle_clock_monotonic_msecs());
	timeout_remove(&ctx->to_policy);
	idle_hibernate_disarm(ctx->hibernate);
	ctx->full_sync_owed = FALSE;
	ctx->syncs++;
	ctx->messages_before_sync = client->messages_count;
	imap_idle_watch_sync_started(ctx->watch);
	imap_idle_push_sync_started(&ctx->push, client);
	ctx->sync_ctx = imap_sync_init(client, client->mailbox, 0, flags);
	return idle_command_continue(ctx->cmd);
}

static void idle_policy_timeout(struct idle_command *ctx);

static void idle_send_keepalive(void *context)
{
	struct idle_command *ctx = context;
	struct client *client = ctx->client;

	/* don't interleave with another command's output, and don't queue
	   behind unsent data: either way the connection is not silent */
	if (client->output_cmd_lock == NULL &&
	    o_stream_get_buffer_used_size(client->output) == 0) {
		o_stream_cork(client->output);
		client_send_line(client, "* OK Still here");
		o_stream_uncork(client->output);
	}
	/* keepalives keep an idling client from being logged out */
	timeout_reset(client->to_idle);
}

/* Carries out what the policy said.  Returns TRUE if the command
   finished (only possible for SYNC_NOW). */
static bool idle_apply(struct idle_command *ctx,
		       enum idle_notify_action action, uint64_t deadline)
{
	uint64_t now;

	switch (action) {
	case IDLE_NOTIFY_WAIT:
		break;
	case IDLE_NOTIFY_SYNC_NOW:
		return idle_sync_start(ctx);
	case IDLE_NOTIFY_ARM_TIMER:
		now = imap_idle_clock_monotonic_msecs();
		timeout_remove(&ctx->to_policy);
		ctx->to_policy = timeout_add_short(
			deadline > now ? (unsigned int)(deadline - now) : 0,
			idle_policy_timeout, ctx);
		break;
	}
	if (ctx->watch != NULL) {
		imap_idle_watch_set_listening(ctx->watch,
			idle_notify_policy_listening(&ctx->policy));
	}
	return FALSE;
}

/* For callbacks: a sync started there runs with manual corking, as the
   core corks only around its own io handlers. */
static void idle_apply_from_callback(struct idle_command *ctx,
				     enum idle_notify_action action,
				     uint64_t deadline)
{
	bool finished;

	if (action == IDLE_NOTIFY_SYNC_NOW)
		ctx->manual_cork = TRUE;
	finished = idle_apply(ctx, action, deadline);
	if (action == IDLE_NOTIFY_SYNC_NOW)
		idle_command_end_from_callback(ctx, finished);
}

static void idle_policy_timeout(struct idle_command *ctx)
{
	enum idle_notify_action action;
	uint64_t deadline = 0;

	timeout_remove(&ctx->to_policy);
	action = idle_notify_policy_timer(&ctx->policy, imap_idle_clock_monotonic_msecs(),
		ctx->watch != NULL && imap_idle_watch_still_changing(ctx->watch),
		&deadline);
	if (action == IDLE_NOTIFY_SYNC_NOW)
		imap_idle_push_signal_now(&ctx->push, IDLE_PUSH_SOURCE_TIMER);
	idle_apply_from_callback(ctx, action, deadline);
}

static void idle_changed(const struct imap_idle_watch_change *change,
			 void *context)
{
	struct idle_command *ctx = context;
	enum idle_notify_action action;
	uint64_t deadline = 0;

	if (ctx->ending != IDLE_DONE_NEED_MORE)
		return;
	imap_idle_push_signal(&ctx->push, change->source, change->since_usecs);
	if ((change->signal & IDLE_WATCH_SIGNAL_FULL_SYNC) != 0)
		ctx->full_sync_owed = TRUE;
	action = idle_notify_policy_change(&ctx->policy, imap_idle_clock_monotonic_msecs(),
		(change->signal & IDLE_WATCH_SIGNAL_WRITER_BUSY) != 0,
		&deadline);
	idle_apply_from_callback(ctx, action, deadline);
}

/* Called with the ending line seen.  Returns TRUE if the command
   finished now, FALSE if the final sync is still writing. */
static bool idle_end(struct idle_command *ctx)
{
	if (ctx->ending == IDLE_DONE_DONE && ctx->set->done_sync &&
	    ctx->client->mailbox != NULL && ctx->watch != NULL &&
	    !ctx->sync_failed && !ctx->final_sync_started) {
		ctx->final_sync_started = TRUE;
		ctx->full_sync_owed = TRUE;
		imap_idle_push_signal_now(&ctx->push, IDLE_PUSH_SOURCE_DONE);
		return idle_sync_start(ctx);
	}
	idle_finish(ctx, idle_tagline(ctx));
	return TRUE;
}

/* Scans what the client sent.  Returns TRUE if the command finished. */
static bool idle_handle_input(struct idle_command *ctx)
{
	enum idle_done_verdict verdict;

	verdict = imap_idle_input_scan(ctx->client->input, &ctx->scanner);
	if (verdict == IDLE_DONE_NEED_MORE)
		return FALSE;
	ctx->ending = verdict;
	/* the client is no longer idle: what follows it runs as usual */
	idle_stop_yielding(ctx);
	io_remove(&ctx->client->io);
	return idle_end(ctx);
}

static void idle_input(struct idle_command *ctx)
{
	struct client *client = ctx->client;
	struct ostream *output = client->output;
	bool finished = FALSE;

	client->last_input = ioloop_time;
	timeout_reset(client->to_idle);

	/* the scanner consumes as it goes, so the input buffer (sized by
	   imap_max_line_length) never fills and read never returns -2 */
	if (i_stream_read(client->input) == -1) {
		/* destroying the client cancels the command */
		client_disconnect(client, NULL);
	} else if (ctx->sync_ctx != NULL) {
		/* a sync is writing: leave its output alone (no corking) and
		   scan once it is out, so that DONE can't overtake changes
		   already being sent (idle_command_continue()) */
		io_remove(&client->io);
	} else {
		o_stream_ref(output);
		o_stream_cork(output);
		finished = idle_handle_input(ctx);
		o_stream_uncork(output);
		o_stream_unref(&output);
	}
	idle_command_end_from_callback(ctx, finished);
}

/* Finishes a sync that imap_sync_more() completed. */
static enum idle_notify_action
idle_sync_done(struct idle_command *ctx, uint64_t *deadline_r)
{
	struct client *client = ctx->client;

	if (imap_sync_deinit(ctx->sync_ctx, ctx->cmd) < 0) {
		client_send_untagged_storage_error(client,
			mailbox_get_storage(client->mailbox));
		ctx->sync_failed = TRUE;
	} else {
		imap_idle_watch_synced(ctx->watch);
		imap_idle_push_sync_finished(&ctx->push, client, ctx->event);
	}
	ctx->sync_ctx = NULL;
	return idle_notify_policy_sync_finished(&ctx->policy,
		imap_idle_clock_monotonic_msecs(),
		client->messages_count > ctx->messages_before_sync,
		deadline_r);
}

static bool idle_command_continue(struct client_command_context *cmd)
{
	struct idle_command *ctx = cmd->context;
	struct client *client = ctx->client;
	enum idle_notify_action action = IDLE_NOTIFY_WAIT;
	uint64_t deadline = 0;
	bool manual_cork = ctx->manual_cork;

	if (cmd->cancel) {
		idle_finish(ctx, "NO IDLE cancelled.");
		return TRUE;
	}
	ctx->manual_cork = FALSE;
	if (manual_cork)
		o_stream_cork(client->output);

	if (ctx->sync_ctx != NULL) {
		if (imap_sync_more(ctx->sync_ctx) == 0) {
			/* output buffer full: the core resumes us */
			if (manual_cork)
				o_stream_uncork(client->output);
			cmd->state = CLIENT_COMMAND_STATE_WAIT_OUTPUT;
			return FALSE;
		}
		action = idle_sync_done(ctx, &deadline);
	}
	if (manual_cork)
		o_stream_uncork(client->output);

	if (client->output->closed) {
		idle_finish(ctx, "NO Connection closed.");
		return TRUE;
	}
	if (ctx->sync_failed) {
		/* the untagged NO says what went wrong.  A BAD line never
		   starts a sync, so the ending here is DONE or none yet. */
		idle_finish(ctx, "NO IDLE ended: the mailbox could not be "
			    "synced.");
		return TRUE;
	}
	if (ctx->ending != IDLE_DONE_NEED_MORE)
		return idle_end(ctx);
	if (action == IDLE_NOTIFY_SYNC_NOW) {
		/* changes arrived during the sync: one follow-up */
		ctx->manual_cork = manual_cork;
		imap_idle_push_signal_now(&ctx->push,
					  IDLE_PUSH_SOURCE_FOLLOWUP);
		return idle_sync_start(ctx);
	}
	(void)idle_apply(ctx, action, deadline);

	cmd->state = CLIENT_COMMAND_STATE_WAIT_INPUT;
	/* a line that came while the sync was writing is already buffered:
	   a pending-input io would not fire for it, so scan it here */
	if (i_stream_get_data_size(client->input) > 0) {
		bool finished = idle_handle_input(ctx);

		if (finished || ctx->ending != IDLE_DONE_NEED_MORE)
			return finished;
	}
	if (client->io == NULL)
		client->io = io_add_istream(client->input, idle_input, ctx);
	idle_hibernate_arm(ctx->hibernate);
	return FALSE;
}

static bool idle_hibernate_ready(void *context)
{
	struct idle_command *ctx = context;
	const struct idle_done_scanner *scanner = &ctx->scanner;

	if (ctx->sync_ctx != NULL || ctx->to_policy != NULL ||
	    (ctx->full_sync_owed && ctx->watch != NULL) ||
	    ctx->ending != IDLE_DONE_NEED_MORE ||
	    scanner->line_len != 0 || scanner->skipping || scanner->cr_seen)
		return FALSE;
	if (ctx->watch == NULL)
		return TRUE;
	imap_idle_watch_set_listening(ctx->watch, TRUE);
	return imap_idle_watch_quiet(ctx->watch);
}

bool imap_idle_cmd_idle(struct client_command_context *cmd)
{
	struct client *client = cmd->client;
	const struct idle_settings *set = imap_idle_user_settings(client->user);
	struct idle_command *ctx;
	bool resumed;

	if (set == NULL) {
		/* not loaded for this user: the built-in serves them */
		return cmd_idle(cmd);
	}

	ctx = p_new(cmd->pool, struct idle_command, 1);
	ctx->cmd = cmd;
	ctx->client = client;
	ctx->set = set;
	ctx->event = imap_idle_event_create(cmd->event);
	if (client->mailbox != NULL) {
		event_add_str(ctx->event, "mailbox",
			      mailbox_get_vname(client->mailbox));
	}
	ctx->ending = IDLE_DONE_NEED_MORE;
	if (set->yield_cpu) {
		ctx->yielding = TRUE;
		imap_idle_cpu_yield_idler_add(client->event);
	}
	idle_done_scanner_init(&ctx->scanner, client->input_skip_line,
			       client->set->imap_max_line_length);
	client->input_skip_line = FALSE;
	idle_notify_policy_init(&ctx->policy, set->notify_delay_msecs,
				set->writer_wait_msecs);
	ctx->keepalive = imap_idle_keepalive_start(
		client->set->imap_idle_notify_interval,
		client->user->username, idle_send_keepalive, ctx);

	if (client->mailbox != NULL) {
		ctx->watch = imap_idle_watch_start(client->mailbox, set,
						   ctx->event, idle_changed,
						   ctx);
	}
	/* what the first sync reports was there before any watch saw it */
	imap_idle_push_signal_now(&ctx->push,
		client->state_import_idle_continue ?
		IDLE_PUSH_SOURCE_RESUME : IDLE_PUSH_SOURCE_START);
	ctx->hibernate = idle_hibernate_start(client, ctx->event,
					      idle_hibernate_ready, ctx);
	resumed = client->state_import_idle_continue;
	if (!resumed)
		client_send_line(client, "+ idling");
	else {
		/* resumed after hibernation: the client has its "+", and
		   no client_input() corks around this call */
		client->state_import_idle_continue = FALSE;
		ctx->manual_cork = TRUE;
	}
	e_debug(event_create_passthrough(ctx->event)->
		set_name("imap_idle_started")->
		add_str("watch", ctx->watch == NULL ? "none" :
			idle_push_source_name(
				imap_idle_watch_primary(ctx->watch)))->event(),
		"IDLE started");

	io_remove(&client->io);
	client->io = io_add_istream(client->input, idle_input, ctx);
	cmd->func = idle_command_continue;
	cmd->context = ctx;

	/* changes that came before the watch existed */
	ctx->full_sync_owed = TRUE;
	if (resumed && ctx->watch != NULL &&
	    imap_idle_watch_writer_busy(ctx->watch)) {
		/* a full sync now would queue on the writer's lock: wait
		   for its release as for any change */
		uint64_t deadline = 0;
		enum idle_notify_action action =
			idle_notify_policy_change(&ctx->policy,
				imap_idle_clock_monotonic_msecs(), TRUE,
				&deadline);

		if (idle_apply(ctx, action, deadline))
			return TRUE;
		if (ctx->sync_ctx != NULL)
			return FALSE;
	} else if (resumed && ctx->watch != NULL &&
		   imap_idle_watch_quiet(ctx->watch)) {
		/* the state import's full sync ran just before, and nothing
		   changed since: a wake-up costs one sync, not two */
		ctx->full_sync_owed = FALSE;
	} else if (client->mailbox != NULL) {
		if (idle_sync_start(ctx))
			return TRUE;
		if (ctx->sync_ctx != NULL)
			return FALSE;
	}
	if (ctx->sync_ctx == NULL && ctx->to_policy == NULL)
		idle_hibernate_arm(ctx->hibernate);
	return idle_handle_input(ctx);
}

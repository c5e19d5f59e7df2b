/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "imap-common.h"
#include "imap-commands.h"
#include "idle-user.h"
#include "idle-watch.h"
#include "idle-command.h"
#include "idle-cpu-yield.h"
#include "imap-idle-plugin.h"

/* Takes over IDLE in the imap process's command table with the built-in's
   flags: IDLE waits until other commands and syncs are done and blocks
   mailbox-changing commands behind it.  The table is process-wide, so a
   process that also serves users without the plugin hands them to the
   built-in (idle-command.c); deinit puts the built-in back. */

#define IDLE_COMMAND_FLAGS \
	(COMMAND_FLAG_BREAKS_SEQS | COMMAND_FLAG_REQUIRES_SYNC | \
	 COMMAND_FLAG_BREAKS_MAILBOX)

IMAP_IDLE_EXPORT const char *imap_idle_plugin_version = DOVECOT_ABI_VERSION;
IMAP_IDLE_EXPORT const char imap_idle_plugin_binary_dependency[] = "imap";

struct module *imap_idle_module;
struct event_category event_category_imap_idle = {
	.name = "imap-idle",
};

static imap_client_created_func_t *next_hook_client_created;

static void imap_idle_client_created(struct client **clientp)
{
	struct client *client = *clientp;

	/* a new client is not idling: its commands get the CPU as usual */
	imap_idle_cpu_yield_update(client->event);
	if (next_hook_client_created != NULL)
		next_hook_client_created(clientp);
}

void imap_idle_plugin_init(struct module *module)
{
	imap_idle_module = module;
	command_unregister("IDLE");
	command_register("IDLE", imap_idle_cmd_idle, IDLE_COMMAND_FLAGS);
	imap_idle_user_hooks_init(module);
	next_hook_client_created =
		imap_client_created_hook_set(imap_idle_client_created);
}

void imap_idle_plugin_deinit(void)
{
	imap_client_created_hook_set(next_hook_client_created);
	imap_idle_user_hooks_deinit();
	command_unregister("IDLE");
	command_register("IDLE", cmd_idle, IDLE_COMMAND_FLAGS);
	imap_idle_watch_deinit();
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_COMMAND_H
#define IDLE_COMMAND_H

struct client_command_context;

/* The IDLE command as registered in the imap command table.  Users for
   whom the plugin is not loaded are handed to the built-in cmd_idle(). */
bool imap_idle_cmd_idle(struct client_command_context *cmd);

#endif

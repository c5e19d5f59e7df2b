/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_STORAGE_H
#define IDLE_STORAGE_H

#include "mailbox-list.h"

struct mailbox;

enum imap_idle_storage_kind {
	IMAP_IDLE_STORAGE_MAILDIR,
	IMAP_IDLE_STORAGE_SDBOX,
	IMAP_IDLE_STORAGE_MDBOX,
	IMAP_IDLE_STORAGE_IMAPC,
	IMAP_IDLE_STORAGE_OTHER,
};

/* What a mailbox's storage lets the watch rely on. */
struct imap_idle_storage {
	enum imap_idle_storage_kind kind;
	/* The index is on disk and every Dovecot writer commits to it: a
	   change another process made is in the index, so an index-only
	   sync reports it, and the index and control directories and the
	   transaction log are worth watching. */
	bool shared_index;
	/* Syncs after a change Dovecot wrote may skip the storage sync
	   (maildir and dbox with a shared index). */
	bool index_sync_suffices;
	/* maildir with a shared index: writers that bypass Dovecot show
	   only in new/ and cur/, which are checked. */
	bool check_new_cur;
	/* Dovecot's own watch covers the transaction log (dbox), through
	   which every change goes: its signal is checked against the log. */
	bool dovecot_watches_log;
	/* Why only Dovecot's own watch is used, with a full sync on each of
	   its signals, as in Dovecot's IDLE; NULL when the watch is ours. */
	const char *dovecot_watch_only_reason;
};

void imap_idle_storage_get(struct mailbox *box,
			   struct imap_idle_storage *storage_r);

/* The mailbox's directory of that type, through the public mailbox-list
   API.  Returns 1 with *path_r, 0 if there is none (e.g. an index in
   memory), -1 on error. */
int imap_idle_storage_path(struct mailbox *box,
			   enum mailbox_list_path_type type,
			   const char **path_r);

/* A maildir's new/ and cur/ and its uidlist lock file, on the data
   stack; NULL where the mailbox list has no such directory. */
struct imap_idle_maildir_paths {
	const char *new_path, *cur_path, *uidlist_lock_path;
};
void imap_idle_storage_maildir_paths(struct mailbox *box,
				     struct imap_idle_maildir_paths *paths_r);

#endif

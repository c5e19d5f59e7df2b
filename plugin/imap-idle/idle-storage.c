/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "mail-namespace.h"
#include "mail-storage.h"
#include "idle-dovecot-private.h"
#include "idle-storage.h"

/* The one place that tells storages apart. */

static enum imap_idle_storage_kind storage_kind(const char *name)
{
	if (strcmp(name, "maildir") == 0)
		return IMAP_IDLE_STORAGE_MAILDIR;
	if (strcmp(name, "sdbox") == 0)
		return IMAP_IDLE_STORAGE_SDBOX;
	if (strcmp(name, "mdbox") == 0)
		return IMAP_IDLE_STORAGE_MDBOX;
	if (strcmp(name, "imapc") == 0)
		return IMAP_IDLE_STORAGE_IMAPC;
	return IMAP_IDLE_STORAGE_OTHER;
}

void imap_idle_storage_get(struct mailbox *box,
			   struct imap_idle_storage *storage_r)
{
	i_zero(storage_r);
	storage_r->kind = storage_kind(imap_idle_private_storage_name(box));
	if (storage_r->kind == IMAP_IDLE_STORAGE_IMAPC) {
		/* the mail is on another server, and its index, on disk or
		   not, a cache that changes only when this process syncs:
		   only Dovecot's watch (imapc's IDLE on its connection to
		   that server) hears of changes */
		storage_r->dovecot_watch_only_reason =
			"the mailbox is on another IMAP server (imapc)";
		return;
	}
	if (imap_idle_private_index_in_memory(box)) {
		/* no other process sees this index: each change is found
		   only by a storage sync, and there is no log to watch */
		storage_r->dovecot_watch_only_reason =
			"the mailbox's index is in memory (INDEX=MEMORY)";
		return;
	}
	storage_r->shared_index = TRUE;
	switch (storage_r->kind) {
	case IMAP_IDLE_STORAGE_MAILDIR:
		storage_r->index_sync_suffices = TRUE;
		storage_r->check_new_cur = TRUE;
		break;
	case IMAP_IDLE_STORAGE_SDBOX:
	case IMAP_IDLE_STORAGE_MDBOX:
		storage_r->index_sync_suffices = TRUE;
		storage_r->dovecot_watches_log = TRUE;
		break;
	case IMAP_IDLE_STORAGE_IMAPC:
	case IMAP_IDLE_STORAGE_OTHER:
		break;
	}
}

int imap_idle_storage_path(struct mailbox *box,
			   enum mailbox_list_path_type type,
			   const char **path_r)
{
	return mailbox_list_get_path(mailbox_get_namespace(box)->list,
				     mailbox_get_name(box), type, path_r);
}

void imap_idle_storage_maildir_paths(struct mailbox *box,
				     struct imap_idle_maildir_paths *paths_r)
{
	const char *dir;

	i_zero(paths_r);
	if (imap_idle_storage_path(box, MAILBOX_LIST_PATH_TYPE_MAILBOX,
				   &dir) > 0) {
		paths_r->new_path = t_strconcat(dir, "/new", NULL);
		paths_r->cur_path = t_strconcat(dir, "/cur", NULL);
	}
	if (imap_idle_storage_path(box, MAILBOX_LIST_PATH_TYPE_CONTROL,
				   &dir) > 0) {
		paths_r->uidlist_lock_path = t_strconcat(dir,
			"/dovecot-uidlist.lock", NULL);
	}
}

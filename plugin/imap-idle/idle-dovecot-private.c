/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "ioloop.h"
#include "mail-storage-private.h"
#include "index-storage.h"
#include "mail-index-private.h"
#include "mail-index-view-private.h"
#include "mail-transaction-log-private.h"
#include "maildir-storage.h"
#include "maildir-uidlist.h"
#include "maildir-sync.h"
#include "idle-dovecot-private.h"

/* Why each access below has no public alternative, and what it buys:
   - The storage's name and whether its index is in memory decide what is
     worth watching (idle-storage.c); struct mail_storage and the
     mailbox's index are private.
   - index_mailbox_want_full_sync() skips the storage sync of a FAST sync
     only within MAILBOX_FULL_SYNC_INTERVAL of ibox->sync_last_check.  An
     idler's syncs after a change Dovecot wrote need the index alone; a
     storage sync would make every idler of a mailbox scan the maildir
     (and queue on its uidlist lock) on every delivery.  No flag asks for
     an index-only sync, so the claim sets sync_last_check, and takes it
     back when the idle ends (the next command's FAST sync must not miss
     a writer that bypassed Dovecot).
   - The log position the mailbox's view synced to (the view's head
     sequence and offset, the head file's inode) tells this client's own
     writes and everything it has seen from news; the public header
     fields belong to the map, which other views move.
   - maildir: whether the uidlist lists a file in new/ and whether the
     index recorded cur/'s mtime tell a writer that bypassed Dovecot from
     Dovecot's own; maildir-uidlist and the maildir index header have no
     public API.
   - Whether Dovecot's own mailbox watch is registered (box->notify_files):
     a hibernation hands exactly that watch over, and with none there is
     nothing to wake the client; there is no getter.
   - The hibernation hand-off window check stats the log file Dovecot's
     dbox watch is on (imap_idle_private_log_path()), to see a change
     that landed before imap-hibernate's watch existed. */

const char *imap_idle_private_storage_name(struct mailbox *box)
{
	return box->storage->name;
}

bool imap_idle_private_index_in_memory(struct mailbox *box)
{
	return box->index != NULL && mail_index_is_in_memory(box->index);
}

void imap_idle_private_claim_storage_checked(
	struct mailbox *box, struct imap_idle_storage_claim *claim)
{
	struct index_mailbox_context *ibox = INDEX_STORAGE_CONTEXT(box);

	if (!claim->claimed) {
		claim->real_last_check = ibox->sync_last_check;
		claim->claimed = TRUE;
	}
	ibox->sync_last_check = ioloop_time;
}

void imap_idle_private_claim_drop(struct imap_idle_storage_claim *claim)
{
	/* the full sync sets sync_last_check itself */
	claim->claimed = FALSE;
}

void imap_idle_private_claim_end(struct mailbox *box,
				 struct imap_idle_storage_claim *claim,
				 bool storage_sync_owed)
{
	struct index_mailbox_context *ibox = INDEX_STORAGE_CONTEXT(box);

	if (storage_sync_owed)
		ibox->sync_last_check = 0;
	else if (claim->claimed)
		ibox->sync_last_check = claim->real_last_check;
	claim->claimed = FALSE;
}

bool imap_idle_private_dovecot_watching(struct mailbox *box)
{
	return box->notify_files != NULL;
}

const char *imap_idle_private_log_path(struct mailbox *box)
{
	if (box->index == NULL || box->index->log == NULL ||
	    mail_index_is_in_memory(box->index))
		return NULL;
	return box->index->log->filepath;
}

bool imap_idle_private_log_synced(struct mailbox *box, ino_t *ino_r,
				  uoff_t *offset_r)
{
	struct mail_transaction_log_file *head;
	struct mail_index_view *view = box->view;

	if (view == NULL || imap_idle_private_log_path(box) == NULL)
		return FALSE;
	head = box->index->log->head;
	if (head == NULL || head->fd == -1 ||
	    head->hdr.file_seq != view->log_file_head_seq)
		return FALSE;
	*ino_r = head->st_ino;
	*offset_r = view->log_file_head_offset;
	return TRUE;
}

int imap_idle_private_maildir_uidlist_refresh(struct mailbox *box)
{
	struct maildir_mailbox *mbox = MAILDIR_MAILBOX(box);

	return maildir_uidlist_refresh(mbox->uidlist);
}

bool imap_idle_private_maildir_uidlist_has(struct mailbox *box,
					   const char *filename)
{
	struct maildir_mailbox *mbox = MAILDIR_MAILBOX(box);
	uint32_t uid;

	return maildir_uidlist_get_uid(mbox->uidlist, filename, &uid);
}

int imap_idle_private_maildir_cur_recorded(struct mailbox *box,
					   const struct stat *cur_st,
					   bool *recorded_r)
{
	struct maildir_mailbox *mbox = MAILDIR_MAILBOX(box);

	if (maildir_sync_header_refresh(mbox) < 0)
		return -1;
	*recorded_r =
		(uint32_t)cur_st->st_mtime == mbox->maildir_hdr.cur_mtime &&
		(uint32_t)ST_MTIME_NSEC(*cur_st) ==
		mbox->maildir_hdr.cur_mtime_nsecs;
	return 0;
}

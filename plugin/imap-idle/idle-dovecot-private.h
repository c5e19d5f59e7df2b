/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_DOVECOT_PRIVATE_H
#define IDLE_DOVECOT_PRIVATE_H

#include <sys/stat.h>

/* Every read or write of Dovecot state that has no public API, in one
   place (idle-dovecot-private.c says why each is needed and what it
   buys).  They depend on struct layouts that only Dovecot's ABI version
   string guards, so the plugin must be built against the Dovecot it
   runs in. */

struct mailbox;

/* --- the storage ---------------------------------------------------------- */

/* The storage driver's name ("maildir", "sdbox", "mdbox", ...). */
const char *imap_idle_private_storage_name(struct mailbox *box);
/* TRUE if the mailbox's index lives in this process's memory only
   (INDEX=MEMORY, or moved there after an error). */
bool imap_idle_private_index_in_memory(struct mailbox *box);

/* TRUE if Dovecot's own watch of the mailbox (mailbox_notify_changes())
   is registered: the watch a hibernation hands to imap-hibernate. */
bool imap_idle_private_dovecot_watching(struct mailbox *box);

/* --- skipping the storage sync while idling ---------------------------------- */

/* What a claim replaced: the last real storage sync check. */
struct imap_idle_storage_claim {
	time_t real_last_check;
	bool claimed;
};

/* Makes the next MAILBOX_SYNC_FLAG_FAST sync of box an index-only sync,
   by claiming that the storage was checked just now. */
void imap_idle_private_claim_storage_checked(
	struct mailbox *box, struct imap_idle_storage_claim *claim);
/* A full sync is about to run: it checks the storage for real. */
void imap_idle_private_claim_drop(struct imap_idle_storage_claim *claim);
/* The idle is over: puts back the last real check, or, when
   storage_sync_owed, none, so that the next FAST sync checks the
   storage. */
void imap_idle_private_claim_end(struct mailbox *box,
				 struct imap_idle_storage_claim *claim,
				 bool storage_sync_owed);

/* --- the transaction log ---------------------------------------------------- */

/* The log file's path, or NULL if the index has no log on disk. */
const char *imap_idle_private_log_path(struct mailbox *box);
/* The log position the mailbox's view has synced to: the inode of the
   head log file and the offset in it.  FALSE if not known (no log on
   disk, the view is behind the head file). */
bool imap_idle_private_log_synced(struct mailbox *box, ino_t *ino_r,
				  uoff_t *offset_r);

/* --- maildir ------------------------------------------------------------------ */

/* Rereads dovecot-uidlist if it changed.  Returns -1 on error. */
int imap_idle_private_maildir_uidlist_refresh(struct mailbox *box);
/* Whether the uidlist as last read lists the file (base name). */
bool imap_idle_private_maildir_uidlist_has(struct mailbox *box,
					   const char *filename);
/* Whether the index records cur_st's mtime as cur/'s, as a Dovecot sync
   that renamed files in cur/ does when it ends.  Returns -1 on error. */
int imap_idle_private_maildir_cur_recorded(struct mailbox *box,
					   const struct stat *cur_st,
					   bool *recorded_r);

#endif

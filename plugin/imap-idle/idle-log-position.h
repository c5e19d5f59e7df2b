/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_LOG_POSITION_H
#define IDLE_LOG_POSITION_H

#include <sys/stat.h>

struct mailbox;

/* The transaction log as one idling client knows it: the position its
   view last synced to, and the file as it was last looked at.  Comparing
   the file on disk with the synced position drops the events of this
   client's own writes without a race: the position comes from the view,
   so a commit that lands during a sync is still newer. */
struct imap_idle_log_position {
	/* what the last sync reached */
	ino_t synced_ino;
	uoff_t synced_offset;
	bool synced_known;
	/* the log as last looked at; looked_size -1 when it couldn't be */
	ino_t looked_ino;
	off_t looked_size;
};

void imap_idle_log_position_init(struct imap_idle_log_position *pos);
/* A sync of box finished: its view's position is what later looks are
   compared with. */
void imap_idle_log_position_synced(struct imap_idle_log_position *pos,
				   struct mailbox *box);
/* Whether the log grew past the synced position; TRUE also when the log
   can't be looked at or the position isn't known. */
bool imap_idle_log_position_grew(struct imap_idle_log_position *pos,
				 struct mailbox *box);
/* Whether the log changed since it was last looked at (or can't be
   looked at). */
bool imap_idle_log_position_changed(struct imap_idle_log_position *pos,
				    struct mailbox *box);

#endif

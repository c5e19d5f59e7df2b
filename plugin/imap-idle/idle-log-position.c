/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "idle-dovecot-private.h"
#include "idle-log-position.h"

void imap_idle_log_position_init(struct imap_idle_log_position *pos)
{
	i_zero(pos);
	pos->looked_size = -1;
}

void imap_idle_log_position_synced(struct imap_idle_log_position *pos,
				   struct mailbox *box)
{
	pos->synced_known = imap_idle_private_log_synced(box,
		&pos->synced_ino, &pos->synced_offset);
}

/* Returns FALSE if the log can't be looked at. */
static bool log_look(struct imap_idle_log_position *pos, struct mailbox *box,
		     struct stat *st_r)
{
	const char *path = imap_idle_private_log_path(box);

	if (path == NULL || stat(path, st_r) < 0) {
		pos->looked_size = -1;
		return FALSE;
	}
	pos->looked_ino = st_r->st_ino;
	pos->looked_size = st_r->st_size;
	return TRUE;
}

bool imap_idle_log_position_grew(struct imap_idle_log_position *pos,
				 struct mailbox *box)
{
	struct stat st;

	if (!log_look(pos, box, &st) || !pos->synced_known)
		return TRUE;
	return st.st_ino != pos->synced_ino ||
		(uoff_t)st.st_size > pos->synced_offset;
}

bool imap_idle_log_position_changed(struct imap_idle_log_position *pos,
				    struct mailbox *box)
{
	ino_t ino = pos->looked_ino;
	off_t size = pos->looked_size;
	struct stat st;

	return !log_look(pos, box, &st) || size == -1 ||
		st.st_ino != ino || st.st_size != size;
}

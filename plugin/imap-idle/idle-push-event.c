/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "imap-common.h"
#include "ostream.h"
#include "mail-storage.h"
#include "idle-clock.h"
#include "idle-push-event.h"

/* A sync "reports something" when it wrote to the client: EXISTS,
   EXPUNGE, FETCH FLAGS, VANISHED, RECENT, HIGHESTMODSEQ.  New messages
   are those at or past the UIDNEXT the view had before the sync, so a
   sync that both expunges and appends is told apart from one that only
   moved flags; flag changes themselves are not counted (imap-sync.c
   keeps no count, and the bytes say that something was written). */

void imap_idle_push_signal(struct imap_idle_push *push,
			   enum idle_push_source source, uint64_t since_usecs)
{
	idle_push_origin_add(&push->pending, source, since_usecs);
}

void imap_idle_push_signal_now(struct imap_idle_push *push,
			       enum idle_push_source source)
{
	imap_idle_push_signal(push, source,
			      imap_idle_clock_monotonic_usecs());
}

void imap_idle_push_sync_started(struct imap_idle_push *push,
				 struct client *client)
{
	struct mailbox_status status;

	push->origin = idle_push_origin_take(&push->pending);
	push->messages_before = client->messages_count;
	mailbox_get_open_status(client->mailbox, STATUS_UIDNEXT, &status);
	push->uidnext_before = status.uidnext;
	push->output_offset = client->output->offset;
}

static uint32_t push_new_messages(const struct imap_idle_push *push,
				  struct mailbox *box)
{
	uint32_t seq1, seq2;

	mailbox_get_seq_range(box, push->uidnext_before, (uint32_t)-1,
			      &seq1, &seq2);
	return seq1 == 0 ? 0 : seq2 - seq1 + 1;
}

void imap_idle_push_sync_finished(struct imap_idle_push *push,
				  struct client *client, struct event *event)
{
	uint64_t latency = idle_push_origin_latency(&push->origin,
		imap_idle_clock_monotonic_usecs());
	const char *source = idle_push_source_name(push->origin.source);
	uint32_t before = push->messages_before;
	uint32_t after = client->messages_count;
	uint32_t appended, expunged;
	uoff_t bytes;

	if (client->output->offset <= push->output_offset)
		return;
	bytes = client->output->offset - push->output_offset;
	push->count++;
	appended = push_new_messages(push, client->mailbox);
	expunged = before + appended > after ? before + appended - after : 0;
	e_debug(event_create_passthrough(event)->
		set_name("imap_idle_push")->
		add_str("source", source)->
		add_int("latency_usecs", latency)->
		add_int("messages_before", before)->
		add_int("messages_after", after)->
		add_int("new_messages", appended)->
		add_int("expunged_messages", expunged)->
		add_int("output_bytes", bytes)->event(),
		"Pushed changes from %s: %u -> %u messages (%u new, "
		"%u expunged), %"PRIuUOFF_T" bytes, %"PRIu64" us after the "
		"signal", source, before, after, appended, expunged, bytes,
		latency);
}

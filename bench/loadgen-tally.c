/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "loadgen-tally.h"

#include <string.h>

void tally_init(struct tally *t, int n_mailboxes, int min_spacing_ms)
{
	memset(t, 0, sizeof(*t));
	t->n_mailboxes = n_mailboxes;
	t->mailboxes = xrealloc(NULL, n_mailboxes * sizeof(*t->mailboxes));
	memset(t->mailboxes, 0, n_mailboxes * sizeof(*t->mailboxes));
	t->min_spacing_ns = min_spacing_ms * NSEC_PER_MSEC;
}

void tally_add_idler(struct tally *t, struct idler *i, int mbox)
{
	struct mailbox *mb = &t->mailboxes[mbox];

	i->mbox = mbox;
	mb->idlers = xrealloc(mb->idlers,
			      (mb->n_idlers + 1) * sizeof(*mb->idlers));
	mb->idlers[mb->n_idlers++] = i;
}

bool idler_counts(const struct idler *i)
{
	return i->started && !i->failed && !i->done_ok;
}

/* Pairs of this idler that are confirmed by a 250 but not seen yet. */
static uint32_t idler_outstanding(const struct tally *t,
				  const struct idler *i)
{
	const struct mailbox *mb = &t->mailboxes[i->mbox];
	uint32_t expected = mb->base + mb->confirmed;

	return expected > i->exists ? expected - i->exists : 0;
}

void tally_selected(struct tally *t, int mbox, uint32_t exists,
		    bool count_mismatch)
{
	struct mailbox *mb = &t->mailboxes[mbox];

	if (!mb->base_known) {
		mb->base = exists;
		mb->base_known = true;
	} else if (mb->base != exists && count_mismatch) {
		t->select_mismatches++;
	}
}

/* The first EXISTS >= count at this idler: note when, and settle one
   pending pair if that count's 250 was already read. */
static void note_arrival(struct tally *t, struct idler *i, uint32_t count,
			 int64_t now)
{
	struct mailbox *mb = &t->mailboxes[i->mbox];
	size_t k;

	if (count <= mb->base || count - mb->base > MAX_ARRIVALS)
		return;
	k = count - mb->base - 1;
	i->arrival = array_grow(i->arrival, &i->arrival_cap, k + 1,
				sizeof(int64_t));
	if (i->arrival[k] == 0)
		i->arrival[k] = now;
	if (idler_counts(i) && count <= mb->base + mb->confirmed)
		t->pending_pairs--;
}

void tally_exists(struct tally *t, struct idler *i, uint32_t n,
		  int64_t now)
{
	uint32_t count;

	for (count = i->exists + 1; count <= n; count++)
		note_arrival(t, i, count, now);
	if (n > i->exists)
		i->exists = n;
}

void tally_idler_stops(struct tally *t, struct idler *i)
{
	if (idler_counts(i))
		t->pending_pairs -= idler_outstanding(t, i);
}

int tally_delivery_new(struct tally *t, int mbox,
		       enum delivery_purpose purpose)
{
	struct delivery *d;

	t->deliveries = array_grow(t->deliveries, &t->deliveries_cap,
				   t->n_deliveries + 1,
				   sizeof(*t->deliveries));
	d = &t->deliveries[t->n_deliveries];
	d->mbox = mbox;
	d->purpose = purpose;
	t->mailboxes[mbox].in_flight++;
	return (int)t->n_deliveries++;
}

void tally_delivery_sent(struct tally *t, int delivery, int64_t now)
{
	t->deliveries[delivery].t_dot = now;
}

void tally_delivery_confirmed(struct tally *t, int delivery, int64_t now)
{
	struct delivery *d = &t->deliveries[delivery];
	struct mailbox *mb = &t->mailboxes[d->mbox];
	uint32_t count;
	int i;

	d->t_250 = now;
	samples_add(&t->lmtp_dot, now - d->t_dot);
	samples_add(&t->window_dot, now - d->t_dot);
	mb->confirmed_deliveries = array_grow(mb->confirmed_deliveries,
		&mb->confirmed_cap, mb->confirmed + 1, sizeof(int));
	mb->confirmed_deliveries[mb->confirmed++] = delivery;
	mb->in_flight--;
	mb->next_allowed = now + t->min_spacing_ns;
	count = mb->base + mb->confirmed;
	for (i = 0; i < mb->n_idlers; i++) {
		const struct idler *idler = mb->idlers[i];

		if (idler_counts(idler) && idler->exists < count)
			t->pending_pairs++;
	}
	t->delivered_ok++;
	t->last_250 = now;
}

void tally_delivery_failed(struct tally *t, int delivery)
{
	t->mailboxes[t->deliveries[delivery].mbox].in_flight--;
	t->deliveries_failed++;
}

bool tally_may_receive(const struct tally *t, int mbox, int64_t now)
{
	const struct mailbox *mb = &t->mailboxes[mbox];

	return mb->in_flight == 0 && now >= mb->next_allowed;
}

bool tally_settled(const struct tally *t, int64_t now, int64_t settle_ns)
{
	return t->pending_pairs <= 0 || now >= t->last_250 + settle_ns;
}

void tally_window_reset(struct tally *t)
{
	t->window_dot.n = 0;
}

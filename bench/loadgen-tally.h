/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_TALLY_H
#define LOADGEN_TALLY_H

/* The measurement model, without any protocol.

   A mailbox's count is learned from SELECT (its base).  The k-th LMTP 250
   read for a mailbox confirms count base+k, whatever order concurrent
   transactions ran in: after k 250s at least base+k messages exist.  Each
   idler remembers when it first saw an EXISTS >= c, for every c above the
   base.  A (delivery, idler) pair's latency is that arrival time minus the
   delivery's 250's; it is negative if the EXISTS came first.  Arrival is
   when the kernel received the bytes (a socket receive timestamp), not
   when loadgen got to read them: on a machine it shares with Dovecot, its
   own scheduling delays stay out of the readings.  pending_pairs counts
   pairs whose 250 was read but whose EXISTS was not yet seen, so the
   settle waits know when to stop.  All latencies are computed once at the
   end from these arrays (see loadgen-report.c).

   The IMAP and LMTP clients report into the tally; neither knows the
   other. */

#include "loadgen-util.h"

#define MAX_ARRIVALS (10 * 1000 * 1000)

enum delivery_purpose { PURPOSE_RATE, PURPOSE_BURST, PURPOSE_SEED };

struct delivery {
	int mbox;
	enum delivery_purpose purpose;
	int64_t t_dot, t_250;
};

/* What the tally knows of one IMAP connection. */
struct idler {
	int mbox;
	bool started, failed, done_ok;
	uint32_t exists;	/* highest EXISTS seen */
	int64_t t_done_sent;
	uint32_t seen_at_done_ok;
	int64_t *arrival;	/* [k]: first EXISTS >= base+k+1 */
	size_t arrival_cap;
};

struct mailbox {
	bool base_known;
	uint32_t base, confirmed, in_flight;
	int64_t next_allowed;
	struct idler **idlers;
	int n_idlers;
	int *confirmed_deliveries;	/* in 250 order */
	size_t confirmed_cap;
};

struct tally {
	struct mailbox *mailboxes;
	int n_mailboxes;
	int64_t min_spacing_ns;
	struct delivery *deliveries;
	size_t n_deliveries, deliveries_cap;
	unsigned delivered_ok, deliveries_failed, select_mismatches;
	int64_t last_250, pending_pairs;
	/* LMTP '.' -> 250, over the run and since tally_window_reset() */
	struct samples lmtp_dot, window_dot;
};

void tally_init(struct tally *t, int n_mailboxes, int min_spacing_ms);
void tally_add_idler(struct tally *t, struct idler *i, int mbox);

/* An idler whose notifications are still being waited for. */
bool idler_counts(const struct idler *i);
/* SELECT on mbox reported exists; a count that differs from the
   mailbox's base is a mismatch if count_mismatch. */
void tally_selected(struct tally *t, int mbox, uint32_t exists,
		    bool count_mismatch);
/* EXISTS n at an idler. */
void tally_exists(struct tally *t, struct idler *i, uint32_t n,
		  int64_t now);
/* The idler stops counting (it failed or DONE was answered); call before
   changing its flags. */
void tally_idler_stops(struct tally *t, struct idler *i);

/* A new delivery to mbox; returns its index. */
int tally_delivery_new(struct tally *t, int mbox,
		       enum delivery_purpose purpose);
void tally_delivery_sent(struct tally *t, int delivery, int64_t now);
void tally_delivery_confirmed(struct tally *t, int delivery, int64_t now);
void tally_delivery_failed(struct tally *t, int delivery);
/* Spacing passed and no transaction in flight to this mailbox. */
bool tally_may_receive(const struct tally *t, int mbox, int64_t now);
/* Every live idler has seen every confirmed count, or settle_ns passed
   since the last 250. */
bool tally_settled(const struct tally *t, int64_t now, int64_t settle_ns);
void tally_window_reset(struct tally *t);

#endif

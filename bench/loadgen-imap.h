/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_IMAP_H
#define LOADGEN_IMAP_H

/* loadgen's IMAP sessions.  An idler goes LOGIN, SELECT INBOX, IDLE and
   waits for '+'; at the end DONE, NOOP, (FETCH FLAGS), LOGOUT.  The
   flag-storm session goes LOGIN, SELECT and then runs the STOREs and
   FETCH it is given.  Counts go to the tally; the owner of the sessions
   hears through setup_ended when a connection leaves setup. */

#include "loadgen-diag.h"
#include "loadgen-net.h"
#include "loadgen-tally.h"

#include <time.h>

enum imap_step {
	STEP_NONE, STEP_CONNECT, STEP_GREETING, STEP_LOGIN, STEP_SELECT,
	STEP_IDLE, STEP_IDLING, STEP_READY, STEP_STORE, STEP_DONE,
	STEP_NOOP, STEP_FETCH, STEP_LOGOUT, STEP_CLOSED
};

/* Flags as an idler or the storm session last learned them. */
enum flag_view { FLAG_UNKNOWN, FLAG_CLEAR, FLAG_SET };

struct imap_config {
	int port;
	const char *user_prefix, *password;
	int setup_timeout_secs, command_timeout_secs;
	int initial_count;	/* expected EXISTS at SELECT; -1: any */
	int flags_mbox;		/* mailbox whose flags are tracked; -1 */
};

struct imap_client {
	struct imap_config cfg;
	const struct net *net;
	struct diag *diag;
	struct tally *tally;
	/* a connection left setup: it idles (ok) or failed */
	void (*setup_ended)(void *context, bool ok);
	void *context;
	/* the storm session once its final flags are known, else NULL */
	const struct imap_conn *flag_reference;

	time_t t_start_real;	/* keepalive histogram's second 0 */
	int n_idling, n_conn_failed;
	int64_t t_setup_last, t_last_store_ok;
	uint32_t *ka_hist;
	size_t ka_hist_cap;
	unsigned ka_total, expunges_seen, noop_new;
};

struct imap_conn {
	struct endpoint ep;
	struct imap_client *client;
	struct idler view;
	bool is_storm;
	enum imap_step step;
	unsigned tag_seq;
	char tag[16];
	struct buf resp;	/* one response, literals cut out */
	size_t literal_left;
	char bye[96];
	uint8_t *flags;		/* [seq], flag-tracked mailbox only */
	size_t flags_cap;
	bool flag_mismatch_at_done, flag_mismatch_after_fetch;
	unsigned keepalives;
};

void imap_conn_init(struct imap_client *cl, struct imap_conn *c, int mbox,
		    bool is_storm);
/* Is this connection's mailbox the flag-tracked one? */
bool imap_tracks_flags(const struct imap_conn *c);
/* Neither never opened nor closed. */
bool imap_conn_open(const struct imap_conn *c);
/* Starts connect, greeting, LOGIN, SELECT (and IDLE for idlers). */
void imap_connect(struct imap_conn *c);
/* Sends a tagged command and expects its reply in the step given. */
void imap_command(struct imap_conn *c, enum imap_step step,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Ends IDLE; the reply is expected within the command timeout. */
void imap_send_done(struct imap_conn *c, int64_t now);
/* Records the reason, closes the connection, settles its pending pairs. */
void imap_fail(struct imap_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Does c's flag view differ from the reference session's? */
bool imap_flags_differ(const struct imap_conn *c,
		       const struct imap_conn *reference);
void imap_event(struct imap_conn *c, uint32_t events);

#endif

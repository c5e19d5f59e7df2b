/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_LMTP_H
#define LOADGEN_LMTP_H

/* loadgen's LMTP client: LHLO once, then one transaction at a time per
   connection (MAIL, RCPT, DATA, message, '.'), a new MAIL after each 250
   and RSET after a failed step.  A connection the server closes while
   idle is reconnected when the next delivery needs it.  Deliveries are
   counted in the tally; the owner hears through ready when a connection
   can take the next one. */

#include "loadgen-diag.h"
#include "loadgen-net.h"
#include "loadgen-tally.h"

#include <time.h>

enum lmtp_step {
	LMTP_NONE, LMTP_CONNECT, LMTP_GREETING, LMTP_LHLO, LMTP_READY,
	LMTP_MAIL, LMTP_RCPT, LMTP_DATA, LMTP_DOT, LMTP_RSET, LMTP_QUIT,
	LMTP_CLOSED
};

struct lmtp_client;

struct lmtp_conn {
	struct endpoint ep;
	struct lmtp_client *client;
	enum lmtp_step step;
	int delivery;		/* index in the tally's deliveries or -1 */
};

struct lmtp_client {
	int port, command_timeout_secs;
	const char *user_prefix;
	time_t t_start_real;	/* in the Message-IDs */
	const struct net *net;
	struct diag *diag;
	struct tally *tally;
	void (*ready)(void *context);
	void *context;

	struct lmtp_conn *conns;
	int n_conns, reconnects;
};

/* Allocates and connects n connections. */
void lmtp_start(struct lmtp_client *cl, int n);
void lmtp_event(struct lmtp_conn *l, uint32_t events);
void lmtp_fail(struct lmtp_conn *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Starts one delivery to mbox on a free connection; false if none is
   free (a dropped one is then reconnected). */
bool lmtp_deliver(struct lmtp_client *cl, int mbox,
		  enum delivery_purpose purpose);
/* Every connection got past LHLO (or failed). */
bool lmtp_all_ready(const struct lmtp_client *cl);
/* Is any transaction in flight? */
bool lmtp_busy(const struct lmtp_client *cl);
/* Is any connection open or reconnectable? */
bool lmtp_usable(const struct lmtp_client *cl);
/* QUIT on idle connections, the others closed as failed. */
void lmtp_quit_all(struct lmtp_client *cl);
bool lmtp_all_closed(const struct lmtp_client *cl);
/* After a timeout: close what is still open. */
void lmtp_fail_open(struct lmtp_client *cl, const char *why);
/* Fails connections whose reply is overdue at now. */
void lmtp_check_deadlines(struct lmtp_client *cl, int64_t now);

#endif

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* loadgen's LMTP client: LHLO once, then one transaction at a time per
   connection (MAIL, RCPT, DATA, message, '.'), a new MAIL after each 250
   and RSET after a failed step. A connection the server closes while idle
   is reconnected when the next delivery needs it. */

#include "loadgen.h"

static const char *const lmtp_step_names[] = {
	"none", "connect", "greeting", "LHLO", "ready", "MAIL", "RCPT",
	"DATA", "end of data", "RSET", "QUIT", "closed"
};

static void lmtp_command(struct lmtp_conn *l, enum lmtp_step step,
			 const char *text, size_t len)
{
	l->step = step;
	l->ep.deadline = now_ns() + opt.command_timeout_secs * NSEC_PER_SEC;
	if (ep_send(&l->ep, text, len) < 0)
		lmtp_fail(l, "write: %s", strerror(errno));
}

void lmtp_commandf(struct lmtp_conn *l, enum lmtp_step step,
		   const char *fmt, ...)
{
	char line[256];
	va_list args;
	int len;

	va_start(args, fmt);
	len = vsnprintf(line, sizeof(line) - 2, fmt, args);
	va_end(args);
	memcpy(line + len, "\r\n", 2);
	lmtp_command(l, step, line, len + 2);
}

void lmtp_connect(struct lmtp_conn *l)
{
	int err;

	l->step = LMTP_CONNECT;
	l->delivery = -1;
	l->ep.deadline = now_ns() + opt.command_timeout_secs * NSEC_PER_SEC;
	if ((err = ep_connect(&l->ep, opt.lmtp_port)) != 0)
		lmtp_fail(l, "%s", strerror(err));
}

static void delivery_failed(struct lmtp_conn *l, const char *reply)
{
	struct delivery *d = &lg.deliveries[l->delivery];

	lg.mailboxes[d->mbox].in_flight--;
	lg.deliveries_failed++;
	l->delivery = -1;
	record_error("lmtp %s: %.100s", lmtp_step_names[l->step], reply);
}

void lmtp_fail(struct lmtp_conn *l, const char *fmt, ...)
{
	char detail[128];
	va_list args;

	va_start(args, fmt);
	vsnprintf(detail, sizeof(detail), fmt, args);
	va_end(args);
	if (l->delivery >= 0)
		delivery_failed(l, detail);
	else
		record_error("lmtp %s: %s", lmtp_step_names[l->step], detail);
	ep_close(&l->ep);
	l->step = LMTP_CLOSED;
}

/* The k-th 250 for a mailbox confirms count base+k (see loadgen.h). */
static void delivery_confirmed(struct lmtp_conn *l, int64_t now)
{
	struct delivery *d = &lg.deliveries[l->delivery];
	struct mailbox *mb = &lg.mailboxes[d->mbox];
	uint32_t count;
	int i;

	d->t_250 = now;
	samples_add(&lg.lmtp_dot, now - d->t_dot);
	mb->confirmed_deliveries = array_grow(mb->confirmed_deliveries,
		&mb->confirmed_cap, mb->confirmed + 1, sizeof(int));
	mb->confirmed_deliveries[mb->confirmed++] = l->delivery;
	mb->in_flight--;
	mb->next_allowed = now + opt.min_spacing_ms * NSEC_PER_MSEC;
	count = mb->base + mb->confirmed;
	for (i = 0; i < mb->n_idlers; i++) {
		struct imap_conn *c = &lg.conns[mb->idlers[i]];

		if (idler_counts(c) && c->exists < count)
			lg.pending_pairs++;
	}
	lg.delivered_ok++;
	lg.last_250 = now;
	l->delivery = -1;
}

static void lmtp_send_message(struct lmtp_conn *l)
{
	struct delivery *d = &lg.deliveries[l->delivery];
	char msg[1024], date[64];
	time_t t = time(NULL);
	struct tm tm;
	int len;

	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
		 gmtime_r(&t, &tm));
	len = snprintf(msg, sizeof(msg),
		"From: loadgen <loadgen@localhost>\r\n"
		"To: <%s%d>\r\n"
		"Subject: loadgen delivery %zu\r\n"
		"Message-ID: <%ld.%d.%zu@loadgen.invalid>\r\n"
		"Date: %s\r\n\r\n"
		"Benchmark message %zu.\r\n.\r\n",
		opt.user_prefix, d->mbox + 1, (size_t)l->delivery,
		(long)lg.t_start_real, (int)getpid(), (size_t)l->delivery,
		date, (size_t)l->delivery);
	lmtp_command(l, LMTP_DOT, msg, len);
	d->t_dot = now_ns();
}

/* One complete (possibly multi-line) reply. */
static void lmtp_reply(struct lmtp_conn *l, int code, const char *line,
		       int64_t now)
{
	static const int expected[] = {
		[LMTP_GREETING] = 220, [LMTP_LHLO] = 250, [LMTP_MAIL] = 250,
		[LMTP_RCPT] = 250, [LMTP_DATA] = 354, [LMTP_DOT] = 250,
		[LMTP_RSET] = 250, [LMTP_QUIT] = 221,
	};

	if (l->step > LMTP_QUIT || code != expected[l->step]) {
		if (l->delivery < 0 || l->step == LMTP_RSET) {
			lmtp_fail(l, "%.100s", line);
			return;
		}
		delivery_failed(l, line);
		lmtp_commandf(l, LMTP_RSET, "RSET");
		return;
	}
	switch (l->step) {
	case LMTP_GREETING:
		lmtp_commandf(l, LMTP_LHLO, "LHLO loadgen.invalid");
		return;
	case LMTP_MAIL:
		lmtp_commandf(l, LMTP_RCPT, "RCPT TO:<%s%d>", opt.user_prefix,
			      lg.deliveries[l->delivery].mbox + 1);
		return;
	case LMTP_RCPT:
		lmtp_commandf(l, LMTP_DATA, "DATA");
		return;
	case LMTP_DATA:
		lmtp_send_message(l);
		return;
	case LMTP_DOT:
		delivery_confirmed(l, now);
		break;
	case LMTP_QUIT:
		ep_close(&l->ep);
		l->step = LMTP_CLOSED;
		return;
	default:
		break;
	}
	l->step = LMTP_READY;	/* LHLO, end of data, RSET */
	l->ep.deadline = 0;
	deliver_kick();
}

static void lmtp_input(struct lmtp_conn *l, int64_t now)
{
	size_t pos = 0;
	char *line;

	while (l->step != LMTP_CLOSED &&
	       (line = next_line(&l->ep.in, &pos)) != NULL) {
		if (strlen(line) >= 4 && line[3] == '-')
			continue;	/* multi-line: act on the last */
		lmtp_reply(l, atoi(line), line, now);
	}
	buf_consume(&l->ep.in, pos);
}

void lmtp_event(struct lmtp_conn *l, uint32_t events)
{
	int64_t received = 0;
	ssize_t n;
	int err;

	if (l->step == LMTP_CONNECT) {
		if ((err = ep_connect_result(&l->ep)) != 0) {
			lmtp_fail(l, "%s", strerror(err));
			return;
		}
		l->step = LMTP_GREETING;
	}
	if ((events & EPOLLOUT) != 0 && ep_flush(&l->ep) < 0) {
		lmtp_fail(l, "write: %s", strerror(errno));
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
		return;
	n = ep_read(&l->ep, &received);
	if (n > 0) {
		lmtp_input(l, received);
	} else if (n == 0 && l->step == LMTP_READY) {
		/* idle connection dropped by the server: reconnect lazily */
		ep_close(&l->ep);
		l->step = LMTP_NONE;
	} else if (n == 0) {
		lmtp_fail(l, "closed by server");
	} else if (n == -1) {
		lmtp_fail(l, "read: %s", strerror(errno));
	}
}

/* Start one delivery to mbox on a free LMTP connection. */
bool delivery_start(int mbox, enum delivery_purpose purpose)
{
	struct lmtp_conn *l = NULL;
	struct delivery *d;
	int i;

	for (i = 0; i < lg.n_lmtp && l == NULL; i++) {
		if (lg.lmtp[i].step == LMTP_READY)
			l = &lg.lmtp[i];
	}
	if (l == NULL) {
		for (i = 0; i < lg.n_lmtp; i++) {
			if (lg.lmtp[i].step == LMTP_NONE) {
				lg.lmtp_reconnects++;
				lmtp_connect(&lg.lmtp[i]);
				break;
			}
		}
		return false;
	}
	lg.deliveries = array_grow(lg.deliveries, &lg.deliveries_cap,
				   lg.n_deliveries + 1, sizeof(*lg.deliveries));
	d = &lg.deliveries[lg.n_deliveries];
	d->mbox = mbox;
	d->purpose = purpose;
	l->delivery = lg.n_deliveries++;
	lg.mailboxes[mbox].in_flight++;
	lmtp_commandf(l, LMTP_MAIL, "MAIL FROM:<loadgen@localhost>");
	return true;
}

bool lmtp_busy(void)
{
	int i;

	for (i = 0; i < lg.n_lmtp; i++) {
		if (lg.lmtp[i].delivery >= 0)
			return true;
	}
	return false;
}

bool lmtp_usable(void)
{
	int i;

	for (i = 0; i < lg.n_lmtp; i++) {
		if (lg.lmtp[i].step != LMTP_CLOSED)
			return true;
	}
	return false;
}

/* Spacing and one transaction at a time, except in a burst. */
bool mailbox_may_receive(int mbox, int64_t now)
{
	const struct mailbox *mb = &lg.mailboxes[mbox];

	return mb->in_flight == 0 && now >= mb->next_allowed;
}

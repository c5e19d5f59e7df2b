/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "loadgen-lmtp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static const char *const lmtp_step_names[] = {
	"none", "connect", "greeting", "LHLO", "ready", "MAIL", "RCPT",
	"DATA", "end of data", "RSET", "QUIT", "closed"
};

static void lmtp_command(struct lmtp_conn *l, enum lmtp_step step,
			 const char *text, size_t len)
{
	const struct lmtp_client *cl = l->client;

	l->step = step;
	l->ep.deadline = now_ns() + cl->command_timeout_secs * NSEC_PER_SEC;
	if (ep_send(cl->net, &l->ep, text, len) < 0)
		lmtp_fail(l, "write: %s", strerror(errno));
}

static void lmtp_commandf(struct lmtp_conn *l, enum lmtp_step step,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void lmtp_commandf(struct lmtp_conn *l, enum lmtp_step step,
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

static void lmtp_connect(struct lmtp_conn *l)
{
	const struct lmtp_client *cl = l->client;
	int err;

	l->step = LMTP_CONNECT;
	l->delivery = -1;
	l->ep.deadline = now_ns() + cl->command_timeout_secs * NSEC_PER_SEC;
	if ((err = ep_connect(cl->net, &l->ep, cl->port)) != 0)
		lmtp_fail(l, "%s", strerror(err));
}

void lmtp_start(struct lmtp_client *cl, int n)
{
	int i;

	cl->n_conns = n;
	cl->conns = xrealloc(NULL, n * sizeof(*cl->conns));
	memset(cl->conns, 0, n * sizeof(*cl->conns));
	for (i = 0; i < n; i++) {
		cl->conns[i].ep.kind = EP_LMTP;
		cl->conns[i].client = cl;
		lmtp_connect(&cl->conns[i]);
	}
}

static void delivery_failed(struct lmtp_conn *l, const char *reply)
{
	tally_delivery_failed(l->client->tally, l->delivery);
	l->delivery = -1;
	diag_error(l->client->diag, "lmtp %s: %.100s",
		   lmtp_step_names[l->step], reply);
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
		diag_error(l->client->diag, "lmtp %s: %s",
			   lmtp_step_names[l->step], detail);
	ep_close(&l->ep);
	l->step = LMTP_CLOSED;
}

static void lmtp_send_message(struct lmtp_conn *l)
{
	const struct lmtp_client *cl = l->client;
	int mbox = cl->tally->deliveries[l->delivery].mbox;
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
		cl->user_prefix, mbox + 1, (size_t)l->delivery,
		(long)cl->t_start_real, (int)getpid(), (size_t)l->delivery,
		date, (size_t)l->delivery);
	/* stamped before the send: after it, a descheduled loadgen could
	   stamp the '.' later than the kernel stamps the 250 */
	tally_delivery_sent(cl->tally, l->delivery, now_ns());
	lmtp_command(l, LMTP_DOT, msg, len);
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
	struct lmtp_client *cl = l->client;

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
		lmtp_commandf(l, LMTP_RCPT, "RCPT TO:<%s%d>", cl->user_prefix,
			      cl->tally->deliveries[l->delivery].mbox + 1);
		return;
	case LMTP_RCPT:
		lmtp_commandf(l, LMTP_DATA, "DATA");
		return;
	case LMTP_DATA:
		lmtp_send_message(l);
		return;
	case LMTP_DOT:
		tally_delivery_confirmed(cl->tally, l->delivery, now);
		l->delivery = -1;
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
	cl->ready(cl->context);
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
	const struct net *net = l->client->net;
	int64_t received = 0;
	ssize_t n;
	int err;

	if (l->step == LMTP_CONNECT) {
		if ((err = ep_connect_result(net, &l->ep)) != 0) {
			lmtp_fail(l, "%s", strerror(err));
			return;
		}
		l->step = LMTP_GREETING;
	}
	if ((events & EPOLLOUT) != 0 && ep_flush(net, &l->ep) < 0) {
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

bool lmtp_deliver(struct lmtp_client *cl, int mbox,
		  enum delivery_purpose purpose)
{
	struct lmtp_conn *l = NULL;
	int i;

	for (i = 0; i < cl->n_conns && l == NULL; i++) {
		if (cl->conns[i].step == LMTP_READY)
			l = &cl->conns[i];
	}
	if (l == NULL) {
		for (i = 0; i < cl->n_conns; i++) {
			if (cl->conns[i].step == LMTP_NONE) {
				cl->reconnects++;
				lmtp_connect(&cl->conns[i]);
				break;
			}
		}
		return false;
	}
	l->delivery = tally_delivery_new(cl->tally, mbox, purpose);
	lmtp_commandf(l, LMTP_MAIL, "MAIL FROM:<loadgen@localhost>");
	return true;
}

bool lmtp_all_ready(const struct lmtp_client *cl)
{
	int i;

	for (i = 0; i < cl->n_conns; i++) {
		if (cl->conns[i].step < LMTP_READY)
			return false;
	}
	return true;
}

bool lmtp_busy(const struct lmtp_client *cl)
{
	int i;

	for (i = 0; i < cl->n_conns; i++) {
		if (cl->conns[i].delivery >= 0)
			return true;
	}
	return false;
}

bool lmtp_usable(const struct lmtp_client *cl)
{
	int i;

	for (i = 0; i < cl->n_conns; i++) {
		if (cl->conns[i].step != LMTP_CLOSED)
			return true;
	}
	return false;
}

static bool lmtp_open(const struct lmtp_conn *l)
{
	return l->step != LMTP_CLOSED && l->step != LMTP_NONE;
}

void lmtp_quit_all(struct lmtp_client *cl)
{
	int i;

	for (i = 0; i < cl->n_conns; i++) {
		if (cl->conns[i].step == LMTP_READY)
			lmtp_commandf(&cl->conns[i], LMTP_QUIT, "QUIT");
		else if (lmtp_open(&cl->conns[i]))
			lmtp_fail(&cl->conns[i], "aborted");
	}
}

bool lmtp_all_closed(const struct lmtp_client *cl)
{
	int i;

	for (i = 0; i < cl->n_conns; i++) {
		if (lmtp_open(&cl->conns[i]))
			return false;
	}
	return true;
}

void lmtp_fail_open(struct lmtp_client *cl, const char *why)
{
	int i;

	for (i = 0; i < cl->n_conns; i++) {
		if (cl->conns[i].ep.fd >= 0)
			lmtp_fail(&cl->conns[i], "%s", why);
	}
}

void lmtp_check_deadlines(struct lmtp_client *cl, int64_t now)
{
	int i;

	for (i = 0; i < cl->n_conns; i++) {
		struct lmtp_conn *l = &cl->conns[i];

		if (l->ep.fd >= 0 && l->ep.deadline != 0 &&
		    now > l->ep.deadline)
			lmtp_fail(l, "timeout");
	}
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* One command is in flight per connection, so the expected tag is the
   last one sent (DONE answers with IDLE's tag). */

#include "loadgen-imap.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define MAX_RESPONSE_LEN (1024 * 1024)

static const char *const imap_step_names[] = {
	"none", "connect", "greeting", "LOGIN", "SELECT", "IDLE", "IDLING",
	"selected", "STORE", "DONE", "NOOP", "FETCH", "LOGOUT", "closed"
};

void imap_conn_init(struct imap_client *cl, struct imap_conn *c, int mbox,
		    bool is_storm)
{
	memset(c, 0, sizeof(*c));
	c->ep.kind = EP_IMAP;
	c->ep.fd = -1;
	c->client = cl;
	c->is_storm = is_storm;
	if (is_storm)
		c->view.mbox = mbox;
	else
		tally_add_idler(cl->tally, &c->view, mbox);
}

bool imap_tracks_flags(const struct imap_conn *c)
{
	return c->view.mbox == c->client->cfg.flags_mbox;
}

bool imap_conn_open(const struct imap_conn *c)
{
	return c->step != STEP_NONE && c->step != STEP_CLOSED;
}

static void set_flag(struct imap_conn *c, uint32_t seq, enum flag_view v)
{
	if (seq >= MAX_ARRIVALS)
		return;
	c->flags = array_grow(c->flags, &c->flags_cap, seq + 1, 1);
	c->flags[seq] = v;
}

static void imap_close(struct imap_conn *c)
{
	ep_close(&c->ep);
	c->step = STEP_CLOSED;
}

void imap_fail(struct imap_conn *c, const char *fmt, ...)
{
	struct imap_client *cl = c->client;
	bool in_setup = !c->is_storm && !c->view.started;
	char detail[128];
	va_list args;

	va_start(args, fmt);
	vsnprintf(detail, sizeof(detail), fmt, args);
	va_end(args);
	diag_error(cl->diag, "imap %s%s: %s",
		   c->is_storm ? "flag-storm " : "",
		   imap_step_names[c->step], detail);
	if (!c->is_storm)
		tally_idler_stops(cl->tally, &c->view);
	c->view.failed = true;
	cl->n_conn_failed++;
	imap_close(c);
	if (in_setup)
		cl->setup_ended(cl->context, false);
}

static bool imap_in_setup(const struct imap_conn *c)
{
	return c->step <= STEP_IDLE;
}

static void imap_send(struct imap_conn *c, const char *data, size_t len)
{
	if (ep_send(c->client->net, &c->ep, data, len) < 0)
		imap_fail(c, "write: %s", strerror(errno));
}

/* The reply is expected within the command timeout, or within the setup
   timeout while logging in. */
void imap_command(struct imap_conn *c, enum imap_step step,
		  const char *fmt, ...)
{
	char line[512];
	va_list args;
	int len;

	c->tag_seq++;
	snprintf(c->tag, sizeof(c->tag), "a%u", c->tag_seq);
	len = snprintf(line, sizeof(line) - 2, "%s ", c->tag);
	va_start(args, fmt);
	len += vsnprintf(line + len, sizeof(line) - 2 - len, fmt, args);
	va_end(args);
	memcpy(line + len, "\r\n", 2);
	c->step = step;
	if (!imap_in_setup(c))
		c->ep.deadline = now_ns() +
			c->client->cfg.command_timeout_secs * NSEC_PER_SEC;
	imap_send(c, line, len + 2);
}

void imap_send_done(struct imap_conn *c, int64_t now)
{
	c->view.t_done_sent = now;
	c->step = STEP_DONE;
	c->ep.deadline = now +
		c->client->cfg.command_timeout_secs * NSEC_PER_SEC;
	imap_send(c, "DONE\r\n", 6);
}

/* IMAP quoted string for LOGIN. */
static void imap_quote(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	dst[n++] = '"';
	for (; *src != '\0' && n + 3 < size; src++) {
		if (*src == '"' || *src == '\\')
			dst[n++] = '\\';
		dst[n++] = *src;
	}
	dst[n++] = '"';
	dst[n] = '\0';
}

void imap_connect(struct imap_conn *c)
{
	const struct imap_client *cl = c->client;
	int err;

	c->step = STEP_CONNECT;
	c->ep.deadline = now_ns() + cl->cfg.setup_timeout_secs * NSEC_PER_SEC;
	err = ep_connect(cl->net, &c->ep, cl->cfg.port);
	if (err != 0)
		imap_fail(c, "%s", strerror(err));
}

static void imap_login(struct imap_conn *c)
{
	const struct imap_config *cfg = &c->client->cfg;
	char pass[256];

	imap_quote(pass, sizeof(pass), cfg->password);
	imap_command(c, STEP_LOGIN, "LOGIN %s%d %s", cfg->user_prefix,
		     c->view.mbox + 1, pass);
}

/* SELECT finished: its EXISTS is this connection's starting count. */
static void imap_selected(struct imap_conn *c)
{
	struct imap_client *cl = c->client;
	uint32_t seq;

	tally_selected(cl->tally, c->view.mbox, c->view.exists,
		       !c->is_storm);
	if (cl->cfg.initial_count >= 0 && !c->is_storm &&
	    c->view.exists != (uint32_t)cl->cfg.initial_count)
		cl->tally->select_mismatches++;
	if (imap_tracks_flags(c)) {
		for (seq = 1; seq <= c->view.exists; seq++)
			set_flag(c, seq, FLAG_UNKNOWN);
	}
}

static void imap_idle_started(struct imap_conn *c, int64_t now)
{
	struct imap_client *cl = c->client;

	c->step = STEP_IDLING;
	c->view.started = true;
	c->ep.deadline = 0;
	cl->n_idling++;
	cl->t_setup_last = now;
	cl->setup_ended(cl->context, true);
}

static void imap_exists(struct imap_conn *c, uint32_t n, int64_t now)
{
	uint32_t count;

	if (c->step == STEP_SELECT || c->is_storm) {
		c->view.exists = n;
		return;
	}
	if (imap_tracks_flags(c)) {
		/* new mail has no flags */
		for (count = c->view.exists + 1; count <= n; count++)
			set_flag(c, count, FLAG_CLEAR);
	}
	tally_exists(c->client->tally, &c->view, n, now);
}

static void imap_keepalive(struct imap_conn *c)
{
	struct imap_client *cl = c->client;
	size_t sec = time(NULL) - cl->t_start_real;

	c->keepalives++;
	cl->ka_total++;
	cl->ka_hist = array_grow(cl->ka_hist, &cl->ka_hist_cap, sec + 1,
				 sizeof(uint32_t));
	cl->ka_hist[sec]++;
}

/* "* seq FETCH (... FLAGS (\Seen \Flagged) ...)": is \Flagged set? */
static void imap_fetch(struct imap_conn *c, uint32_t seq, const char *rest)
{
	const char *p = strcasestr(rest, "FLAGS (");
	bool flagged = false;

	if (p == NULL || !imap_tracks_flags(c))
		return;
	for (p += 7; *p != '\0' && *p != ')'; p++) {
		if (*p == '\\' && word_is(p, "\\Flagged"))
			flagged = true;
	}
	set_flag(c, seq, flagged ? FLAG_SET : FLAG_CLEAR);
}

static void imap_untagged(struct imap_conn *c, const char *rest, int64_t now)
{
	unsigned long n;
	char *end;

	if (c->step == STEP_GREETING) {
		if (word_is(rest, "OK"))
			imap_login(c);
		else
			imap_fail(c, "%.80s", rest);
		return;
	}
	if (strncmp(rest, "OK Still here", 13) == 0) {
		imap_keepalive(c);
	} else if (word_is(rest, "BYE")) {
		snprintf(c->bye, sizeof(c->bye), "%s", rest);
	} else if (isdigit((unsigned char)rest[0])) {
		n = strtoul(rest, &end, 10);
		if (*end++ != ' ')
			return;
		if (word_is(end, "EXISTS"))
			imap_exists(c, n, now);
		else if (word_is(end, "EXPUNGE"))
			c->client->expunges_seen++;
		else if (word_is(end, "FETCH"))
			imap_fetch(c, n, end + 5);
	}
}

bool imap_flags_differ(const struct imap_conn *c,
		       const struct imap_conn *reference)
{
	uint32_t seq, n = reference->view.exists;

	if (c->view.exists != n || c->flags_cap <= c->view.exists ||
	    reference->flags_cap <= n)
		return true;
	for (seq = 1; seq <= n; seq++) {
		if (c->flags[seq] != reference->flags[seq])
			return true;
	}
	return false;
}

/* Against the storm's final view; false while that is not known. */
static bool flags_differ_final(const struct imap_conn *c)
{
	const struct imap_conn *ref = c->client->flag_reference;

	return ref != NULL && imap_flags_differ(c, ref);
}

static void imap_done_ok(struct imap_conn *c)
{
	tally_idler_stops(c->client->tally, &c->view);
	c->view.done_ok = true;
	c->view.seen_at_done_ok = c->view.exists;
	if (imap_tracks_flags(c))
		c->flag_mismatch_at_done = flags_differ_final(c);
	imap_command(c, STEP_NOOP, "NOOP");
}

/* The storm session waits for its next command. */
static void imap_ready(struct imap_conn *c)
{
	c->step = STEP_READY;
	c->ep.deadline = 0;
}

/* The next command after a tagged OK, per step. */
static void imap_tagged_ok(struct imap_conn *c, int64_t now)
{
	switch (c->step) {
	case STEP_LOGIN:
		imap_command(c, STEP_SELECT, "SELECT INBOX");
		break;
	case STEP_SELECT:
		imap_selected(c);
		if (c->is_storm)
			imap_ready(c);
		else
			imap_command(c, STEP_IDLE, "IDLE");
		break;
	case STEP_STORE:
		c->client->t_last_store_ok = now;
		imap_ready(c);
		break;
	case STEP_FETCH:
		if (c->is_storm) {
			imap_ready(c);
			break;
		}
		c->flag_mismatch_after_fetch = flags_differ_final(c);
		imap_command(c, STEP_LOGOUT, "LOGOUT");
		break;
	case STEP_DONE:
		imap_done_ok(c);
		break;
	case STEP_NOOP:
		if (c->view.exists > c->view.seen_at_done_ok)
			c->client->noop_new++;
		if (imap_tracks_flags(c))
			imap_command(c, STEP_FETCH, "FETCH 1:* (FLAGS)");
		else
			imap_command(c, STEP_LOGOUT, "LOGOUT");
		break;
	case STEP_LOGOUT:
		imap_close(c);
		break;
	default:
		imap_fail(c, "unexpected tagged reply");
		break;
	}
}

/* Cut the " [host:YYYY-MM-DD HH:MM:SS]" Dovecot appends to internal
   errors, so one cause gives one error reason. */
static void strip_server_stamp(char *text)
{
	char *bracket = strrchr(text, '[');
	size_t len = strlen(text);

	if (bracket != NULL && bracket > text && bracket[-1] == ' ' &&
	    text[len - 1] == ']' && strchr(bracket, ':') != NULL &&
	    strchr(bracket, '-') != NULL)
		bracket[-1] = '\0';
}

static void imap_response(struct imap_conn *c, char *line, int64_t now)
{
	size_t tag_len = strlen(c->tag);

	if (line[0] == '*' && line[1] == ' ') {
		imap_untagged(c, line + 2, now);
	} else if (line[0] == '+') {
		if (c->step == STEP_IDLE)
			imap_idle_started(c, now);
		else
			imap_fail(c, "unexpected continuation");
	} else if (c->tag_seq > 0 && strncmp(line, c->tag, tag_len) == 0 &&
		   line[tag_len] == ' ') {
		if (word_is(line + tag_len + 1, "OK")) {
			imap_tagged_ok(c, now);
		} else {
			strip_server_stamp(line);
			imap_fail(c, "%.100s", line + tag_len + 1);
		}
	} else {
		imap_fail(c, "unparsable response");
	}
}

/* A line ending in {n} or {n+} announces an n-byte literal. */
static bool ends_with_literal(const struct buf *b, size_t *len_r)
{
	const char *p = b->data + b->len;

	if (b->len < 3 || p[-1] != '}')
		return false;
	p -= 2;
	if (*p == '+')
		p--;
	while (p > b->data && isdigit((unsigned char)*p))
		p--;
	if (*p != '{' || !isdigit((unsigned char)p[1]))
		return false;
	*len_r = strtoul(p + 1, NULL, 10);
	return true;
}

/* Split input into responses; literal contents are skipped, the text on
   both sides of them joined. */
static void imap_input(struct imap_conn *c, int64_t now)
{
	struct buf *in = &c->ep.in;
	size_t pos = 0, skip;
	char *line;

	while (pos < in->len && c->step != STEP_CLOSED) {
		if (c->literal_left > 0) {
			skip = in->len - pos < c->literal_left ?
				in->len - pos : c->literal_left;
			pos += skip;
			c->literal_left -= skip;
			continue;
		}
		if ((line = next_line(in, &pos)) == NULL)
			break;
		buf_append(&c->resp, line, strlen(line));
		if (ends_with_literal(&c->resp, &c->literal_left))
			continue;
		imap_response(c, c->resp.data, now);
		c->resp.len = 0;
	}
	if (c->step != STEP_CLOSED && c->resp.len + in->len >
	    MAX_RESPONSE_LEN)
		imap_fail(c, "response too long");
	buf_consume(in, pos);
}

void imap_event(struct imap_conn *c, uint32_t events)
{
	const struct net *net = c->client->net;
	int64_t received = 0;
	ssize_t n;
	int err;

	if (c->step == STEP_CONNECT) {
		if ((err = ep_connect_result(net, &c->ep)) != 0) {
			imap_fail(c, "%s", strerror(err));
			return;
		}
		c->step = STEP_GREETING;
	}
	if ((events & EPOLLOUT) != 0 && ep_flush(net, &c->ep) < 0) {
		imap_fail(c, "write: %s", strerror(errno));
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
		return;
	n = ep_read(&c->ep, &received);
	if (n > 0)
		imap_input(c, received);
	else if (n == 0 && c->step == STEP_LOGOUT)
		imap_close(c);
	else if (n == 0)
		imap_fail(c, "closed by server%s%.80s", c->bye[0] ? ": " : "",
			  c->bye);
	else if (n == -1)
		imap_fail(c, "read: %s", strerror(errno));
}

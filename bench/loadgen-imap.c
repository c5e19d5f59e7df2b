/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* loadgen's IMAP sessions. An idler goes LOGIN, SELECT INBOX, IDLE and waits
   for '+'; at the end DONE, NOOP, (FETCH FLAGS), LOGOUT. The flag-storm
   session goes LOGIN, SELECT and then runs the STOREs and FETCH it is given.
   One command is in flight per connection, so the expected tag is the
   last one sent (DONE answers with IDLE's tag). */

#include "loadgen.h"

static const char *const imap_step_names[] = {
	"none", "connect", "greeting", "LOGIN", "SELECT", "IDLE", "IDLING",
	"selected", "STORE", "DONE", "NOOP", "FETCH", "LOGOUT", "closed"
};

static struct mailbox *conn_mailbox(const struct imap_conn *c)
{
	return &lg.mailboxes[c->mbox];
}

bool tracks_flags(const struct imap_conn *c)
{
	return storm_enabled() && c->mbox == opt.storm_user - 1;
}

/* An idler whose notifications are still being waited for. */
bool idler_counts(const struct imap_conn *c)
{
	return !c->is_storm && c->idle_started && !c->failed && !c->done_ok;
}

/* Pairs of this idler that are confirmed by a 250 but not seen yet. */
static uint32_t idler_outstanding(const struct imap_conn *c)
{
	const struct mailbox *mb = conn_mailbox(c);
	uint32_t expected = mb->base + mb->confirmed;

	return expected > c->exists ? expected - c->exists : 0;
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
	char detail[128];
	va_list args;

	va_start(args, fmt);
	vsnprintf(detail, sizeof(detail), fmt, args);
	va_end(args);
	record_error("imap %s%s: %s", c->is_storm ? "flag-storm " : "",
		     imap_step_names[c->step], detail);
	if (idler_counts(c))
		lg.pending_pairs -= idler_outstanding(c);
	if (!c->is_storm && !c->idle_started)
		lg.setup_in_flight--;
	c->failed = true;
	lg.n_conn_failed++;
	imap_close(c);
	if (!c->is_storm && !c->idle_started)
		setup_fill();
}

static bool imap_in_setup(const struct imap_conn *c)
{
	return c->step <= STEP_IDLE;
}

/* Send a tagged command; the reply is expected within the command
   timeout, or within the setup timeout while logging in. */
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
			opt.command_timeout_secs * NSEC_PER_SEC;
	if (ep_send(&c->ep, line, len + 2) < 0)
		imap_fail(c, "write: %s", strerror(errno));
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
	int err;

	c->step = STEP_CONNECT;
	c->ep.deadline = now_ns() + opt.setup_timeout_secs * NSEC_PER_SEC;
	err = ep_connect(&c->ep, opt.imap_port);
	if (err != 0)
		imap_fail(c, "%s", strerror(err));
}

static void imap_login(struct imap_conn *c)
{
	char pass[256];

	imap_quote(pass, sizeof(pass), opt.password);
	imap_command(c, STEP_LOGIN, "LOGIN %s%d %s", opt.user_prefix,
		     c->mbox + 1, pass);
}

/* SELECT finished: its EXISTS is this connection's starting count. */
static void imap_selected(struct imap_conn *c)
{
	struct mailbox *mb = conn_mailbox(c);
	uint32_t seq;

	if (!mb->base_known) {
		mb->base = c->exists;
		mb->base_known = true;
	} else if (mb->base != c->exists && !c->is_storm) {
		lg.select_mismatches++;
	}
	if (opt.initial_count >= 0 && !c->is_storm &&
	    c->exists != (uint32_t)opt.initial_count)
		lg.select_mismatches++;
	if (tracks_flags(c)) {
		for (seq = 1; seq <= c->exists; seq++)
			set_flag(c, seq, FLAG_UNKNOWN);
	}
}

static void imap_idle_started(struct imap_conn *c, int64_t now)
{
	c->step = STEP_IDLING;
	c->idle_started = true;
	c->ep.deadline = 0;
	lg.n_idling++;
	lg.setup_in_flight--;
	lg.t_setup_last = now;
	setup_fill();
}

/* The first EXISTS >= count at this idler: note when, and settle one
   pending pair if that count's 250 was already read. */
static void imap_note_arrival(struct imap_conn *c, uint32_t count,
			      int64_t now)
{
	struct mailbox *mb = conn_mailbox(c);
	size_t k;

	if (tracks_flags(c))
		set_flag(c, count, FLAG_CLEAR);	/* new mail has no flags */
	if (count <= mb->base || count - mb->base > MAX_ARRIVALS)
		return;
	k = count - mb->base - 1;
	c->arrival = array_grow(c->arrival, &c->arrival_cap, k + 1,
				sizeof(int64_t));
	if (c->arrival[k] == 0)
		c->arrival[k] = now;
	if (idler_counts(c) && count <= mb->base + mb->confirmed)
		lg.pending_pairs--;
}

static void imap_exists(struct imap_conn *c, uint32_t n, int64_t now)
{
	uint32_t count;

	if (c->step == STEP_SELECT || c->is_storm) {
		c->exists = n;
		return;
	}
	for (count = c->exists + 1; count <= n; count++)
		imap_note_arrival(c, count, now);
	if (n > c->exists)
		c->exists = n;
}

static void imap_keepalive(struct imap_conn *c)
{
	size_t sec = time(NULL) - lg.t_start_real;

	c->keepalives++;
	lg.ka_total++;
	lg.ka_hist = array_grow(lg.ka_hist, &lg.ka_hist_cap, sec + 1,
				sizeof(uint32_t));
	lg.ka_hist[sec]++;
}

/* "* seq FETCH (... FLAGS (\Seen \Flagged) ...)": is \Flagged set? */
static void imap_fetch(struct imap_conn *c, uint32_t seq, const char *rest)
{
	const char *p = strcasestr(rest, "FLAGS (");
	bool flagged = false;

	if (p == NULL || !tracks_flags(c))
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
			lg.expunges_seen++;
		else if (word_is(end, "FETCH"))
			imap_fetch(c, n, end + 5);
	}
}

/* Do this idler's flags match the storm session's final view? */
bool flags_differ(const struct imap_conn *c)
{
	const struct imap_conn *s = &lg.storm;
	uint32_t seq;

	if (!lg.storm_final_known)
		return false;
	if (c->exists != s->exists || c->flags_cap <= c->exists ||
	    s->flags_cap <= s->exists)
		return true;
	for (seq = 1; seq <= s->exists; seq++) {
		if (c->flags[seq] != s->flags[seq])
			return true;
	}
	return false;
}

static void imap_done_ok(struct imap_conn *c)
{
	lg.pending_pairs -= idler_outstanding(c);
	c->done_ok = true;
	c->seen_at_done_ok = c->exists;
	if (tracks_flags(c))
		c->flag_mismatch_at_done = flags_differ(c);
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
		lg.t_last_store_ok = now;
		imap_ready(c);
		break;
	case STEP_FETCH:
		if (c->is_storm) {
			imap_ready(c);
			break;
		}
		c->flag_mismatch_after_fetch = flags_differ(c);
		imap_command(c, STEP_LOGOUT, "LOGOUT");
		break;
	case STEP_DONE:
		imap_done_ok(c);
		break;
	case STEP_NOOP:
		if (c->exists > c->seen_at_done_ok)
			lg.noop_new++;
		if (tracks_flags(c))
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
	int64_t received = 0;
	ssize_t n;
	int err;

	if (c->step == STEP_CONNECT) {
		if ((err = ep_connect_result(&c->ep)) != 0) {
			imap_fail(c, "%s", strerror(err));
			return;
		}
		c->step = STEP_GREETING;
	}
	if ((events & EPOLLOUT) != 0 && ep_flush(&c->ep) < 0) {
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

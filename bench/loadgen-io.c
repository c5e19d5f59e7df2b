/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* Helpers for loadgen: time, growable buffers and arrays, the error and
   warning tables, and non-blocking sockets registered with lg.epfd. */

#include "loadgen.h"

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (p == NULL && size > 0) {
		fputs("loadgen: out of memory\n", stderr);
		exit(EXIT_INTERNAL);
	}
	return p;
}

/* Grow an array of elem_size elements to hold at least need elements,
   zero-filling the new part. Returns the (maybe moved) array. */
void *array_grow(void *arr, size_t *cap, size_t need,
		 size_t elem_size)
{
	size_t new_cap = *cap == 0 ? 16 : *cap;

	if (need <= *cap)
		return arr;
	while (new_cap < need)
		new_cap *= 2;
	arr = xrealloc(arr, new_cap * elem_size);
	memset((char *)arr + *cap * elem_size, 0,
	       (new_cap - *cap) * elem_size);
	*cap = new_cap;
	return arr;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
	b->data = array_grow(b->data, &b->cap, b->len + len + 1, 1);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_consume(struct buf *b, size_t len)
{
	memmove(b->data, b->data + len, b->len - len);
	b->len -= len;
}

void samples_add(struct samples *s, int64_t value)
{
	s->v = array_grow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = value;
}

/* True if s starts with word (any case) followed by NUL, space or a
   parenthesis. */
bool word_is(const char *s, const char *word)
{
	size_t len = strlen(word);

	return strncasecmp(s, word, len) == 0 &&
		(s[len] == '\0' || strchr(" ()", s[len]) != NULL);
}

void warn(const char *fmt, ...)
{
	va_list args;

	if (lg.n_warnings == 8)
		return;
	va_start(args, fmt);
	vsnprintf(lg.warnings[lg.n_warnings], sizeof(lg.warnings[0]),
		  fmt, args);
	va_end(args);
	fprintf(stderr, "%sloadgen: warning: %s\n", lg.tty ? "\n" : "",
		lg.warnings[lg.n_warnings++]);
}

/* Failures are aggregated by text, so the text carries no per-connection
   detail. */
void record_error(const char *fmt, ...)
{
	char text[sizeof(lg.reasons[0].text)];
	va_list args;
	int i;

	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	for (i = 0; i < lg.n_reasons; i++) {
		if (strcmp(lg.reasons[i].text, text) == 0)
			break;
	}
	if (i == MAX_REASONS) {
		i--;	/* the last slot is "other" */
	} else if (i == lg.n_reasons) {
		if (i == MAX_REASONS - 1)
			snprintf(text, sizeof(text), "other");
		memcpy(lg.reasons[i].text, text, sizeof(text));
		lg.n_reasons++;
	}
	lg.reasons[i].count++;
}

void ep_set_events(struct endpoint *ep, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = ep };

	if (ep->events != events &&
	    epoll_ctl(lg.epfd, EPOLL_CTL_MOD, ep->fd, &ev) == 0)
		ep->events = events;
}

/* Start a non-blocking connect; completion shows up as EPOLLOUT.
   Returns 0 or an errno value. */
int ep_connect(struct endpoint *ep, int port)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
	} addr = { .sin = { .sin_family = AF_INET } };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	int one = 1, err;

	addr.sin.sin_port = htons(port);
	inet_pton(AF_INET, opt.host, &addr.sin.sin_addr);
	ep->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (ep->fd < 0)
		return errno;
	setsockopt(ep->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* see received_at() */
	setsockopt(ep->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (connect(ep->fd, &addr.sa, sizeof(addr.sin)) < 0 &&
	    errno != EINPROGRESS) {
		err = errno;
		close(ep->fd);
		ep->fd = -1;
		return err;
	}
	ev.data.ptr = ep;
	ep->events = ev.events;
	ep->in.len = ep->out.len = 0;
	if (epoll_ctl(lg.epfd, EPOLL_CTL_ADD, ep->fd, &ev) < 0) {
		err = errno;
		close(ep->fd);
		ep->fd = -1;
		return err;
	}
	return 0;
}

/* Returns 0 when the connect finished, else its errno. */
int ep_connect_result(struct endpoint *ep)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(ep->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	if (err == 0)
		ep_set_events(ep, EPOLLIN);
	return err;
}

void ep_close(struct endpoint *ep)
{
	if (ep->fd >= 0)
		close(ep->fd);	/* also leaves the epoll set */
	ep->fd = -1;
	ep->deadline = 0;
}

/* Write now what the socket takes and queue the rest. -1 on error. */
int ep_send(struct endpoint *ep, const char *data, size_t len)
{
	ssize_t n = 0;

	if (ep->out.len == 0) {
		n = send(ep->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n < 0)
			n = 0;
	}
	if ((size_t)n < len) {
		buf_append(&ep->out, data + n, len - n);
		ep_set_events(ep, EPOLLIN | EPOLLOUT);
	}
	return 0;
}

int ep_flush(struct endpoint *ep)
{
	ssize_t n;

	if (ep->out.len == 0)
		return 0;
	n = send(ep->fd, ep->out.data, ep->out.len, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	buf_consume(&ep->out, n);
	if (ep->out.len == 0)
		ep_set_events(ep, EPOLLIN);
	return 0;
}

/* When the kernel received the newest bytes of msg, on the monotonic
   clock, or now if it didn't say.  Its stamp is wall-clock time; how long
   ago that was, taken from both clocks at once, carries over. */
static int64_t received_at(struct msghdr *msg)
{
	struct cmsghdr *cmsg;
	struct timespec stamp, real;
	int64_t now = now_ns(), age;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	     cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&stamp, CMSG_DATA(cmsg), sizeof(stamp));
		clock_gettime(CLOCK_REALTIME, &real);
		age = (real.tv_sec - stamp.tv_sec) * NSEC_PER_SEC +
			(real.tv_nsec - stamp.tv_nsec);
		return age > 0 ? now - age : now;
	}
	return now;
}

/* Returns bytes read, 0 on EOF, -1 on error (errno set; EAGAIN is not an
   error and returns -2).  *received_r: when they reached the socket. */
ssize_t ep_read(struct endpoint *ep, int64_t *received_r)
{
	char control[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;

	ep->in.data = array_grow(ep->in.data, &ep->in.cap,
				  ep->in.len + READ_CHUNK, 1);
	iov.iov_base = ep->in.data + ep->in.len;
	iov.iov_len = READ_CHUNK;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	n = recvmsg(ep->fd, &msg, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -2 : -1;
	*received_r = received_at(&msg);
	ep->in.len += n;
	return n;
}

/* Next complete line of in starting at *pos, CR/LF cut off and NUL
   terminated in place. */
char *next_line(struct buf *in, size_t *pos)
{
	char *start = in->data + *pos, *nl;

	nl = memchr(start, '\n', in->len - *pos);
	if (nl == NULL)
		return NULL;
	*nl = '\0';
	if (nl > start && nl[-1] == '\r')
		nl[-1] = '\0';
	*pos = nl + 1 - in->data;
	return start;
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "loadgen-net.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void ep_set_events(const struct net *net, struct endpoint *ep,
			  uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = ep };

	if (ep->events != events &&
	    epoll_ctl(net->epfd, EPOLL_CTL_MOD, ep->fd, &ev) == 0)
		ep->events = events;
}

int ep_connect(const struct net *net, struct endpoint *ep, int port)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
	} addr = { .sin = { .sin_family = AF_INET } };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	int one = 1, err;

	addr.sin.sin_port = htons(port);
	addr.sin.sin_addr = net->host;
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
	if (epoll_ctl(net->epfd, EPOLL_CTL_ADD, ep->fd, &ev) < 0) {
		err = errno;
		close(ep->fd);
		ep->fd = -1;
		return err;
	}
	return 0;
}

int ep_connect_result(const struct net *net, struct endpoint *ep)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(ep->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	if (err == 0)
		ep_set_events(net, ep, EPOLLIN);
	return err;
}

void ep_close(struct endpoint *ep)
{
	if (ep->fd >= 0)
		close(ep->fd);	/* also leaves the epoll set */
	ep->fd = -1;
	ep->deadline = 0;
}

int ep_send(const struct net *net, struct endpoint *ep, const char *data,
	    size_t len)
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
		ep_set_events(net, ep, EPOLLIN | EPOLLOUT);
	}
	return 0;
}

int ep_flush(const struct net *net, struct endpoint *ep)
{
	ssize_t n;

	if (ep->out.len == 0)
		return 0;
	n = send(ep->fd, ep->out.data, ep->out.len, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	buf_consume(&ep->out, n);
	if (ep->out.len == 0)
		ep_set_events(net, ep, EPOLLIN);
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

#define READ_CHUNK 4096

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

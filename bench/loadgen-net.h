/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_NET_H
#define LOADGEN_NET_H

/* Non-blocking TCP sockets registered with one epoll set.  Every socket
   is an endpoint; an endpoint is the first member of the IMAP and LMTP
   connections, so an epoll event leads back to its connection. */

#include "loadgen-util.h"

#include <netinet/in.h>
#include <sys/types.h>

enum endpoint_kind { EP_TIMER, EP_IMAP, EP_LMTP };

struct endpoint {
	enum endpoint_kind kind;
	int fd;
	uint32_t events;
	struct buf in, out;
	int64_t deadline;	/* 0: not waiting for the server */
};

struct net {
	int epfd;
	struct in_addr host;
};

/* ep_connect() returns 0 or an errno; completion shows up as EPOLLOUT
   and ep_connect_result() then returns 0 or the errno.  ep_send() writes
   what the socket takes and queues the rest (-1 on error), ep_flush()
   continues on EPOLLOUT.  ep_read() returns bytes read, 0 at EOF, -1 on
   error (errno set) and -2 if nothing was there; with bytes, also when
   the kernel received them. */
int ep_connect(const struct net *net, struct endpoint *ep, int port);
int ep_connect_result(const struct net *net, struct endpoint *ep);
void ep_close(struct endpoint *ep);
int ep_send(const struct net *net, struct endpoint *ep, const char *data,
	    size_t len);
int ep_flush(const struct net *net, struct endpoint *ep);
ssize_t ep_read(struct endpoint *ep, int64_t *received_r);

#endif

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_DONE_SCANNER_H
#define IDLE_DONE_SCANNER_H

#include <stdbool.h>
#include <stddef.h>

/* Recognizes the client's lines while IDLE runs, byte by byte, without
   buffering a line: a line is DONE (any case, CRLF or bare LF), some other
   line, or a line longer than the limit.  Bytes after the first complete
   line are never consumed, so pipelined commands stay in the stream. */

enum idle_done_verdict {
	/* No complete line yet; every byte given was consumed. */
	IDLE_DONE_NEED_MORE = 0,
	IDLE_DONE_DONE,
	IDLE_DONE_OTHER_LINE,
	IDLE_DONE_TOO_LONG,
};

struct idle_done_scanner {
	size_t max_line_len;
	size_t line_len;
	bool skipping;     /* discarding the rest of the IDLE command line */
	bool matching;     /* the line so far could still be DONE */
	bool cr_seen;      /* the previous byte was CR */
	bool too_long;
};

/* skip_first_line: the rest of the "tag IDLE ..." line is still unread and
   must be discarded first.  max_line_len counts bytes before CRLF. */
void idle_done_scanner_init(struct idle_done_scanner *scanner,
			    bool skip_first_line, size_t max_line_len);

/* Scans data and sets *consumed_r to the bytes that belong to the lines
   seen (up to and including the LF ending a verdict line).  Returns a
   verdict once a whole line after the skipped one has been seen; the
   scanner is then ready for the next line. */
enum idle_done_verdict
idle_done_scanner_feed(struct idle_done_scanner *scanner,
		       const unsigned char *data, size_t size,
		       size_t *consumed_r);

/* Readable name of a verdict, for logs and tests. */
const char *idle_done_verdict_name(enum idle_done_verdict verdict);

#endif

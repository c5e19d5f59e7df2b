/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "done-scanner.h"

/* The line is matched against "DONE" while it streams past, so nothing is
   buffered: byte i of the line must equal "DONE"[i] (any case), byte 4 may
   only be the CR of a CRLF ending, and any later byte ends the match.  A CR
   that is not followed by LF is an ordinary byte of the line. */

static const char done_word[] = "DONE";
#define DONE_LEN (sizeof(done_word) - 1)

static unsigned char ascii_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

static void scanner_new_line(struct idle_done_scanner *scanner)
{
	scanner->line_len = 0;
	scanner->matching = true;
	scanner->cr_seen = false;
	scanner->too_long = false;
}

void idle_done_scanner_init(struct idle_done_scanner *scanner,
			    bool skip_first_line, size_t max_line_len)
{
	scanner->max_line_len = max_line_len;
	scanner->skipping = skip_first_line;
	scanner_new_line(scanner);
}

static enum idle_done_verdict
scanner_end_line(struct idle_done_scanner *scanner)
{
	size_t len = scanner->line_len - (scanner->cr_seen ? 1 : 0);
	enum idle_done_verdict verdict;

	if (scanner->too_long)
		verdict = IDLE_DONE_TOO_LONG;
	else if (scanner->matching && len == DONE_LEN)
		verdict = IDLE_DONE_DONE;
	else
		verdict = IDLE_DONE_OTHER_LINE;
	scanner_new_line(scanner);
	return verdict;
}

static void scanner_add_byte(struct idle_done_scanner *scanner,
			     unsigned char c)
{
	size_t pos = scanner->line_len++;

	if (pos < DONE_LEN)
		scanner->matching &= ascii_upper(c) == (unsigned char)done_word[pos];
	else if (pos == DONE_LEN)
		scanner->matching &= c == '\r';
	else
		scanner->matching = false;
	scanner->cr_seen = c == '\r';
	/* a CR ending the line does not count towards the limit */
	if (scanner->line_len - (scanner->cr_seen ? 1 : 0) >
	    scanner->max_line_len)
		scanner->too_long = true;
}

enum idle_done_verdict
idle_done_scanner_feed(struct idle_done_scanner *scanner,
		       const unsigned char *data, size_t size,
		       size_t *consumed_r)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (data[i] == '\n') {
			if (scanner->skipping) {
				scanner->skipping = false;
				scanner_new_line(scanner);
				continue;
			}
			*consumed_r = i + 1;
			return scanner_end_line(scanner);
		}
		if (!scanner->skipping)
			scanner_add_byte(scanner, data[i]);
	}
	*consumed_r = size;
	return IDLE_DONE_NEED_MORE;
}

const char *idle_done_verdict_name(enum idle_done_verdict verdict)
{
	switch (verdict) {
	case IDLE_DONE_NEED_MORE:
		return "need-more";
	case IDLE_DONE_DONE:
		return "done";
	case IDLE_DONE_OTHER_LINE:
		return "other-line";
	case IDLE_DONE_TOO_LONG:
		return "too-long";
	}
	return "unknown";
}

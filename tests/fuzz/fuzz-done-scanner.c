/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* libFuzzer harness for the DONE scanner: client bytes cut into chunks at
   points the input chooses.  Checked against a model that reads the
   whole stream as lines (split at LF, one trailing CR dropped): every
   cut gives the verdicts the model gives, at the same offsets, and each
   call's result keeps the contract of idle_done_scanner_feed().

   Input layout: byte 0 = flags (bit 0: skip the first line), byte 1 =
   max_line_len (0..255), byte 2 = how many cut sizes follow (0..15),
   then that many cut sizes (1..256 each, cycled), then the client's
   bytes. */

#include "done-scanner.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define MAX_VERDICTS 4096

struct verdict_at {
	enum idle_done_verdict verdict;
	size_t end;	/* offset just past the LF that ended the line */
};

static void fail(const char *what, size_t pos)
{
	fprintf(stderr, "fuzz-done-scanner: %s (at offset %zu)\n", what, pos);
	abort();
}

static enum idle_done_verdict model_line(const uint8_t *line, size_t len,
					 size_t max_line_len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > max_line_len)
		return IDLE_DONE_TOO_LONG;
	if (len == 4 && strncasecmp((const char *)line, "DONE", 4) == 0)
		return IDLE_DONE_DONE;
	return IDLE_DONE_OTHER_LINE;
}

static size_t model(const uint8_t *data, size_t size, int skip,
		    size_t max_line_len, struct verdict_at *out)
{
	size_t start = 0, i, n = 0;

	for (i = 0; i < size && n < MAX_VERDICTS; i++) {
		if (data[i] != '\n')
			continue;
		if (skip)
			skip = 0;
		else {
			out[n].verdict = model_line(data + start, i - start,
						    max_line_len);
			out[n++].end = i + 1;
		}
		start = i + 1;
	}
	return n;
}

/* Feeds data in chunks of the given sizes; a verdict's leftover bytes
   are fed again, as imap_idle_input_scan() leaves them in the stream. */
static size_t scan_in_chunks(const uint8_t *data, size_t size, int skip,
			     size_t max_line_len, const uint8_t *cuts,
			     size_t cut_count, struct verdict_at *out)
{
	struct idle_done_scanner scanner;
	enum idle_done_verdict verdict;
	size_t pos = 0, chunk_end = 0, consumed, n = 0, cut = 0, len;

	idle_done_scanner_init(&scanner, skip, max_line_len);
	while (pos < size && n < MAX_VERDICTS) {
		if (pos >= chunk_end) {
			len = cut_count == 0 ? size :
				(size_t)cuts[cut++ % cut_count] + 1;
			chunk_end = pos + len > size ? size : pos + len;
		}
		consumed = (size_t)-1;
		verdict = idle_done_scanner_feed(&scanner, data + pos,
						 chunk_end - pos, &consumed);
		if (consumed > chunk_end - pos)
			fail("consumed more than it was given", pos);
		if (verdict == IDLE_DONE_NEED_MORE) {
			if (consumed != chunk_end - pos)
				fail("need-more left bytes unconsumed", pos);
		} else {
			if (consumed == 0 || data[pos + consumed - 1] != '\n')
				fail("a verdict did not end at an LF", pos);
			if (idle_done_verdict_name(verdict)[0] == 'u')
				fail("verdict has no name", pos);
			out[n].verdict = verdict;
			out[n++].end = pos + consumed;
		}
		pos += consumed;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct verdict_at expected[MAX_VERDICTS], got[MAX_VERDICTS],
		whole[MAX_VERDICTS];
	const uint8_t *cuts;
	size_t cut_count, max_line_len, n_expected, n_got, n_whole, i;
	int skip;

	if (size < 3)
		return 0;
	skip = data[0] & 1;
	max_line_len = data[1];
	cut_count = data[2] & 15;
	if (size < 3 + cut_count)
		return 0;
	cuts = data + 3;
	data += 3 + cut_count;
	size -= 3 + cut_count;

	n_expected = model(data, size, skip, max_line_len, expected);
	n_got = scan_in_chunks(data, size, skip, max_line_len, cuts,
			       cut_count, got);
	/* the same stream in one piece, and byte by byte */
	n_whole = scan_in_chunks(data, size, skip, max_line_len, NULL, 0,
				 whole);
	if (n_got != n_expected || n_whole != n_expected)
		fail("verdict count differs from the model", n_got);
	for (i = 0; i < n_expected; i++) {
		if (got[i].verdict != expected[i].verdict ||
		    got[i].end != expected[i].end ||
		    whole[i].verdict != expected[i].verdict ||
		    whole[i].end != expected[i].end)
			fail("verdict differs from the model", expected[i].end);
	}
	return 0;
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "istream.h"
#include "idle-input.h"

enum idle_done_verdict
imap_idle_input_scan(struct istream *input, struct idle_done_scanner *scanner)
{
	const unsigned char *data;
	size_t size, consumed;
	enum idle_done_verdict verdict;

	do {
		data = i_stream_get_data(input, &size);
		if (size == 0)
			return IDLE_DONE_NEED_MORE;
		verdict = idle_done_scanner_feed(scanner, data, size,
						 &consumed);
		i_stream_skip(input, consumed);
	} while (verdict == IDLE_DONE_NEED_MORE);
	return verdict;
}

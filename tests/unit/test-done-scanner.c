/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "done-scanner.h"
#include "unit-main.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every row is scanned as given, then mutated: split into two feeds at
   every byte, fed one byte at a time, with the CR of its verdict line
   dropped or added, and with junk appended.  A mutation must not change
   the verdict, and the bytes consumed only by the CR it removed or added;
   the appended junk is never consumed. */

#define MAX_INPUT 256
#define DEFAULT_MAX 100

struct scan_case {
	const char *input;
	bool skip_first_line;
	size_t max_line_len;
	enum idle_done_verdict verdict;
	/* bytes consumed when the verdict comes (right after its LF), or
	   with NEED_MORE the whole input */
	size_t consumed;
};

static const struct scan_case scan_cases[] = {
	/* DONE in any case, CRLF or bare LF */
	{ "DONE\r\n", false, DEFAULT_MAX, IDLE_DONE_DONE, 6 },
	{ "DONE\n", false, DEFAULT_MAX, IDLE_DONE_DONE, 5 },
	{ "done\r\n", false, DEFAULT_MAX, IDLE_DONE_DONE, 6 },
	{ "Done\r\n", false, DEFAULT_MAX, IDLE_DONE_DONE, 6 },
	{ "dOnE\n", false, DEFAULT_MAX, IDLE_DONE_DONE, 5 },
	/* almost DONE: Dovecot's built-in IDLE compares the whole line */
	{ "DONE \r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 7 },
	{ "DONE \n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 6 },
	{ " DONE\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 7 },
	{ "DONE\t\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 7 },
	{ "DON\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 5 },
	{ "DON\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 4 },
	{ "DONEX\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 7 },
	{ "DONEDONE\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 10 },
	{ "D\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 3 },
	{ "DXNE\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 6 },
	{ "D\xc3\x96NE\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 7 },
	{ "a2 NOOP\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 9 },
	/* empty lines */
	{ "\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 2 },
	{ "\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 1 },
	/* a CR not followed by LF is an ordinary byte */
	{ "DO\rNE\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 7 },
	{ "DONE\r\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 7 },
	{ "\rDONE\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 7 },
	{ "DONE\rX\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 8 },
	{ "DONE\rDONE\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 10 },
	{ "\r\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 3 },
	/* pipelined data after the line stays in the stream */
	{ "DONE\r\na2 NOOP\r\n", false, DEFAULT_MAX, IDLE_DONE_DONE, 6 },
	{ "DONE\na2 NOOP\r\n", false, DEFAULT_MAX, IDLE_DONE_DONE, 5 },
	{ "DONE\r\nDONE\r\n", false, DEFAULT_MAX, IDLE_DONE_DONE, 6 },
	{ "DONE\r\n\r\n", false, DEFAULT_MAX, IDLE_DONE_DONE, 6 },
	{ "done\r\na2 LOGOUT", false, DEFAULT_MAX, IDLE_DONE_DONE, 6 },
	{ "x\r\nDONE\r\n", false, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 3 },
	/* the length limit counts the bytes before the line ending */
	{ "12345678\r\n", false, 8, IDLE_DONE_OTHER_LINE, 10 },
	{ "12345678\n", false, 8, IDLE_DONE_OTHER_LINE, 9 },
	{ "123456789\r\n", false, 8, IDLE_DONE_TOO_LONG, 11 },
	{ "123456789\n", false, 8, IDLE_DONE_TOO_LONG, 10 },
	{ "1234567\r\r\n", false, 8, IDLE_DONE_OTHER_LINE, 10 },
	{ "12345678\r\r\n", false, 8, IDLE_DONE_TOO_LONG, 11 },
	{ "12345678\rX\n", false, 8, IDLE_DONE_TOO_LONG, 11 },
	{ "1234567890123456789\r\n", false, 8, IDLE_DONE_TOO_LONG, 21 },
	{ "123456789\r\nDONE\r\n", false, 8, IDLE_DONE_TOO_LONG, 11 },
	{ "DONE\r\n", false, 4, IDLE_DONE_DONE, 6 },
	{ "DONE\n", false, 4, IDLE_DONE_DONE, 5 },
	{ "DONE\r\n", false, 3, IDLE_DONE_TOO_LONG, 6 },
	{ "DONE \r\n", false, 4, IDLE_DONE_TOO_LONG, 7 },
	{ "DONE\r\r\n", false, 4, IDLE_DONE_TOO_LONG, 7 },
	{ "\r\n", false, 0, IDLE_DONE_OTHER_LINE, 2 },
	{ "x\r\n", false, 0, IDLE_DONE_TOO_LONG, 3 },
	/* skip_first_line: the rest of the IDLE command line is discarded */
	{ "a1 IDLE junk\r\nDONE\r\n", true, DEFAULT_MAX, IDLE_DONE_DONE, 20 },
	{ " junk\r\nDONE\r\n", true, DEFAULT_MAX, IDLE_DONE_DONE, 13 },
	{ "\r\nDONE\r\n", true, DEFAULT_MAX, IDLE_DONE_DONE, 8 },
	{ "\nDONE\n", true, DEFAULT_MAX, IDLE_DONE_DONE, 6 },
	{ "DONE\r\nDONE\r\n", true, DEFAULT_MAX, IDLE_DONE_DONE, 12 },
	{ "\r\nDONE\r\nDONE\r\n", true, DEFAULT_MAX, IDLE_DONE_DONE, 8 },
	{ "\r\nfoo\r\n", true, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 7 },
	{ "\r\n\r\n", true, DEFAULT_MAX, IDLE_DONE_OTHER_LINE, 4 },
	{ "a1 IDLE with a long tail\r\nDONE\r\n", true, 4,
	  IDLE_DONE_DONE, 32 },
	{ "\r\n123456789\r\n", true, 8, IDLE_DONE_TOO_LONG, 13 },
	/* no complete line yet: everything is consumed */
	{ "", false, DEFAULT_MAX, IDLE_DONE_NEED_MORE, 0 },
	{ "DON", false, DEFAULT_MAX, IDLE_DONE_NEED_MORE, 3 },
	{ "DONE", false, DEFAULT_MAX, IDLE_DONE_NEED_MORE, 4 },
	{ "DONE\r", false, DEFAULT_MAX, IDLE_DONE_NEED_MORE, 5 },
	{ "123456789", false, 8, IDLE_DONE_NEED_MORE, 9 },
	{ "a1 IDLE\r\n", true, DEFAULT_MAX, IDLE_DONE_NEED_MORE, 9 },
	{ "a1 IDLE", true, DEFAULT_MAX, IDLE_DONE_NEED_MORE, 7 },
	{ "junk\r\nDONE\r", true, DEFAULT_MAX, IDLE_DONE_NEED_MORE, 11 },
};

static const char *escape(const char *data, size_t size, char *buf,
			  size_t buf_size)
{
	size_t i, pos = 0;
	unsigned char c;

	for (i = 0; i < size && pos + 5 < buf_size; i++) {
		c = (unsigned char)data[i];
		if (c == '\r')
			pos += snprintf(buf + pos, buf_size - pos, "\\r");
		else if (c == '\n')
			pos += snprintf(buf + pos, buf_size - pos, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			pos += snprintf(buf + pos, buf_size - pos,
					"\\x%02x", c);
		else
			buf[pos++] = (char)c;
	}
	buf[pos] = '\0';
	return buf;
}

/* Feeds data[0..size) in pieces ending at cuts[] (ascending) and at size,
   until the first verdict, as the shell does.  Checks the feed contract on
   the way and returns the verdict; *consumed_r is the total consumed. */
static enum idle_done_verdict
scan_pieces(const char *label, bool skip_first_line, size_t max_line_len,
	    const char *data, size_t size, const size_t *cuts,
	    unsigned int cuts_count, size_t *consumed_r)
{
	struct idle_done_scanner scanner;
	enum idle_done_verdict verdict = IDLE_DONE_NEED_MORE;
	size_t start = 0, end, consumed;
	unsigned int i;

	idle_done_scanner_init(&scanner, skip_first_line, max_line_len);
	for (i = 0; i <= cuts_count; i++) {
		end = i < cuts_count ? cuts[i] : size;
		consumed = (size_t)-1;
		verdict = idle_done_scanner_feed(&scanner,
			(const unsigned char *)data + start, end - start,
			&consumed);
		if (verdict != IDLE_DONE_NEED_MORE) {
			UNIT_CHECK(consumed >= 1 && consumed <= end - start &&
				   data[start + consumed - 1] == '\n',
				   "%s: piece [%zu,%zu) gave %s but "
				   "consumed %zu",
				   label, start, end,
				   idle_done_verdict_name(verdict), consumed);
			*consumed_r = start + consumed;
			return verdict;
		}
		UNIT_CHECK(consumed == end - start,
			   "%s: piece [%zu,%zu) needs more but consumed %zu",
			   label, start, end, consumed);
		start = end;
	}
	*consumed_r = size;
	return verdict;
}

static void check_scan(const char *label, const struct scan_case *c,
		       const char *data, size_t size, const size_t *cuts,
		       unsigned int cuts_count,
		       enum idle_done_verdict verdict, size_t consumed)
{
	enum idle_done_verdict got;
	size_t got_consumed;

	got = scan_pieces(label, c->skip_first_line, c->max_line_len,
			  data, size, cuts, cuts_count, &got_consumed);
	UNIT_CHECK(got == verdict && got_consumed == consumed,
		   "%s: got %s after %zu bytes, expected %s after %zu",
		   label, idle_done_verdict_name(got), got_consumed,
		   idle_done_verdict_name(verdict), consumed);
}

/* The row's input, then every split into two feeds and one byte at a
   time. */
static void check_scan_all_splits(const char *label,
				  const struct scan_case *c,
				  const char *data, size_t size,
				  enum idle_done_verdict verdict,
				  size_t consumed)
{
	char split_label[512];
	size_t cuts[MAX_INPUT];
	size_t i;

	check_scan(label, c, data, size, NULL, 0, verdict, consumed);
	for (i = 0; i <= size; i++) {
		snprintf(split_label, sizeof(split_label), "%s split at %zu",
			 label, i);
		cuts[0] = i;
		check_scan(split_label, c, data, size, cuts, 1,
			   verdict, consumed);
	}
	for (i = 1; i < size; i++)
		cuts[i - 1] = i;
	snprintf(split_label, sizeof(split_label), "%s byte by byte", label);
	check_scan(split_label, c, data, size, cuts,
		   size == 0 ? 0 : (unsigned int)(size - 1), verdict, consumed);
}

static void test_done_scanner_cases(void)
{
	static const char junk[] = "JUNK\r\nDONE\r\nx";
	char esc[MAX_INPUT * 4 + 1], label[MAX_INPUT * 4 + 64];
	char data[MAX_INPUT + sizeof(junk)];
	const struct scan_case *c;
	size_t size, lf;
	unsigned int row;

	for (row = 0; row < N_ELEMENTS(scan_cases); row++) {
		c = &scan_cases[row];
		size = strlen(c->input);
		UNIT_CHECK_FATAL(size < MAX_INPUT && c->consumed <= size,
				 "row %u: bad test row", row);
		snprintf(label, sizeof(label),
			 "row %u \"%s\" (skip=%d max=%zu)",
			 row, escape(c->input, size, esc, sizeof(esc)),
			 c->skip_first_line, c->max_line_len);
		check_scan_all_splits(label, c, c->input, size,
				      c->verdict, c->consumed);
		if (c->verdict == IDLE_DONE_NEED_MORE)
			continue;

		/* the verdict line ends at consumed-1: drop its CR, unless
		   the byte before is another CR (then the line changes) */
		lf = c->consumed - 1;
		if (lf >= 1 && c->input[lf - 1] == '\r' &&
		    (lf < 2 || c->input[lf - 2] != '\r')) {
			memcpy(data, c->input, lf - 1);
			memcpy(data + lf - 1, c->input + lf, size - lf + 1);
			snprintf(label, sizeof(label),
				 "row %u \"%s\" without CR", row,
				 escape(data, size - 1, esc, sizeof(esc)));
			check_scan_all_splits(label, c, data, size - 1,
					      c->verdict, c->consumed - 1);
		}
		/* or add a CR to a bare LF ending */
		if (lf == 0 || c->input[lf - 1] != '\r') {
			memcpy(data, c->input, lf);
			data[lf] = '\r';
			memcpy(data + lf + 1, c->input + lf, size - lf + 1);
			snprintf(label, sizeof(label),
				 "row %u \"%s\" with CR", row,
				 escape(data, size + 1, esc, sizeof(esc)));
			check_scan_all_splits(label, c, data, size + 1,
					      c->verdict, c->consumed + 1);
		}
		/* junk after the line is not consumed */
		memcpy(data, c->input, size);
		memcpy(data + size, junk, sizeof(junk));
		snprintf(label, sizeof(label), "row %u \"%s\" with junk", row,
			 escape(data, size + sizeof(junk) - 1,
				esc, sizeof(esc)));
		check_scan_all_splits(label, c, data, size + sizeof(junk) - 1,
				      c->verdict, c->consumed);
	}
}

/* One scanner over a stream of lines: each verdict leaves the rest of the
   stream to be fed again, and the scanner is ready for the next line. */
struct stream_case {
	const char *input;
	bool skip_first_line;
	size_t max_line_len;
	enum idle_done_verdict verdicts[8];
	size_t ends[8];
};

static const struct stream_case stream_cases[] = {
	{ "a2 NOOP\r\nDONE\r\n", false, DEFAULT_MAX,
	  { IDLE_DONE_OTHER_LINE, IDLE_DONE_DONE }, { 9, 15 } },
	{ "x\r\nDONE \r\n123456789\r\nDONE\r\n", false, 8,
	  { IDLE_DONE_OTHER_LINE, IDLE_DONE_OTHER_LINE,
	    IDLE_DONE_TOO_LONG, IDLE_DONE_DONE }, { 3, 10, 21, 27 } },
	{ "DONE\r\ndone\ndone\r\r\n\n", false, DEFAULT_MAX,
	  { IDLE_DONE_DONE, IDLE_DONE_DONE, IDLE_DONE_OTHER_LINE,
	    IDLE_DONE_OTHER_LINE }, { 6, 11, 18, 19 } },
	{ "123456789\nDONE\n12345678\n", false, 8,
	  { IDLE_DONE_TOO_LONG, IDLE_DONE_DONE, IDLE_DONE_OTHER_LINE },
	  { 10, 15, 24 } },
	{ "a1 IDLE DONE\r\nx\r\nDONE\r\n", true, DEFAULT_MAX,
	  { IDLE_DONE_OTHER_LINE, IDLE_DONE_DONE }, { 17, 23 } },
	/* only the first line is skipped, not the later ones */
	{ "\r\nDONE\r\n\r\nDONE\r\n", true, DEFAULT_MAX,
	  { IDLE_DONE_DONE, IDLE_DONE_OTHER_LINE, IDLE_DONE_DONE },
	  { 8, 10, 16 } },
};

static void check_stream(const char *label, const struct stream_case *c,
			 size_t size, size_t step)
{
	struct idle_done_scanner scanner;
	enum idle_done_verdict verdict;
	size_t pos = 0, piece_end, consumed;
	unsigned int count = 0;

	idle_done_scanner_init(&scanner, c->skip_first_line,
			       c->max_line_len);
	while (pos < size) {
		piece_end = step == 0 || size - pos < step ? size : pos + step;
		verdict = idle_done_scanner_feed(&scanner,
			(const unsigned char *)c->input + pos,
			piece_end - pos, &consumed);
		UNIT_CHECK_FATAL(consumed <= piece_end - pos,
				 "%s: consumed %zu of %zu", label, consumed,
				 piece_end - pos);
		UNIT_CHECK_FATAL(verdict != IDLE_DONE_NEED_MORE ||
				 consumed == piece_end - pos,
				 "%s: needs more but consumed %zu of %zu",
				 label, consumed, piece_end - pos);
		pos += consumed;
		if (verdict == IDLE_DONE_NEED_MORE)
			continue;
		UNIT_CHECK_FATAL(count < N_ELEMENTS(c->verdicts) &&
				 c->ends[count] != 0,
				 "%s: unexpected verdict %s ending at %zu",
				 label, idle_done_verdict_name(verdict), pos);
		UNIT_CHECK(verdict == c->verdicts[count] &&
			   pos == c->ends[count],
			   "%s: line %u: got %s ending at %zu, "
			   "expected %s ending at %zu", label, count,
			   idle_done_verdict_name(verdict), pos,
			   idle_done_verdict_name(c->verdicts[count]),
			   c->ends[count]);
		count++;
	}
	UNIT_CHECK(count == N_ELEMENTS(c->verdicts) || c->ends[count] == 0,
		   "%s: only %u verdicts", label, count);
}

static void test_done_scanner_successive_lines(void)
{
	char label[64];
	unsigned int row;
	size_t size, step;

	for (row = 0; row < N_ELEMENTS(stream_cases); row++) {
		size = strlen(stream_cases[row].input);
		for (step = 0; step <= size; step++) {
			snprintf(label, sizeof(label),
				 "stream row %u, pieces of %zu", row, step);
			check_stream(label, &stream_cases[row], size, step);
		}
	}
}

/* A line far longer than any buffer: nothing is kept, the verdict comes
   at its LF, and the next line is scanned normally. */
static void test_done_scanner_very_long_line(void)
{
	static const size_t steps[] = { 0, 1, 7, 1000, 4096 };
	const size_t line_len = 100000, max_len = 1000;
	struct idle_done_scanner scanner;
	enum idle_done_verdict verdict;
	unsigned char *data;
	size_t size = line_len + 2 + 6, pos, piece_end, consumed;
	unsigned int i;

	data = malloc(size);
	UNIT_CHECK_FATAL(data != NULL, "out of memory");
	memset(data, 'x', line_len);
	memcpy(data + line_len, "\r\nDONE\r\n", 8);
	for (i = 0; i < N_ELEMENTS(steps); i++) {
		idle_done_scanner_init(&scanner, false, max_len);
		verdict = IDLE_DONE_NEED_MORE;
		for (pos = 0; verdict == IDLE_DONE_NEED_MORE && pos < size;) {
			piece_end = steps[i] == 0 || size - pos < steps[i] ?
				size : pos + steps[i];
			verdict = idle_done_scanner_feed(&scanner, data + pos,
							 piece_end - pos,
							 &consumed);
			UNIT_CHECK_FATAL(verdict != IDLE_DONE_NEED_MORE ||
					 consumed == piece_end - pos,
					 "pieces of %zu: needs more but "
					 "consumed %zu of %zu", steps[i],
					 consumed, piece_end - pos);
			pos += consumed;
		}
		UNIT_CHECK(verdict == IDLE_DONE_TOO_LONG &&
			   pos == line_len + 2,
			   "pieces of %zu: got %s after %zu bytes", steps[i],
			   idle_done_verdict_name(verdict), pos);
		verdict = idle_done_scanner_feed(&scanner, data + pos,
						 size - pos, &consumed);
		UNIT_CHECK(verdict == IDLE_DONE_DONE && consumed == 6,
			   "pieces of %zu: after the long line got %s "
			   "after %zu bytes", steps[i],
			   idle_done_verdict_name(verdict), consumed);
	}
	free(data);
}

/* The limit is exact for every max_line_len: a line of max_line_len bytes
   passes and one more byte is too long, with CRLF or LF. */
static void test_done_scanner_limit_boundary(void)
{
	char line[64];
	size_t max_len, len, consumed;
	enum idle_done_verdict verdict, expected;
	struct idle_done_scanner scanner;
	unsigned int crlf;

	for (max_len = 0; max_len < 20; max_len++) {
		for (len = 0; len <= max_len + 2; len++) {
			for (crlf = 0; crlf < 2; crlf++) {
				memset(line, 'a', len);
				strcpy(line + len, crlf ? "\r\n" : "\n");
				expected = len > max_len ? IDLE_DONE_TOO_LONG :
					IDLE_DONE_OTHER_LINE;
				idle_done_scanner_init(&scanner, false,
						       max_len);
				verdict = idle_done_scanner_feed(&scanner,
					(const unsigned char *)line,
					strlen(line), &consumed);
				UNIT_CHECK(verdict == expected &&
					   consumed == strlen(line),
					   "max %zu, line of %zu + %s: got %s "
					   "after %zu", max_len, len,
					   crlf ? "CRLF" : "LF",
					   idle_done_verdict_name(verdict),
					   consumed);
			}
		}
	}
}

/* Random streams, compared with a reference that buffers each line: a CR
   right before the LF is the line ending, the rest is the line, which is
   too long, DONE (any case) or other, and a skipped first line gives no
   verdict.  The stream is fed in random pieces, each verdict's rest fed
   again. */
#define REF_MAX_VERDICTS 64

static unsigned int
reference_scan(const unsigned char *data, size_t size, bool skip,
	       size_t max_len, enum idle_done_verdict *verdicts,
	       size_t *ends)
{
	size_t start = 0, i, len;
	unsigned int count = 0;

	for (i = 0; i < size; i++) {
		if (data[i] != '\n')
			continue;
		if (skip) {
			skip = false;
			start = i + 1;
			continue;
		}
		len = i - start;
		if (len > 0 && data[i - 1] == '\r')
			len--;
		if (len > max_len)
			verdicts[count] = IDLE_DONE_TOO_LONG;
		else if (len == 4 && strncasecmp((const char *)data + start,
						 "DONE", 4) == 0)
			verdicts[count] = IDLE_DONE_DONE;
		else
			verdicts[count] = IDLE_DONE_OTHER_LINE;
		ends[count++] = i + 1;
		start = i + 1;
	}
	return count;
}

static uint32_t fuzz_rand(uint32_t *state)
{
	/* xorshift32: the same streams on every run */
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

static void test_done_scanner_reference(void)
{
	static const char alphabet[] = "DONEdoneDONE\r\r\n\n x";
	enum idle_done_verdict ref_verdicts[REF_MAX_VERDICTS], verdict;
	size_t ref_ends[REF_MAX_VERDICTS];
	struct idle_done_scanner scanner;
	unsigned char data[REF_MAX_VERDICTS];
	uint32_t state = 0x12345678;
	size_t size, max_len, pos, piece, consumed, i;
	unsigned int round, ref_count, count, failures = 0;
	bool skip;

	for (round = 0; round < 20000 && failures < 10; round++) {
		size = fuzz_rand(&state) % sizeof(data);
		for (i = 0; i < size; i++) {
			data[i] = (unsigned char)alphabet[
				fuzz_rand(&state) % (sizeof(alphabet) - 1)];
		}
		skip = fuzz_rand(&state) % 4 == 0;
		max_len = fuzz_rand(&state) % 8;
		ref_count = reference_scan(data, size, skip, max_len,
					   ref_verdicts, ref_ends);

		idle_done_scanner_init(&scanner, skip, max_len);
		count = 0;
		for (pos = 0; pos < size; ) {
			piece = 1 + fuzz_rand(&state) % (size - pos);
			verdict = idle_done_scanner_feed(&scanner, data + pos,
							 piece, &consumed);
			if (consumed > piece ||
			    (verdict == IDLE_DONE_NEED_MORE &&
			     consumed != piece)) {
				failures++;
				UNIT_CHECK(false, "round %u: consumed %zu "
					   "of %zu", round, consumed, piece);
				break;
			}
			pos += consumed;
			if (verdict == IDLE_DONE_NEED_MORE)
				continue;
			if (count >= ref_count ||
			    verdict != ref_verdicts[count] ||
			    pos != ref_ends[count]) {
				failures++;
				UNIT_CHECK(false, "round %u (skip=%d max=%zu) "
					   "verdict %u: got %s ending at %zu",
					   round, skip, max_len, count,
					   idle_done_verdict_name(verdict),
					   pos);
				break;
			}
			count++;
		}
		if (count != ref_count && failures == 0) {
			failures++;
			UNIT_CHECK(false, "round %u: %u verdicts, expected %u",
				   round, count, ref_count);
		}
	}
	UNIT_CHECK(failures == 0, "%u rounds disagree with the reference",
		   failures);
}

static void test_done_scanner_verdict_names(void)
{
	static const struct {
		enum idle_done_verdict verdict;
		const char *name;
	} names[] = {
		{ IDLE_DONE_NEED_MORE, "need-more" },
		{ IDLE_DONE_DONE, "done" },
		{ IDLE_DONE_OTHER_LINE, "other-line" },
		{ IDLE_DONE_TOO_LONG, "too-long" },
		{ (enum idle_done_verdict)99, "unknown" },
	};
	const char *name;
	unsigned int row;

	for (row = 0; row < N_ELEMENTS(names); row++) {
		name = idle_done_verdict_name(names[row].verdict);
		UNIT_CHECK(name != NULL && strcmp(name, names[row].name) == 0,
			   "row %u: name of %d is \"%s\", expected \"%s\"",
			   row, (int)names[row].verdict,
			   name == NULL ? "(null)" : name, names[row].name);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_done_scanner_cases),
		UNIT_TEST(test_done_scanner_successive_lines),
		UNIT_TEST(test_done_scanner_very_long_line),
		UNIT_TEST(test_done_scanner_limit_boundary),
		UNIT_TEST(test_done_scanner_reference),
		UNIT_TEST(test_done_scanner_verdict_names),
		UNIT_TEST_END
	};

	return unit_main("done-scanner", tests);
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "watch-schedule.h"
#include "unit-main.h"

#include <inttypes.h>

/* Each row is a boundary, probed 1 ms before, at and 1 ms after; the
   directory check's rows also with the monotonic clock shifted by 2^40
   ms.  The poll period depends on no clock: its boundaries are in the
   interval. */

#define SHIFT (UINT64_C(1) << 40)
#define AFTER_SYNC IDLE_WATCH_DIRS_CHECK_AFTER_SYNC_MSECS
#define SPACING IDLE_WATCH_DIRS_CHECK_SPACING_MSECS

static const int probe_deltas[] = { -1, 0, 1 };

struct dirs_row {
	const char *name;
	bool checked_before;
	uint64_t last_check;
	/* the probed "now" and the answers at -1, 0, +1 ms */
	uint64_t boundary;
	unsigned int expected[3];
};

static const struct dirs_row dirs_rows[] = {
	{ "spacing ends where the plain delay suffices", true, 5000,
	  5000 + SPACING - AFTER_SYNC,
	  { AFTER_SYNC + 1, AFTER_SYNC, AFTER_SYNC } },
	{ "right after a check: the whole spacing", true, 5000, 5001,
	  { SPACING, SPACING - 1, SPACING - 2 } },
	{ "long after a check", true, 5000, 5000 + SPACING,
	  { AFTER_SYNC, AFTER_SYNC, AFTER_SYNC } },
	{ "never checked", false, 5000, 5000,
	  { AFTER_SYNC, AFTER_SYNC, AFTER_SYNC } },
	{ "a last check later than now counts as long ago", true, 5000, 4999,
	  { AFTER_SYNC, AFTER_SYNC, SPACING } },
};

static void test_watch_schedule_dirs_check(void)
{
	static const uint64_t shifts[] = { 0, SHIFT };
	const struct dirs_row *row;
	unsigned int i, p, s, got;

	for (i = 0; i < N_ELEMENTS(dirs_rows); i++) {
		row = &dirs_rows[i];
		for (s = 0; s < N_ELEMENTS(shifts); s++)
		for (p = 0; p < N_ELEMENTS(probe_deltas); p++) {
			got = idle_watch_schedule_dirs_check_msecs(
				row->checked_before,
				row->last_check + shifts[s],
				row->boundary + probe_deltas[p] + shifts[s]);
			UNIT_CHECK(got == row->expected[p],
				   "row %u (%s), %+d ms, shift %" PRIu64
				   ": %u ms, expected %u", i, row->name,
				   probe_deltas[p], shifts[s], got,
				   row->expected[p]);
		}
	}
}

struct poll_row {
	const char *name;
	unsigned int boundary;
	unsigned int expected[3];
};

static const struct poll_row poll_rows[] = {
	{ "room reaches its cap", 1000, { 950, 950, 951 } },
	{ "room of one ms begins", 20, { 19, 19, 20 } },
	{ "the default interval", 2000, { 1949, 1950, 1951 } },
	{ "the smallest intervals", 1, { 0, 1, 2 } },
	{ "a day", 86400000, { 86399949, 86399950, 86399951 } },
};

static void test_watch_schedule_poll(void)
{
	const struct poll_row *row;
	unsigned int i, p, got;

	for (i = 0; i < N_ELEMENTS(poll_rows); i++) {
		row = &poll_rows[i];
		for (p = 0; p < N_ELEMENTS(probe_deltas); p++) {
			got = idle_watch_schedule_poll_msecs(
				row->boundary + probe_deltas[p]);
			UNIT_CHECK(got == row->expected[p],
				   "row %u (%s), interval %+d ms: %u, "
				   "expected %u", i, row->name,
				   probe_deltas[p], got, row->expected[p]);
		}
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_watch_schedule_dirs_check),
		UNIT_TEST(test_watch_schedule_poll),
		UNIT_TEST_END
	};
	return unit_main("watch-schedule", tests);
}

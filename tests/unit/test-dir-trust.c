/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "dir-trust.h"
#include "unit-main.h"

#include <inttypes.h>

/* Every rule is a boundary in time: each row names one, and the test
   probes it 1 ms before, at and 1 ms after, each time also with the
   clock shifted far ahead (2^40 ms; rounded down to a whole second for
   the wall clock, whose coarse rule counts whole seconds). */

#define SHIFT_MONOTONIC (UINT64_C(1) << 40)
#define SHIFT_WALL ((INT64_C(1) << 40) / 1000 * 1000)

static const int probe_deltas[] = { -1, 0, 1 };

struct settled_row {
	const char *name;
	int64_t mtime;
	bool coarse;
	/* the probed instant and the answers at -1, 0, +1 ms */
	int64_t boundary;
	bool expected[3];
};

static const struct settled_row settled_rows[] = {
	{ "fine: a tick after the mtime", 1700000000123, false,
	  1700000000123 + IDLE_DIR_TRUST_MTIME_TICK_MSECS,
	  { false, true, true } },
	{ "fine: at the mtime itself", 1700000000123, false,
	  1700000000123, { false, false, false } },
	{ "fine: mtime on a second", 1700000000000, false,
	  1700000000000 + IDLE_DIR_TRUST_MTIME_TICK_MSECS,
	  { false, true, true } },
	{ "coarse: two seconds past the mtime's second", 1700000005000,
	  true, 1700000007000, { false, true, true } },
	{ "coarse: mtime late in its second", 1700000005999, true,
	  1700000007000, { false, true, true } },
	{ "coarse: the next second is not enough", 1700000005000, true,
	  1700000006000, { false, false, false } },
	{ "coarse: a tick past the mtime is not enough", 1700000005000, true,
	  1700000005000 + IDLE_DIR_TRUST_MTIME_TICK_MSECS,
	  { false, false, false } },
	{ "fine: an mtime in the future", 1700000010000, false,
	  1700000009990, { false, false, false } },
	{ "coarse: an mtime in the future", 1700000010000, true,
	  1700000009000, { false, false, false } },
};

static void test_dir_trust_mtime_settled(void)
{
	static const int64_t shifts[] = { 0, SHIFT_WALL };
	const struct settled_row *row;
	unsigned int i, p, s;
	int64_t now;
	bool got;

	for (i = 0; i < N_ELEMENTS(settled_rows); i++) {
		row = &settled_rows[i];
		for (s = 0; s < N_ELEMENTS(shifts); s++)
		for (p = 0; p < N_ELEMENTS(probe_deltas); p++) {
			now = row->boundary + probe_deltas[p] + shifts[s];
			got = idle_dir_trust_mtime_settled(
				row->mtime + shifts[s], row->coarse, now);
			UNIT_CHECK(got == row->expected[p],
				   "row %u (%s), %+d ms, shift %" PRId64
				   ": settled %d, expected %d", i, row->name,
				   probe_deltas[p], shifts[s], got,
				   row->expected[p]);
		}
	}
}

/* cur/ suspicion: steps played against one state; the last step is the
   probed one, at its time -1, 0, +1 ms. */
struct cur_step {
	int64_t mtime;
	bool recorded;
	uint64_t now;
	enum idle_dir_verdict expected;
};

struct cur_row {
	const char *name;
	struct cur_step steps[4];
	unsigned int count;
	/* the answers of the last step at -1, 0, +1 ms */
	enum idle_dir_verdict probe[3];
};

#define CLEAN IDLE_DIR_CLEAN
#define UNSURE IDLE_DIR_UNSURE
#define UNRECORDED IDLE_DIR_UNRECORDED
#define RECHECK IDLE_DIR_TRUST_RECHECK_MSECS

static const struct cur_row cur_rows[] = {
	{ "an unrecorded mtime is believed after the recheck time", {
		{ 7, false, 1000, UNSURE },
		{ 7, false, 1000 + RECHECK, 0 },
	  }, 2, { UNSURE, UNRECORDED, UNRECORDED } },
	{ "a recorded mtime is clean at any time", {
		{ 7, false, 1000, UNSURE },
		{ 7, true, 1000 + RECHECK, 0 },
	  }, 2, { CLEAN, CLEAN, CLEAN } },
	{ "another mtime starts the suspicion again", {
		{ 7, false, 1000, UNSURE },
		{ 8, false, 1000 + RECHECK, 0 },
	  }, 2, { UNSURE, UNSURE, UNSURE } },
	{ "the new suspicion runs from its own start", {
		{ 7, false, 1000, UNSURE },
		{ 8, false, 1030, UNSURE },
		{ 8, false, 1030 + RECHECK, 0 },
	  }, 3, { UNSURE, UNRECORDED, UNRECORDED } },
	{ "recorded in between: suspected afresh", {
		{ 7, false, 1000, UNSURE },
		{ 7, true, 1010, CLEAN },
		{ 7, false, 1020, UNSURE },
		{ 7, false, 1020 + RECHECK, 0 },
	  }, 4, { UNSURE, UNRECORDED, UNRECORDED } },
	{ "once believed, the same mtime is suspected again", {
		{ 7, false, 1000, UNSURE },
		{ 7, false, 1000 + RECHECK, UNRECORDED },
		{ 7, false, 1000 + 2 * RECHECK, 0 },
	  }, 3, { UNSURE, UNSURE, UNSURE } },
	{ "a clock before the suspicion's start is unsure", {
		{ 7, false, 1000, UNSURE },
		{ 7, false, 1000, 0 },
	  }, 2, { UNSURE, UNSURE, UNSURE } },
};

static void test_dir_trust_cur_check(void)
{
	static const uint64_t shifts[] = { 0, SHIFT_MONOTONIC };
	const struct cur_row *row;
	const struct cur_step *step;
	struct idle_dir_trust_cur cur;
	enum idle_dir_verdict got, expected;
	unsigned int i, j, p, s;
	uint64_t now;

	for (i = 0; i < N_ELEMENTS(cur_rows); i++) {
		row = &cur_rows[i];
		for (s = 0; s < N_ELEMENTS(shifts); s++)
		for (p = 0; p < N_ELEMENTS(probe_deltas); p++) {
			struct idle_dir_trust_cur zero = { 0, 0, false };

			cur = zero;
			for (j = 0; j < row->count; j++) {
				step = &row->steps[j];
				now = step->now + shifts[s];
				expected = step->expected;
				if (j == row->count - 1) {
					now += probe_deltas[p];
					expected = row->probe[p];
				}
				got = idle_dir_trust_cur_check(&cur,
					step->mtime, step->recorded, now);
				UNIT_CHECK(got == expected,
					   "row %u (%s) step %u, %+d ms, shift "
					   "%" PRIu64 ": %s, expected %s", i,
					   row->name, j, j == row->count - 1 ?
					   probe_deltas[p] : 0, shifts[s],
					   idle_dir_verdict_name(got),
					   idle_dir_verdict_name(expected));
			}
		}
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_dir_trust_mtime_settled),
		UNIT_TEST(test_dir_trust_cur_check),
		UNIT_TEST_END
	};
	return unit_main("dir-trust", tests);
}

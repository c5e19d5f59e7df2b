/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "log-limit.h"
#include "unit-main.h"

#include <inttypes.h>
#include <limits.h>
#include <string.h>

/* Each row is a series of attempts to log at given times, with what each
   one gets; every row runs again with the clock shifted by 2^40 ms. */

#define SHIFT (UINT64_C(1) << 40)
#define INTERVAL 1000
#define MAX_STEPS 8

struct step {
	uint64_t now;
	bool allowed;
	/* when allowed: the lines held back before it */
	unsigned int suppressed;
};

struct limit_row {
	const char *name;
	struct step steps[MAX_STEPS];
	unsigned int count;
};

static const struct limit_row limit_rows[] = {
	{ "the first line goes out", { { 0, true, 0 } }, 1 },
	{ "1 ms before, at and after the interval",
	  { { 100, true, 0 }, { 100 + INTERVAL - 1, false, 0 },
	    { 100 + INTERVAL, true, 1 }, { 100 + INTERVAL, false, 0 },
	    { 100 + 2 * INTERVAL + 1, true, 1 } }, 5 },
	{ "a flood within one interval",
	  { { 5, true, 0 }, { 5, false, 0 }, { 6, false, 0 },
	    { 500, false, 0 }, { 1004, false, 0 }, { 1005, true, 4 },
	    { 1006, false, 0 } }, 7 },
	{ "quiet for long: no count",
	  { { 0, true, 0 }, { 50 * INTERVAL, true, 0 } }, 2 },
	{ "a reading before the last line lets the next one out",
	  { { 5000, true, 0 }, { 4999, true, 0 }, { 5000, false, 0 } }, 3 },
};

static void run_row(unsigned int i, uint64_t shift)
{
	const struct limit_row *row = &limit_rows[i];
	struct idle_log_limit limit;
	unsigned int j, suppressed;
	bool allowed;

	memset(&limit, 0, sizeof(limit));
	for (j = 0; j < row->count; j++) {
		suppressed = 12345;
		allowed = idle_log_limit_allow(&limit,
			row->steps[j].now + shift, INTERVAL, &suppressed);
		UNIT_CHECK(allowed == row->steps[j].allowed,
			   "row %u (%s), step %u, shift %" PRIu64
			   ": allowed=%d", i, row->name, j, shift, allowed);
		if (allowed && row->steps[j].allowed) {
			UNIT_CHECK(suppressed == row->steps[j].suppressed,
				   "row %u (%s), step %u, shift %" PRIu64
				   ": %u held back, expected %u", i,
				   row->name, j, shift, suppressed,
				   row->steps[j].suppressed);
		} else {
			UNIT_CHECK(suppressed == 12345,
				   "row %u (%s), step %u: a held line "
				   "wrote suppressed_r", i, row->name, j);
		}
	}
}

static void test_log_limit_rows(void)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(limit_rows); i++) {
		run_row(i, 0);
		run_row(i, SHIFT);
	}
}

/* The count of held-back lines saturates instead of wrapping to 0. */
static void test_log_limit_saturates(void)
{
	struct idle_log_limit limit;
	unsigned int suppressed = 0;

	memset(&limit, 0, sizeof(limit));
	(void)idle_log_limit_allow(&limit, 10, INTERVAL, &suppressed);
	limit.suppressed = UINT_MAX - 1;
	UNIT_CHECK(!idle_log_limit_allow(&limit, 11, INTERVAL, &suppressed),
		   "row %u: held", 0U);
	UNIT_CHECK(!idle_log_limit_allow(&limit, 12, INTERVAL, &suppressed),
		   "row %u: held", 1U);
	UNIT_CHECK(idle_log_limit_allow(&limit, 10 + INTERVAL, INTERVAL,
					&suppressed) &&
		   suppressed == UINT_MAX, "row %u: %u held back", 2U,
		   suppressed);
}

/* An interval of 0 limits nothing. */
static void test_log_limit_zero_interval(void)
{
	struct idle_log_limit limit;
	unsigned int i, suppressed;

	memset(&limit, 0, sizeof(limit));
	for (i = 0; i < 3; i++) {
		UNIT_CHECK(idle_log_limit_allow(&limit, 7, 0, &suppressed) &&
			   suppressed == 0, "row %u: held back", i);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_log_limit_rows),
		UNIT_TEST(test_log_limit_saturates),
		UNIT_TEST(test_log_limit_zero_interval),
		UNIT_TEST_END
	};
	return unit_main("log-limit", tests);
}

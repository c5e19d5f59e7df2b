/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "hibernate-quiet.h"
#include "unit-main.h"

#include <inttypes.h>
#include <limits.h>

static void test_hibernate_quiet_table(void)
{
	static const struct {
		unsigned int base, prev;
		uint64_t slept;
		unsigned int expect;
	} rows[] = {
		/* off */
		{ 0, 0, 0, 0 },
		{ 0, 5000, 1, 0 },
		/* first hibernation: the configured timeout */
		{ 1000, 0, 0, 1000 },
		{ 1000, 0, 999999, 1000 },
		/* woken sooner than it waited: doubles */
		{ 1000, 1000, 0, 2000 },
		{ 1000, 1000, 999, 2000 },
		{ 1000, 2000, 1999, 4000 },
		/* slept about as long as it waited: keeps it */
		{ 1000, 1000, 1000, 1000 },
		{ 1000, 2000, 7999, 2000 },
		/* slept long: halves, never below the timeout */
		{ 1000, 2000, 8000, 1000 },
		{ 1000, 1000, 4000, 1000 },
		{ 1000, 8000, 1000000, 4000 },
		/* capped at 64 times the timeout */
		{ 1000, 64000, 10, 64000 },
		{ 1000, 40000, 10, 64000 },
		/* a memo from a larger timeout, then the timeout shrank */
		{ 1000, 500000, 10, 64000 },
		/* a memo below a timeout that grew */
		{ 5000, 1000, 10, 5000 },
		/* no overflow near the top of the range */
		{ 4000000000U, 4000000000U, 1, UINT_MAX },
		{ 4000000000U, 4000000000U, 4000000000U, 4000000000U },
	};
	unsigned int i, got;

	for (i = 0; i < N_ELEMENTS(rows); i++) {
		got = idle_hibernate_quiet_msecs(rows[i].base, rows[i].prev,
						 rows[i].slept);
		UNIT_CHECK(got == rows[i].expect,
			   "row %u: base %u prev %u slept %" PRIu64
			   ": got %u, expected %u", i, rows[i].base,
			   rows[i].prev, rows[i].slept, got, rows[i].expect);
	}
}

/* A mailbox that changes every `period` ms: the client hibernates after
   its quiet time and is woken by the next change.  One that changes more
   often than the quiet time grows it until hibernation stops; one that
   lets the client sleep most of the time stays at the timeout. */
static void test_hibernate_quiet_converges(void)
{
	static const struct {
		unsigned int base;
		uint64_t period;
		unsigned int expect;
	} rows[] = {
		{ 1000, 1100, 2000 },
		{ 1000, 1999, 2000 },
		{ 1000, 2100, 1000 },
		{ 1000, 3000, 1000 },
		{ 1000, 100000, 1000 },
		{ 100, 150, 200 },
	};
	unsigned int i, n, quiet;

	for (i = 0; i < N_ELEMENTS(rows); i++) {
		quiet = idle_hibernate_quiet_msecs(rows[i].base, 0, 0);
		for (n = 0; n < 20 && quiet < rows[i].period; n++) {
			quiet = idle_hibernate_quiet_msecs(rows[i].base, quiet,
				rows[i].period - quiet);
		}
		UNIT_CHECK(quiet == rows[i].expect,
			   "row %u: period %" PRIu64 ": settled on %u, "
			   "expected %u", i, rows[i].period, quiet,
			   rows[i].expect);
	}
}

static void test_hibernate_retry_table(void)
{
	static const struct {
		unsigned int base, refusals, max, expect;
	} rows[] = {
		{ 1000, 1, 60000, 1000 },
		{ 1000, 2, 60000, 2000 },
		{ 1000, 3, 60000, 4000 },
		{ 1000, 7, 60000, 60000 },
		{ 1000, 1000, 60000, 60000 },
		{ 90000, 1, 60000, 60000 },
		{ 0, 5, 60000, 0 },
	};
	unsigned int i, got;

	for (i = 0; i < N_ELEMENTS(rows); i++) {
		got = idle_hibernate_retry_msecs(rows[i].base,
						 rows[i].refusals,
						 rows[i].max);
		UNIT_CHECK(got == rows[i].expect,
			   "row %u: base %u refusals %u max %u: got %u, "
			   "expected %u", i, rows[i].base, rows[i].refusals,
			   rows[i].max, got, rows[i].expect);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_hibernate_quiet_table),
		UNIT_TEST(test_hibernate_quiet_converges),
		UNIT_TEST(test_hibernate_retry_table),
		UNIT_TEST_END
	};

	return unit_main("hibernate-quiet", tests);
}

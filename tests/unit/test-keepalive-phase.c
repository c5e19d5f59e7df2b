/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "keepalive-phase.h"
#include "unit-main.h"

#include <inttypes.h>
#include <string.h>

/* The phase of "user1" with the default key and a 120000 ms interval,
   computed once with the code under test and cross-checked with an
   independent SipHash-2-4.  It pins the key and the hash: if it changes,
   every deployed server's keepalives move, and hosts running different
   versions stop agreeing. */
#define USER1_PHASE_120000 46639U

static const uint64_t intervals[] = {
	1, 2, 1000, 120000, 29 * 60000, 24 * 3600000ULL,
};

static void test_keepalive_phase_default_key(void)
{
	unsigned char buf[IDLE_KEEPALIVE_PHASE_KEYBYTES + 2];
	unsigned char key2[IDLE_KEEPALIVE_PHASE_KEYBYTES];

	memset(buf, 0xa5, sizeof(buf));
	idle_keepalive_phase_default_key(buf + 1);
	UNIT_CHECK(buf[0] == 0xa5 &&
		   buf[IDLE_KEEPALIVE_PHASE_KEYBYTES + 1] == 0xa5,
		   "the default key is not exactly %u bytes",
		   IDLE_KEEPALIVE_PHASE_KEYBYTES);
	idle_keepalive_phase_default_key(key2);
	UNIT_CHECK(memcmp(buf + 1, key2, sizeof(key2)) == 0,
		   "the default key is not a constant");
}

static void test_keepalive_phase_known_answer(void)
{
	unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES];
	uint64_t phase;

	idle_keepalive_phase_default_key(key);
	phase = idle_keepalive_phase_msecs(key, "user1", 120000);
	UNIT_CHECK(phase == USER1_PHASE_120000,
		   "phase of user1 over 120000 ms is %" PRIu64
		   ", expected %u", phase, USER1_PHASE_120000);
}

static void make_name(char *buf, size_t size, unsigned int i)
{
	snprintf(buf, size, "user%u", i);
}

/* Deterministic and in [0, interval) for many names and intervals. */
static void test_keepalive_phase_range(void)
{
	static const char *const names[] = {
		"", "a", "user1", "User1", "user1@example.com",
		"\xc3\xa4iti@example.org",
		("a-rather-long-user-name-that-spans-several-siphash-blocks"
		 "@subdomain.example.com"),
	};
	unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES];
	char name[32];
	const char *n;
	uint64_t interval, phase, again;
	unsigned int i, j;

	idle_keepalive_phase_default_key(key);
	for (i = 0; i < N_ELEMENTS(intervals); i++) {
		interval = intervals[i];
		for (j = 0; j < N_ELEMENTS(names) + 200; j++) {
			if (j < N_ELEMENTS(names)) {
				n = names[j];
			} else {
				make_name(name, sizeof(name),
					  j - N_ELEMENTS(names));
				n = name;
			}
			phase = idle_keepalive_phase_msecs(key, n, interval);
			again = idle_keepalive_phase_msecs(key, n, interval);
			UNIT_CHECK(phase < interval,
				   "\"%s\" over %" PRIu64 " ms: phase %" PRIu64,
				   n, interval, phase);
			UNIT_CHECK(phase == again,
				   "\"%s\" over %" PRIu64 " ms: phase %" PRIu64
				   " then %" PRIu64, n, interval, phase,
				   again);
		}
	}
}

/* Different users spread over the interval. */
static void check_spread(const unsigned char *key, uint64_t interval,
			 const char *label)
{
	enum { USERS = 1000, BUCKETS = 120, MAX_PER_BUCKET = 30,
	       MIN_BUCKETS_USED = 100 };
	unsigned int buckets[BUCKETS];
	unsigned int i, used = 0, max = 0;
	uint64_t phase;
	char name[32];

	memset(buckets, 0, sizeof(buckets));
	for (i = 1; i <= USERS; i++) {
		make_name(name, sizeof(name), i);
		phase = idle_keepalive_phase_msecs(key, name, interval);
		if (phase >= interval) {
			UNIT_CHECK(false, "%s: %s: phase %" PRIu64
				   " out of range", label, name, phase);
			return;
		}
		buckets[phase * BUCKETS / interval]++;
	}
	for (i = 0; i < BUCKETS; i++) {
		if (buckets[i] > 0)
			used++;
		if (buckets[i] > max)
			max = buckets[i];
	}
	UNIT_CHECK(max <= MAX_PER_BUCKET,
		   "%s: %u users share one of %u buckets (expected ~%u)",
		   label, max, BUCKETS, USERS / BUCKETS);
	UNIT_CHECK(used >= MIN_BUCKETS_USED,
		   "%s: only %u of %u buckets used", label, used, BUCKETS);
}

static void test_keepalive_phase_spread(void)
{
	unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES];

	idle_keepalive_phase_default_key(key);
	check_spread(key, 120000, "default key, 120000 ms");
	check_spread(key, 29 * 60000, "default key, 29 min");
	memset(key, 0, sizeof(key));
	check_spread(key, 120000, "zero key, 120000 ms");
}

/* The key matters: another key gives other phases. */
static void test_keepalive_phase_keyed(void)
{
	unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES];
	unsigned char other[IDLE_KEEPALIVE_PHASE_KEYBYTES];
	unsigned int i, same = 0;
	char name[32];

	idle_keepalive_phase_default_key(key);
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	for (i = 1; i <= 100; i++) {
		make_name(name, sizeof(name), i);
		if (idle_keepalive_phase_msecs(key, name, 120000) ==
		    idle_keepalive_phase_msecs(other, name, 120000))
			same++;
	}
	UNIT_CHECK(same <= 2, "%u of 100 phases ignore a changed key bit",
		   same);
}

static const struct {
	uint64_t now, interval, phase, delay;
} delay_cases[] = {
	/* now exactly on the phase: the next one is a whole interval on */
	{ 0, 1000, 0, 1000 },
	{ 1000, 1000, 0, 1000 },
	{ 1500, 1000, 500, 1000 },
	{ 120000 * 5 + 46639, 120000, 46639, 120000 },
	/* phase 0 */
	{ 1, 1000, 0, 999 },
	{ 999, 1000, 0, 1 },
	{ 1001, 1000, 0, 999 },
	/* now 0 */
	{ 0, 1000, 1, 1 },
	{ 0, 1000, 999, 999 },
	{ 0, 120000, 46639, 46639 },
	/* around the phase */
	{ 1499, 1000, 500, 1 },
	{ 1501, 1000, 500, 999 },
	{ 7, 1000, 500, 493 },
	/* a 1 ms interval: every millisecond */
	{ 0, 1, 0, 1 },
	{ 5, 1, 0, 1 },
	{ 2, 2, 1, 1 },
	{ 3, 2, 1, 2 },
	/* a real clock (2026-01-01, a multiple of 120 s) and a large one:
	   2^50 = 9382499223 * 120000 + 82624 = 647097 * 1740000 + 1702624 */
	{ 1767225600000ULL, 120000, 46639, 46639 },
	{ 1ULL << 50, 120000, 0, 37376 },
	{ 1ULL << 50, 120000, 82624, 120000 },
	{ 1ULL << 50, 120000, 82625, 1 },
	{ 1ULL << 50, 120000, 82623, 119999 },
	{ 1ULL << 50, 29 * 60000, 1739999, 37375 },
	{ 1ULL << 50, 29 * 60000, 1702624, 1740000 },
};

static void test_keepalive_delay_table(void)
{
	uint64_t delay;
	unsigned int row;

	for (row = 0; row < N_ELEMENTS(delay_cases); row++) {
		delay = idle_keepalive_delay_msecs(delay_cases[row].now,
						   delay_cases[row].interval,
						   delay_cases[row].phase);
		UNIT_CHECK(delay == delay_cases[row].delay,
			   "row %u: now %" PRIu64 ", interval %" PRIu64
			   ", phase %" PRIu64 ": delay %" PRIu64
			   ", expected %" PRIu64, row, delay_cases[row].now,
			   delay_cases[row].interval, delay_cases[row].phase,
			   delay, delay_cases[row].delay);
		UNIT_CHECK(delay >= 1 && delay <= delay_cases[row].interval &&
			   (delay_cases[row].now + delay) %
			   delay_cases[row].interval == delay_cases[row].phase,
			   "row %u: delay %" PRIu64 " breaks the contract",
			   row, delay);
	}
}

/* For every interval, phase and many instants: the delay is in
   [1, interval] and lands on the phase. */
static unsigned int check_delays_around(uint64_t base, uint64_t interval,
					uint64_t phase)
{
	uint64_t now, delay;
	unsigned int k, errors = 0;

	for (k = 0; k < 50; k++) {
		/* near base, then from just before the phase to after it */
		now = k < 25 ? base + k :
			base + 2 * interval + phase + k - 27;
		delay = idle_keepalive_delay_msecs(now, interval, phase);
		if (delay >= 1 && delay <= interval &&
		    (now + delay) % interval == phase)
			continue;
		errors++;
		UNIT_CHECK(false, "now %" PRIu64 ", interval %" PRIu64
			   ", phase %" PRIu64 ": delay %" PRIu64,
			   now, interval, phase, delay);
	}
	return errors;
}

static void test_keepalive_delay_property(void)
{
	static const uint64_t bases[] = {
		0, 1, 999, 1000, 1767225600000ULL, 1ULL << 50,
		(1ULL << 50) + 12345,
	};
	uint64_t interval, phases[4];
	unsigned int i, b, p, errors = 0;

	for (i = 0; i < N_ELEMENTS(intervals); i++) {
		interval = intervals[i];
		phases[0] = 0;
		phases[1] = interval / 3;
		phases[2] = interval / 2;
		phases[3] = interval - 1;
		for (b = 0; b < N_ELEMENTS(bases); b++) {
			for (p = 0; p < N_ELEMENTS(phases); p++) {
				errors += check_delays_around(bases[b],
							      interval,
							      phases[p]);
			}
		}
	}
	UNIT_CHECK(errors == 0, "%u wrong delays", errors);
}

/* Two connections of one user, opened at different moments, fire
   together; a reconnect keeps the phase. */
static void test_keepalive_same_user_aligned(void)
{
	static const uint64_t starts[] = {
		1767225600000ULL, 1767225600001ULL, 1767225659999ULL,
		1767225723456ULL, 1767229999999ULL,
	};
	unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES];
	const uint64_t interval = 120000;
	uint64_t phase, fire, first = 0;
	unsigned int i;

	idle_keepalive_phase_default_key(key);
	phase = idle_keepalive_phase_msecs(key, "user1", interval);
	for (i = 0; i < N_ELEMENTS(starts); i++) {
		fire = starts[i] +
			idle_keepalive_delay_msecs(starts[i], interval, phase);
		UNIT_CHECK(fire % interval == phase,
			   "start %" PRIu64 ": fires at %" PRIu64, starts[i],
			   fire);
		if (i == 0)
			first = fire;
		UNIT_CHECK((fire - first) % interval == 0,
			   "start %" PRIu64 ": fires at %" PRIu64
			   ", not in step with %" PRIu64, starts[i], fire,
			   first);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_keepalive_phase_default_key),
		UNIT_TEST(test_keepalive_phase_known_answer),
		UNIT_TEST(test_keepalive_phase_range),
		UNIT_TEST(test_keepalive_phase_spread),
		UNIT_TEST(test_keepalive_phase_keyed),
		UNIT_TEST(test_keepalive_delay_table),
		UNIT_TEST(test_keepalive_delay_property),
		UNIT_TEST(test_keepalive_same_user_aligned),
		UNIT_TEST_END
	};

	return unit_main("keepalive-phase", tests);
}

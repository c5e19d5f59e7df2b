/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "push-source.h"
#include "unit-main.h"

#include <inttypes.h>
#include <string.h>

/* Each row is the signals of one sync in the order the shell handles
   them, and the origin the sync gets; every row runs again with the
   clock shifted by 2^40, and its sync is followed by one that must start
   empty. */

#define SHIFT (UINT64_C(1) << 40)
#define MAX_SIGNALS 4

struct signal {
	enum idle_push_source source;
	uint64_t since;
};

struct origin_row {
	const char *name;
	struct signal signals[MAX_SIGNALS];
	enum idle_push_source source;
	uint64_t since;
};

#define S(src, t) { IDLE_PUSH_SOURCE_##src, t }
#define END { IDLE_PUSH_SOURCE_NONE, 0 }

static const struct origin_row origin_rows[] = {
	{ "nothing recorded", { END }, IDLE_PUSH_SOURCE_NONE, 0 },
	{ "one signal", { S(WATCH, 100), END }, IDLE_PUSH_SOURCE_WATCH, 100 },
	{ "the first of several wins",
	  { S(WATCH, 100), S(DOVECOT, 600), S(POLL, 700), END },
	  IDLE_PUSH_SOURCE_WATCH, 100 },
	{ "Dovecot's watch first: the plugin's watch missed it",
	  { S(DOVECOT, 600), S(WATCH, 601), END },
	  IDLE_PUSH_SOURCE_DOVECOT, 600 },
	{ "an earlier signal handled later wins (a fan-out's turn)",
	  { S(DOVECOT, 600), S(WATCH, 599), END },
	  IDLE_PUSH_SOURCE_WATCH, 599 },
	{ "a tie goes to the one recorded first",
	  { S(POLL, 500), S(WATCH, 500), END }, IDLE_PUSH_SOURCE_POLL, 500 },
	{ "DONE after a signal: the signal made the sync due",
	  { S(WATCH, 100), S(DONE, 900), END }, IDLE_PUSH_SOURCE_WATCH, 100 },
	{ "DONE alone", { S(DONE, 900), END }, IDLE_PUSH_SOURCE_DONE, 900 },
	{ "a policy timer after the signal it waited for",
	  { S(WATCH, 100), S(TIMER, 140), END },
	  IDLE_PUSH_SOURCE_WATCH, 100 },
	{ "a policy timer alone", { S(TIMER, 140), END },
	  IDLE_PUSH_SOURCE_TIMER, 140 },
	{ "a follow-up after a signal during the sync",
	  { S(RECHECK, 300), S(FOLLOWUP, 310), END },
	  IDLE_PUSH_SOURCE_RECHECK, 300 },
	{ "a follow-up alone", { S(FOLLOWUP, 310), END },
	  IDLE_PUSH_SOURCE_FOLLOWUP, 310 },
	{ "the start of IDLE before any watch",
	  { S(START, 10), S(WATCH, 20), END }, IDLE_PUSH_SOURCE_START, 10 },
	{ "a resume waits for a writer's release",
	  { S(RESUME, 10), S(WATCH, 20), S(TIMER, 40), END },
	  IDLE_PUSH_SOURCE_RESUME, 10 },
	{ "the bus", { S(BUS, 50), S(DOVECOT, 550), END },
	  IDLE_PUSH_SOURCE_BUS, 50 },
	{ "an unknown source is ignored",
	  { { (enum idle_push_source)IDLE_PUSH_SOURCE_COUNT, 1 },
	    { (enum idle_push_source)-1, 2 }, S(POLL, 3), END },
	  IDLE_PUSH_SOURCE_POLL, 3 },
	{ "at time zero", { S(WATCH, 0), S(POLL, 0), END },
	  IDLE_PUSH_SOURCE_WATCH, 0 },
};

static void test_push_origin_earliest_wins(void)
{
	static const uint64_t shifts[] = { 0, SHIFT };
	const struct origin_row *row;
	struct idle_push_origin pending, got, next;
	unsigned int i, j, s;

	for (i = 0; i < N_ELEMENTS(origin_rows); i++)
	for (s = 0; s < N_ELEMENTS(shifts); s++) {
		row = &origin_rows[i];
		memset(&pending, 0, sizeof(pending));
		for (j = 0; j < MAX_SIGNALS &&
		     row->signals[j].source != IDLE_PUSH_SOURCE_NONE; j++) {
			idle_push_origin_add(&pending, row->signals[j].source,
					     row->signals[j].since + shifts[s]);
		}
		got = idle_push_origin_take(&pending);
		UNIT_CHECK(got.source == row->source,
			   "row %u (%s), shift %" PRIu64 ": source %s, "
			   "expected %s", i, row->name, shifts[s],
			   idle_push_source_name(got.source),
			   idle_push_source_name(row->source));
		if (row->source != IDLE_PUSH_SOURCE_NONE) {
			UNIT_CHECK(got.since == row->since + shifts[s],
				   "row %u (%s), shift %" PRIu64 ": since %"
				   PRIu64 ", expected %" PRIu64, i, row->name,
				   shifts[s], got.since,
				   row->since + shifts[s]);
		}
		next = idle_push_origin_take(&pending);
		UNIT_CHECK(next.source == IDLE_PUSH_SOURCE_NONE,
			   "row %u (%s): the next sync inherited %s", i,
			   row->name, idle_push_source_name(next.source));
	}
}

/* A signal during a sync belongs to the next one, however early. */
static void test_push_origin_signal_during_sync(void)
{
	struct idle_push_origin pending, first, second;

	memset(&pending, 0, sizeof(pending));
	idle_push_origin_add(&pending, IDLE_PUSH_SOURCE_START, 1000);
	first = idle_push_origin_take(&pending);
	idle_push_origin_add(&pending, IDLE_PUSH_SOURCE_WATCH, 999);
	idle_push_origin_add(&pending, IDLE_PUSH_SOURCE_FOLLOWUP, 1500);
	second = idle_push_origin_take(&pending);
	UNIT_CHECK(first.source == IDLE_PUSH_SOURCE_START && first.since == 1000,
		   "row 0: first sync %s at %" PRIu64,
		   idle_push_source_name(first.source), first.since);
	UNIT_CHECK(second.source == IDLE_PUSH_SOURCE_WATCH &&
		   second.since == 999, "row 1: follow-up %s at %" PRIu64,
		   idle_push_source_name(second.source), second.since);
}

struct latency_row {
	const char *name;
	uint64_t since, now, expected;
	/* run again with both shifted by 2^40 */
	bool shift;
};

static const struct latency_row latency_rows[] = {
	{ "a microsecond before the signal", 5000, 4999, 0, true },
	{ "at the signal", 5000, 5000, 0, true },
	{ "a microsecond after", 5000, 5001, 1, true },
	{ "the whole clock", 0, UINT64_MAX, UINT64_MAX, false },
	{ "a clock reading far before the signal", UINT64_MAX, 0, 0, false },
};

static void test_push_origin_latency(void)
{
	const struct latency_row *row;
	struct idle_push_origin origin;
	unsigned int i, s;
	uint64_t got, shift;

	for (i = 0; i < N_ELEMENTS(latency_rows); i++)
	for (s = 0; s < 2; s++) {
		row = &latency_rows[i];
		if (s == 1 && !row->shift)
			continue;
		shift = s == 0 ? 0 : SHIFT;
		origin.source = IDLE_PUSH_SOURCE_WATCH;
		origin.since = row->since + shift;
		got = idle_push_origin_latency(&origin, row->now + shift);
		UNIT_CHECK(got == row->expected,
			   "row %u (%s), shift %" PRIu64 ": %" PRIu64
			   ", expected %" PRIu64, i, row->name, shift, got,
			   row->expected);
	}
}

struct name_row {
	enum idle_push_source source;
	const char *name;
};

static const struct name_row name_rows[] = {
	{ IDLE_PUSH_SOURCE_NONE, "none" },
	{ IDLE_PUSH_SOURCE_WATCH, "watch" },
	{ IDLE_PUSH_SOURCE_DOVECOT, "dovecot" },
	{ IDLE_PUSH_SOURCE_POLL, "poll" },
	{ IDLE_PUSH_SOURCE_RECHECK, "recheck" },
	{ IDLE_PUSH_SOURCE_TIMER, "timer" },
	{ IDLE_PUSH_SOURCE_FOLLOWUP, "followup" },
	{ IDLE_PUSH_SOURCE_START, "start" },
	{ IDLE_PUSH_SOURCE_RESUME, "resume" },
	{ IDLE_PUSH_SOURCE_DONE, "done" },
	{ IDLE_PUSH_SOURCE_BUS, "bus" },
	{ IDLE_PUSH_SOURCE_COUNT, "unknown" },
	{ (enum idle_push_source)-1, "unknown" },
	{ (enum idle_push_source)1000, "unknown" },
};

static void test_push_source_names(void)
{
	const char *got;
	unsigned int i;

	/* every source has a row: a new one must be named here (and in
	   README's table of events) */
	UNIT_CHECK(N_ELEMENTS(name_rows) == IDLE_PUSH_SOURCE_COUNT + 3,
		   "row %u: %zu rows for %d sources", 0U,
		   N_ELEMENTS(name_rows), (int)IDLE_PUSH_SOURCE_COUNT);
	for (i = 0; i < N_ELEMENTS(name_rows); i++) {
		got = idle_push_source_name(name_rows[i].source);
		UNIT_CHECK(got != NULL && strcmp(got, name_rows[i].name) == 0,
			   "row %u: %d is named %s, expected %s", i,
			   (int)name_rows[i].source, got == NULL ? "NULL" : got,
			   name_rows[i].name);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_push_origin_earliest_wins),
		UNIT_TEST(test_push_origin_signal_during_sync),
		UNIT_TEST(test_push_origin_latency),
		UNIT_TEST(test_push_source_names),
		UNIT_TEST_END
	};

	return unit_main("push-source", tests);
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "watch-check.h"
#include "unit-main.h"

#include <string.h>

/* The combination of a look's signals is a function of seven flags: the
   rows name the cases that matter, and every one of the 128 inputs is
   checked against the rules they share (mutating each row's flags). */

#define LOG IDLE_WATCH_SIGNAL_LOG_GREW
#define BUSY IDLE_WATCH_SIGNAL_WRITER_BUSY
#define FULL IDLE_WATCH_SIGNAL_FULL_SYNC

enum input_flag {
	F_LOG_GREW = 0x01,
	F_WRITER = 0x02,
	F_INCLUDE_DIRS = 0x04,
	F_HAS_DIRS = 0x08,
	F_PENDING = 0x10,
	F_ARMED = 0x20,
	F_SYNCING = 0x40,
	F_ALL = 0x7f,
};

struct check_row {
	const char *name;
	unsigned int flags;
	unsigned int signal;
	bool pending, read_dirs;
};

static const struct check_row rows[] = {
	{ "nothing", 0, 0, false, false },
	{ "the log grew", F_LOG_GREW, LOG, false, false },
	{ "a writer in its commit owes a check", F_WRITER | F_HAS_DIRS,
	  BUSY, true, false },
	{ "a writer, the log grew, dirs asked for",
	  F_WRITER | F_LOG_GREW | F_INCLUDE_DIRS | F_HAS_DIRS,
	  BUSY | LOG, true, false },
	{ "dirs asked for: read them", F_INCLUDE_DIRS | F_HAS_DIRS,
	  0, false, true },
	{ "dirs asked for, no dirs", F_INCLUDE_DIRS, 0, false, false },
	{ "dirs asked for while syncing: after the sync",
	  F_INCLUDE_DIRS | F_HAS_DIRS | F_SYNCING, 0, true, false },
	{ "dirs asked for, the log grew: after its sync",
	  F_INCLUDE_DIRS | F_HAS_DIRS | F_LOG_GREW, LOG, true, false },
	{ "an owed check with no timer runs now", F_PENDING | F_HAS_DIRS,
	  0, false, true },
	{ "an owed check waits for its timer",
	  F_PENDING | F_ARMED | F_HAS_DIRS, 0, true, false },
	{ "an owed check with its timer, dirs asked for",
	  F_PENDING | F_ARMED | F_HAS_DIRS | F_INCLUDE_DIRS, 0, false, true },
	{ "an owed check, the log grew",
	  F_PENDING | F_HAS_DIRS | F_LOG_GREW, LOG, true, false },
	{ "an owed check while syncing", F_PENDING | F_HAS_DIRS | F_SYNCING,
	  0, true, false },
};

static void input_from_flags(unsigned int flags,
			     struct idle_watch_check_input *input_r)
{
	memset(input_r, 0, sizeof(*input_r));
	input_r->log_grew = (flags & F_LOG_GREW) != 0;
	input_r->writer_in_commit = (flags & F_WRITER) != 0;
	input_r->include_dirs = (flags & F_INCLUDE_DIRS) != 0;
	input_r->has_dirs = (flags & F_HAS_DIRS) != 0;
	input_r->dirs_check_pending = (flags & F_PENDING) != 0;
	input_r->dirs_check_armed = (flags & F_ARMED) != 0;
	input_r->syncing = (flags & F_SYNCING) != 0;
}

static void test_watch_check_rows(void)
{
	struct idle_watch_check_input input;
	struct idle_watch_check check;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(rows); i++) {
		input_from_flags(rows[i].flags, &input);
		idle_watch_check_plan(&input, &check);
		UNIT_CHECK((unsigned int)check.signal == rows[i].signal &&
			   check.dirs_check_pending == rows[i].pending &&
			   check.read_dirs == rows[i].read_dirs &&
			   !check.arm_recheck,
			   "row %u (%s): signal %#x pending %d read %d "
			   "arm %d, expected %#x %d %d 0", i, rows[i].name,
			   check.signal, check.dirs_check_pending,
			   check.read_dirs, check.arm_recheck,
			   rows[i].signal, rows[i].pending,
			   rows[i].read_dirs);
	}
}

/* The rules every input obeys. */
static void test_watch_check_all_inputs(void)
{
	struct idle_watch_check_input input;
	struct idle_watch_check check;
	unsigned int flags;
	bool looks;

	for (flags = 0; flags <= F_ALL; flags++) {
		input_from_flags(flags, &input);
		idle_watch_check_plan(&input, &check);
		looks = input.include_dirs ||
			(input.dirs_check_pending && !input.dirs_check_armed);
		UNIT_CHECK(((check.signal & LOG) != 0) == input.log_grew,
			   "input %#x: LOG_GREW is not the log's", flags);
		UNIT_CHECK(((check.signal & BUSY) != 0) ==
			   input.writer_in_commit,
			   "input %#x: WRITER_BUSY is not the writer's", flags);
		UNIT_CHECK((check.signal & FULL) == 0 && !check.arm_recheck,
			   "input %#x: the plan decided for the dirs", flags);
		UNIT_CHECK(!check.read_dirs ||
			   (input.has_dirs && !input.writer_in_commit &&
			    !input.syncing && !input.log_grew && looks),
			   "input %#x: reads the dirs when it must not", flags);
		UNIT_CHECK(check.read_dirs || !input.has_dirs ||
			   input.writer_in_commit || input.syncing ||
			   input.log_grew || !looks,
			   "input %#x: does not read the dirs", flags);
		/* an owed check is never dropped without a read */
		UNIT_CHECK(!input.dirs_check_pending ||
			   check.dirs_check_pending || check.read_dirs ||
			   !input.has_dirs,
			   "input %#x: an owed check was dropped", flags);
		UNIT_CHECK(!input.writer_in_commit || check.dirs_check_pending,
			   "input %#x: a writer's commit owes no check", flags);
	}
}

struct verdict_row {
	enum idle_dir_verdict verdict;
	unsigned int signal;
	bool pending, arm_recheck;
};

static const struct verdict_row verdict_rows[] = {
	{ IDLE_DIR_CLEAN, 0, false, false },
	{ IDLE_DIR_UNSURE, 0, true, true },
	{ IDLE_DIR_UNRECORDED, FULL, false, false },
};

static void test_watch_check_dirs_done(void)
{
	struct idle_watch_check_input input;
	struct idle_watch_check check;
	unsigned int i, base;
	static const unsigned int bases[] = {
		F_INCLUDE_DIRS | F_HAS_DIRS, F_PENDING | F_HAS_DIRS,
	};

	for (base = 0; base < N_ELEMENTS(bases); base++)
	for (i = 0; i < N_ELEMENTS(verdict_rows); i++) {
		input_from_flags(bases[base], &input);
		idle_watch_check_plan(&input, &check);
		UNIT_CHECK_FATAL(check.read_dirs, "row %u: no read", i);
		idle_watch_check_dirs_done(&check, verdict_rows[i].verdict);
		UNIT_CHECK((unsigned int)check.signal ==
			   verdict_rows[i].signal &&
			   check.dirs_check_pending ==
			   verdict_rows[i].pending &&
			   check.arm_recheck == verdict_rows[i].arm_recheck,
			   "row %u (%s, input %#x): signal %#x pending %d "
			   "arm %d", i,
			   idle_dir_verdict_name(verdict_rows[i].verdict),
			   bases[base], check.signal,
			   check.dirs_check_pending, check.arm_recheck);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_watch_check_rows),
		UNIT_TEST(test_watch_check_all_inputs),
		UNIT_TEST(test_watch_check_dirs_done),
		UNIT_TEST_END
	};
	return unit_main("watch-check", tests);
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* The shell pieces that need Dovecot's own types, run under Dovecot's
   lib-test (exported by libdovecot): the DONE recognizer over a real
   istream that hands out data in pieces, settings read through the
   plugin-settings lookup a mail user has, the keepalive timer on a
   real ioloop, and the shared directory watches over real inotify events
   in a temporary directory. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "istream.h"
#include "ioloop.h"
#include "mail-storage-settings.h"
#include "test-common.h"
#include "idle-input.h"
#include "idle-user.h"
#include "idle-keepalive.h"
#include "idle-clock.h"
#include "idle-dir-watch.h"

#include <fcntl.h>
#include <unistd.h>

/* --- the DONE recognizer over an istream ---------------------------------- */

/* Scans input the way the command does: read, scan, repeat until a
   verdict or EOF. */
static enum idle_done_verdict
scan_until_verdict(struct istream *input, struct idle_done_scanner *scanner)
{
	enum idle_done_verdict verdict;

	for (;;) {
		verdict = imap_idle_input_scan(input, scanner);
		if (verdict != IDLE_DONE_NEED_MORE)
			return verdict;
		if (i_stream_read(input) == -1)
			return IDLE_DONE_NEED_MORE;
	}
}

static void test_input_scan_pieces(void)
{
	static const char data[] =
		" junk after the IDLE command\r\n"
		"FOO\r\n"
		"done\n"
		"a2 NOOP\r\n";
	static const enum idle_done_verdict expected[] = {
		IDLE_DONE_OTHER_LINE, IDLE_DONE_DONE
	};
	enum idle_done_verdict verdicts[N_ELEMENTS(expected) + 1];
	struct idle_done_scanner scanner;
	struct istream *input;
	const unsigned char *rest;
	size_t step, size, rest_size, total = sizeof(data) - 1;
	unsigned int count;

	test_begin("input scan: verdicts whatever the read sizes");
	for (step = 1; step <= total; step++) {
		input = test_istream_create_data(data, total);
		idle_done_scanner_init(&scanner, TRUE, 100);
		count = 0;
		/* the stream hands out step more bytes each round, as a
		   socket would; the scanner stops at the second verdict */
		for (size = step; count < N_ELEMENTS(expected); size += step) {
			test_istream_set_size(input, I_MIN(size, total));
			(void)i_stream_read(input);
			verdicts[count] = imap_idle_input_scan(input, &scanner);
			if (verdicts[count] != IDLE_DONE_NEED_MORE)
				count++;
			else if (size >= total)
				break;
		}
		test_assert_idx(count == N_ELEMENTS(expected), step);
		test_assert_idx(count < 1 || verdicts[0] == expected[0], step);
		test_assert_idx(count < 2 || verdicts[1] == expected[1], step);
		/* the pipelined command is still there, untouched */
		test_istream_set_size(input, total);
		(void)i_stream_read(input);
		rest = i_stream_get_data(input, &rest_size);
		test_assert_idx(rest_size == strlen("a2 NOOP\r\n") &&
				memcmp(rest, "a2 NOOP\r\n", rest_size) == 0,
				step);
		i_stream_unref(&input);
	}
	test_end();
}

static void test_input_scan_too_long(void)
{
	struct idle_done_scanner scanner;
	struct istream *input;
	string_t *line = t_str_new(70010);
	unsigned int i;

	test_begin("input scan: a 70000-byte line, then DONE");
	for (i = 0; i < 70000; i++)
		str_append_c(line, 'x');
	str_append(line, "\r\nDONE\r\n");
	input = test_istream_create_data(str_data(line), str_len(line));
	/* the stream's buffer is far smaller than the line */
	i_stream_set_max_buffer_size(input, 4096);
	idle_done_scanner_init(&scanner, FALSE, 65536);
	test_assert(scan_until_verdict(input, &scanner) == IDLE_DONE_TOO_LONG);
	test_assert(scan_until_verdict(input, &scanner) == IDLE_DONE_DONE);
	i_stream_unref(&input);
	test_end();
}

/* --- settings through the plugin-settings lookup --------------------------- */

/* Dovecot 2.3's plugin {} only; 2.4's declarations are checked by
   test-settings-dovecot.c. */
#ifndef HAVE_DOVECOT_SETTINGS_GET

static void user_set_init(struct mail_user_settings *user_set,
			  const char *const *envs)
{
	i_zero(user_set);
	t_array_init(&user_set->plugin_envs, 8);
	for (; *envs != NULL; envs++)
		array_push_back(&user_set->plugin_envs, envs);
}

static void test_user_settings_read(void)
{
	static const char *const good[] = {
		"imap_idle_notify_delay", "20ms",
		"imap_idle_poll_interval", "5 secs",
		"imap_idle_done_sync", "no",
		"quota", "maildir", /* someone else's */
		NULL
	};
	static const char *const bad[] = {
		"imap_idle_notify_delay", "fast", NULL
	};
	struct mail_user_settings user_set;
	struct idle_settings set;
	const char *error = NULL;

	test_begin("settings read through plugin_envs");
	user_set_init(&user_set, good);
	test_assert(imap_idle_user_settings_read(&user_set, &set, &error) == 0);
	test_assert(set.notify_delay_msecs == 20);
	test_assert(set.poll_interval_msecs == 5000);
	test_assert(!set.done_sync);

	user_set_init(&user_set, bad);
	test_assert(imap_idle_user_settings_read(&user_set, &set, &error) < 0);
	test_assert(error != NULL &&
		    strstr(error, "imap_idle_notify_delay") != NULL &&
		    strstr(error, "'fast'") != NULL &&
		    strstr(error, "expected") != NULL);

	/* nothing configured: the defaults */
	i_zero(&user_set);
	test_assert(imap_idle_user_settings_read(&user_set, &set, &error) == 0);
	test_assert(set.notify_delay_msecs == 0 && set.done_sync);
	test_end();
}
#endif

/* --- the keepalive timer on an ioloop -------------------------------------- */

struct keepalive_count {
	struct imap_idle_keepalive *keepalive;
	unsigned int fired;
};

static void keepalive_fired(void *context)
{
	struct keepalive_count *count = context;

	if (++count->fired == 2) {
		imap_idle_keepalive_stop(&count->keepalive);
		io_loop_stop(current_ioloop);
	}
}

static void keepalive_gave_up(void *context ATTR_UNUSED)
{
	io_loop_stop(current_ioloop);
}

static void test_keepalive_timer(void)
{
	struct keepalive_count count;
	struct ioloop *ioloop;
	struct timeout *to_safety;

	test_begin("keepalive timer repeats and stops");
	ioloop = io_loop_create();
	i_zero(&count);
	test_assert(imap_idle_keepalive_start(0, "user1", keepalive_fired,
					 &count) == NULL);
	count.keepalive = imap_idle_keepalive_start(1, "user1", keepalive_fired,
					       &count);
	test_assert(count.keepalive != NULL);
	/* not a timing assertion: only keeps a broken timer from hanging */
	to_safety = timeout_add(10000, keepalive_gave_up, (void *)NULL);
	io_loop_run(ioloop);
	timeout_remove(&to_safety);
	test_assert(count.fired == 2);
	test_assert(count.keepalive == NULL);
	io_loop_destroy(&ioloop);
	test_end();
}

/* --- the shared directory watches --------------------------------------- */

struct fanout_test {
	const char *dir;
	struct imap_idle_dir_sub *a, *b;
	unsigned int a_calls, b_calls;
	/* read_usecs of a's and b's calls; whether one was later than the
	   call itself */
	uint64_t a_read[2], b_read;
	bool read_in_future;
	bool nested_done, gave_up;
};

static void fanout_note_read(struct fanout_test *t, uint64_t *slot,
			     uint64_t read_usecs)
{
	*slot = read_usecs;
	if (read_usecs > imap_idle_clock_monotonic_usecs())
		t->read_in_future = TRUE;
}

static void dir_touch(const char *dir, const char *name)
{
	const char *path = t_strconcat(dir, "/", name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1)
		i_fatal("open(%s) failed: %m", path);
	i_close_fd(&fd);
}

static void fanout_gave_up(struct fanout_test *t)
{
	t->gave_up = TRUE;
	io_loop_stop(current_ioloop);
}

/* a's first call is the outer fan-out: it changes the directory again and
   runs the ioloop until the nested fan-out of the same directory, in
   which a unsubscribes everyone, is over */
static void nested_a_event(uint64_t read_usecs, void *context)
{
	struct fanout_test *t = context;

	if (t->a_calls < N_ELEMENTS(t->a_read))
		fanout_note_read(t, &t->a_read[t->a_calls], read_usecs);
	if (++t->a_calls == 1) {
		dir_touch(t->dir, "second");
		while (!t->nested_done && !t->gave_up)
			io_loop_handler_run(current_ioloop);
		io_loop_stop(current_ioloop);
		return;
	}
	imap_idle_dir_watch_unsubscribe(&t->b);
	imap_idle_dir_watch_unsubscribe(&t->a);
	t->nested_done = TRUE;
}

static void count_b_event(uint64_t read_usecs, void *context)
{
	struct fanout_test *t = context;

	fanout_note_read(t, &t->b_read, read_usecs);
	t->b_calls++;
}

static void stop_b_event(uint64_t read_usecs, void *context)
{
	count_b_event(read_usecs, context);
	io_loop_stop(current_ioloop);
}

/* b unsubscribes both within one fan-out, a's turn still to come */
static void last_b_event(uint64_t read_usecs ATTR_UNUSED, void *context)
{
	struct fanout_test *t = context;

	t->b_calls++;
	imap_idle_dir_watch_unsubscribe(&t->a);
	imap_idle_dir_watch_unsubscribe(&t->b);
	io_loop_stop(current_ioloop);
}

static void count_a_event(uint64_t read_usecs, void *context)
{
	struct fanout_test *t = context;

	fanout_note_read(t, &t->a_read[0], read_usecs);
	t->a_calls++;
}

static void fanout_run(struct fanout_test *t, imap_idle_dir_event_t *a_event,
		       imap_idle_dir_event_t *b_event, bool b_first)
{
	struct ioloop *ioloop = io_loop_create();
	struct timeout *to_safety;

	if (b_first)
		t->b = imap_idle_dir_watch_subscribe(t->dir, b_event, t);
	t->a = imap_idle_dir_watch_subscribe(t->dir, a_event, t);
	if (!b_first)
		t->b = imap_idle_dir_watch_subscribe(t->dir, b_event, t);
	test_assert(t->a != NULL && t->b != NULL);
	dir_touch(t->dir, "first");
	/* not a timing assertion: only keeps a broken watch from hanging */
	to_safety = timeout_add(10000, fanout_gave_up, t);
	io_loop_run(ioloop);
	timeout_remove(&to_safety);
	test_assert(!t->gave_up);
	imap_idle_dir_watch_unsubscribe(&t->a);
	imap_idle_dir_watch_unsubscribe(&t->b);
	imap_idle_dir_watch_deinit();
	io_loop_destroy(&ioloop);
}

static const char *fanout_dir(void)
{
	const char *dir = t_strdup_printf("/tmp/imap-idle-test-shell.%ld",
					  (long)getpid());

	if (mkdir(dir, 0700) < 0)
		i_fatal("mkdir(%s) failed: %m", dir);
	return dir;
}

static void fanout_dir_remove(const char *dir)
{
	(void)unlink(t_strconcat(dir, "/first", NULL));
	(void)unlink(t_strconcat(dir, "/second", NULL));
	if (rmdir(dir) < 0)
		i_error("rmdir(%s) failed: %m", dir);
}

static void test_dir_watch_nested_fanout(void)
{
	struct fanout_test t;

	test_begin("dir watch: nested fan-out unsubscribes everyone");
	i_zero(&t);
	t.dir = fanout_dir();
	fanout_run(&t, nested_a_event, count_b_event, FALSE);
	/* a: the outer and the nested call; b: gone before its turn in
	   either fan-out.  The directory watch is freed once, after the
	   outer fan-out (a free at the end of the nested one would leave
	   the outer one walking freed memory) */
	test_assert(t.nested_done);
	test_assert(t.a_calls == 2);
	test_assert(t.b_calls == 0);
	/* the nested batch was read during the outer one's call */
	test_assert(t.a_read[0] > 0 && t.a_read[1] >= t.a_read[0]);
	test_assert(!t.read_in_future);
	fanout_dir_remove(t.dir);
	test_end();
}

static void test_dir_watch_read_time(void)
{
	struct fanout_test t;

	test_begin("dir watch: every subscriber gets the batch's read time");
	i_zero(&t);
	t.dir = fanout_dir();
	fanout_run(&t, count_a_event, stop_b_event, FALSE);
	test_assert(t.a_calls == 1 && t.b_calls == 1);
	test_assert(t.a_read[0] > 0 && t.a_read[0] == t.b_read);
	test_assert(!t.read_in_future);
	fanout_dir_remove(t.dir);
	test_end();
}

static void test_dir_watch_last_unsubscribe_in_fanout(void)
{
	struct fanout_test t;
	struct ioloop *ioloop;

	test_begin("dir watch: the last subscriber leaves during a fan-out");
	i_zero(&t);
	t.dir = fanout_dir();
	fanout_run(&t, count_a_event, last_b_event, TRUE);
	test_assert(t.b_calls == 1);
	test_assert(t.a_calls == 0);
	/* the path can be watched afresh */
	ioloop = io_loop_create();
	t.a = imap_idle_dir_watch_subscribe(t.dir, count_a_event, &t);
	test_assert(t.a != NULL);
	imap_idle_dir_watch_unsubscribe(&t.a);
	io_loop_destroy(&ioloop);
	fanout_dir_remove(t.dir);
	test_end();
}

/* Each subscriber's callback runs under the ioloop context it subscribed
   in (its user's), though the process's one inotify io, and so the batch
   timeout, belong to the first subscriber's */
struct context_test {
	struct ioloop_context *ctx_a, *ctx_b;
	struct ioloop_context *seen_a, *seen_b;
	unsigned int calls;
	bool gave_up;
};

static void context_note(struct context_test *t, struct ioloop_context **seen)
{
	*seen = io_loop_get_current_context(current_ioloop);
	if (++t->calls == 2)
		io_loop_stop(current_ioloop);
}

static void context_a_event(uint64_t read_usecs ATTR_UNUSED, void *context)
{
	struct context_test *t = context;

	context_note(t, &t->seen_a);
}

static void context_b_event(uint64_t read_usecs ATTR_UNUSED, void *context)
{
	struct context_test *t = context;

	context_note(t, &t->seen_b);
}

static void context_gave_up(struct context_test *t)
{
	t->gave_up = TRUE;
	io_loop_stop(current_ioloop);
}

static struct imap_idle_dir_sub *
context_subscribe(struct ioloop_context *ctx, const char *dir,
		  imap_idle_dir_event_t *callback, struct context_test *t)
{
	struct imap_idle_dir_sub *sub;

	io_loop_context_activate(ctx);
	sub = imap_idle_dir_watch_subscribe(dir, callback, t);
	io_loop_context_deactivate(ctx);
	return sub;
}

static void test_dir_watch_subscriber_context(void)
{
	struct ioloop *ioloop;
	struct imap_idle_dir_sub *a, *b;
	struct timeout *to_safety;
	struct context_test t;
	const char *dir;

	test_begin("dir watch: callbacks run in the subscriber's context");
	i_zero(&t);
	dir = fanout_dir();
	ioloop = io_loop_create();
	t.ctx_a = io_loop_context_new(ioloop);
	t.ctx_b = io_loop_context_new(ioloop);
	a = context_subscribe(t.ctx_a, dir, context_a_event, &t);
	b = context_subscribe(t.ctx_b, dir, context_b_event, &t);
	test_assert(a != NULL && b != NULL);
	dir_touch(dir, "first");
	/* not a timing assertion: only keeps a broken watch from hanging */
	to_safety = timeout_add(10000, context_gave_up, &t);
	io_loop_run(ioloop);
	timeout_remove(&to_safety);
	test_assert(!t.gave_up);
	test_assert(t.seen_a == t.ctx_a);
	test_assert(t.seen_b == t.ctx_b);
	test_assert(io_loop_get_current_context(ioloop) == NULL);
	imap_idle_dir_watch_unsubscribe(&a);
	imap_idle_dir_watch_unsubscribe(&b);
	imap_idle_dir_watch_deinit();
	io_loop_context_unref(&t.ctx_a);
	io_loop_context_unref(&t.ctx_b);
	io_loop_destroy(&ioloop);
	fanout_dir_remove(dir);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_input_scan_pieces,
		test_input_scan_too_long,
#ifndef HAVE_DOVECOT_SETTINGS_GET
		test_user_settings_read,
#endif
		test_keepalive_timer,
		test_dir_watch_nested_fanout,
		test_dir_watch_last_unsubscribe_in_fanout,
		test_dir_watch_read_time,
		test_dir_watch_subscriber_context,
		NULL
	};
	return test_run(test_functions);
}

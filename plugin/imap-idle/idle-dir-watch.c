/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "lib.h"
#include "array.h"
#include "ioloop.h"
#include "idle-clock.h"
#include "idle-ioloop-context.h"
#include "idle-dir-watch.h"

struct dir_watch {
	char *path;
	/* NULL while no subscriber listens */
	struct io *io;
	ARRAY(struct imap_idle_dir_sub *) subs;
	unsigned int listeners;
	/* events were read; they are looked at together */
	struct timeout *to_batch;
	/* when the batch's first events were read */
	uint64_t batch_read_usecs;
	/* fan-outs of this directory running, nested ones included: a
	   callback may unsubscribe the last subscriber, so freeing waits
	   until the outermost one is over */
	unsigned int fanout_depth;
};

struct imap_idle_dir_sub {
	struct dir_watch *dir;
	imap_idle_dir_event_t *callback;
	void *context;
	/* the subscriber's, for its callbacks (idle-ioloop-context.h) */
	struct ioloop_context *ioloop_ctx;
	bool listening;
};

static ARRAY(struct dir_watch *) dir_watches = ARRAY_INIT;

static void dir_sub_free(struct imap_idle_dir_sub **_sub)
{
	struct imap_idle_dir_sub *sub = *_sub;

	*_sub = NULL;
	imap_idle_ioloop_context_release(&sub->ioloop_ctx);
	i_free(sub);
}

static void dir_watch_free(struct dir_watch *dir)
{
	struct dir_watch *const *d;
	struct imap_idle_dir_sub **sub;

	i_assert(dir->fanout_depth == 0);
	array_foreach(&dir_watches, d) {
		if (*d == dir) {
			array_delete(&dir_watches,
				     array_foreach_idx(&dir_watches, d), 1);
			break;
		}
	}
	io_remove(&dir->io);
	timeout_remove(&dir->to_batch);
	/* only at deinit: anyone left is a leak we clean up */
	array_foreach_modifiable(&dir->subs, sub)
		dir_sub_free(sub);
	array_free(&dir->subs);
	i_free(dir->path);
	i_free(dir);
}

static bool dir_watch_has(struct dir_watch *dir,
			  const struct imap_idle_dir_sub *sub)
{
	struct imap_idle_dir_sub *const *s;

	array_foreach(&dir->subs, s) {
		if (*s == sub)
			return TRUE;
	}
	return FALSE;
}

static void dir_sub_call(void *context)
{
	struct imap_idle_dir_sub *sub = context;

	sub->callback(sub->dir->batch_read_usecs, sub->context);
}

static void dir_watch_fan_out(struct dir_watch *dir)
{
	ARRAY(struct imap_idle_dir_sub *) snapshot;
	struct imap_idle_dir_sub *const *s;

	/* a callback may unsubscribe anyone (its client may finish or be
	   destroyed), so walk a copy and skip the ones gone since; the
	   pointers of those are compared, never followed */
	t_array_init(&snapshot, array_count(&dir->subs));
	array_append_array(&snapshot, &dir->subs);
	dir->fanout_depth++;
	array_foreach(&snapshot, s) {
		if (dir_watch_has(dir, *s) && (*s)->listening) {
			imap_idle_ioloop_context_call((*s)->ioloop_ctx,
						      dir_sub_call, *s);
		}
	}
	dir->fanout_depth--;
	if (dir->fanout_depth == 0 && array_count(&dir->subs) == 0)
		dir_watch_free(dir);
}

static void dir_watch_batch(struct dir_watch *dir)
{
	timeout_remove(&dir->to_batch);
	T_BEGIN {
		dir_watch_fan_out(dir);
	} T_END;
}

static void dir_watch_input(struct dir_watch *dir)
{
	/* the timeout runs right after the events of this read */
	if (dir->to_batch == NULL) {
		dir->batch_read_usecs = imap_idle_clock_monotonic_usecs();
		dir->to_batch = timeout_add_short(0, dir_watch_batch, dir);
	}
}

static bool dir_watch_listen(struct dir_watch *dir)
{
	if (dir->listeners++ > 0)
		return TRUE;
	if (io_add_notify(dir->path, dir_watch_input, dir, &dir->io) ==
	    IO_NOTIFY_ADDED)
		return TRUE;
	dir->listeners--;
	return FALSE;
}

static void dir_watch_unlisten(struct dir_watch *dir)
{
	i_assert(dir->listeners > 0);
	if (--dir->listeners == 0)
		io_remove(&dir->io);
}

static struct dir_watch *dir_watch_find(const char *path)
{
	struct dir_watch *const *d;

	if (!array_is_created(&dir_watches))
		return NULL;
	array_foreach(&dir_watches, d) {
		if (strcmp((*d)->path, path) == 0)
			return *d;
	}
	return NULL;
}

struct imap_idle_dir_sub *
imap_idle_dir_watch_subscribe(const char *path,
			      imap_idle_dir_event_t *callback, void *context)
{
	struct dir_watch *dir = dir_watch_find(path);
	struct imap_idle_dir_sub *sub;

	if (dir == NULL) {
		dir = i_new(struct dir_watch, 1);
		dir->path = i_strdup(path);
		if (!dir_watch_listen(dir)) {
			i_free(dir->path);
			i_free(dir);
			return NULL;
		}
		i_array_init(&dir->subs, 4);
		if (!array_is_created(&dir_watches))
			i_array_init(&dir_watches, 16);
		array_push_back(&dir_watches, &dir);
	} else if (!dir_watch_listen(dir))
		return NULL;
	sub = i_new(struct imap_idle_dir_sub, 1);
	sub->dir = dir;
	sub->callback = callback;
	sub->context = context;
	sub->ioloop_ctx = imap_idle_ioloop_context_capture();
	sub->listening = TRUE;
	array_push_back(&dir->subs, &sub);
	return sub;
}

void imap_idle_dir_watch_unsubscribe(struct imap_idle_dir_sub **_sub)
{
	struct imap_idle_dir_sub *sub = *_sub;
	struct dir_watch *dir;
	struct imap_idle_dir_sub *const *s;

	if (sub == NULL)
		return;
	*_sub = NULL;
	dir = sub->dir;
	array_foreach(&dir->subs, s) {
		if (*s == sub) {
			array_delete(&dir->subs,
				     array_foreach_idx(&dir->subs, s), 1);
			break;
		}
	}
	if (sub->listening)
		dir_watch_unlisten(dir);
	dir_sub_free(&sub);
	if (array_count(&dir->subs) == 0 && dir->fanout_depth == 0)
		dir_watch_free(dir);
}

bool imap_idle_dir_watch_listen(struct imap_idle_dir_sub *sub,
				bool listening)
{
	if (sub->listening == listening)
		return TRUE;
	if (!listening)
		dir_watch_unlisten(sub->dir);
	else if (!dir_watch_listen(sub->dir))
		return FALSE;
	sub->listening = listening;
	return TRUE;
}

const char *imap_idle_dir_watch_path(const struct imap_idle_dir_sub *sub)
{
	return sub->dir->path;
}

void imap_idle_dir_watch_foreach_other(struct imap_idle_dir_sub *sub,
				       imap_idle_dir_each_t *fn)
{
	struct imap_idle_dir_sub *const *s;

	array_foreach(&sub->dir->subs, s) {
		if (*s != sub)
			fn((*s)->context);
	}
}

void imap_idle_dir_watch_deinit(void)
{
	struct dir_watch *const *d;

	if (!array_is_created(&dir_watches))
		return;
	while (array_count(&dir_watches) > 0) {
		d = array_front(&dir_watches);
		dir_watch_free(*d);
	}
	array_free(&dir_watches);
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_UTIL_H
#define LOADGEN_UTIL_H

/* The bottom layer of loadgen: the monotonic clock, growable buffers and
   arrays, sample sets and their statistics, line splitting.  No state of
   its own, no use of any other loadgen module. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_CHECKS_FAILED 1
#define EXIT_USAGE 2
#define EXIT_INTERNAL 3

#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC 1000000000LL

struct buf {
	char *data;
	size_t len, cap;
};

struct samples {
	int64_t *v;
	size_t n, cap;
};

int64_t now_ns(void);
/* Exits with EXIT_INTERNAL when out of memory. */
void *xrealloc(void *p, size_t size);
/* Grows arr to hold at least need elements, zero-filling the new part;
   returns the (maybe moved) array. */
void *array_grow(void *arr, size_t *cap, size_t need, size_t elem_size);
/* Appends and keeps the data NUL terminated. */
void buf_append(struct buf *b, const void *data, size_t len);
void buf_consume(struct buf *b, size_t len);
/* Next complete line of in from *pos, CR/LF cut off and NUL terminated in
   place, or NULL; advances *pos past it. */
char *next_line(struct buf *in, size_t *pos);
/* True if s starts with word, ignoring case, followed by NUL, space or a
   parenthesis. */
bool word_is(const char *s, const char *word);

void samples_add(struct samples *s, int64_t value);
/* Sorts s in place; nearest-rank percentile p (0..100) of it.  s must not
   be empty. */
void samples_sort(struct samples *s);
int64_t samples_percentile(const struct samples *s, double p);
/* s as a JSON string, quotes included. */
void json_string(FILE *f, const char *s);

/* s as a JSON string, quotes included. */
void json_string(FILE *f, const char *s);

#endif

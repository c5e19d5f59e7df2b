/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "loadgen-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (p == NULL && size > 0) {
		fputs("loadgen: out of memory\n", stderr);
		exit(EXIT_INTERNAL);
	}
	return p;
}

void *array_grow(void *arr, size_t *cap, size_t need, size_t elem_size)
{
	size_t new_cap = *cap == 0 ? 16 : *cap;

	if (need <= *cap)
		return arr;
	while (new_cap < need)
		new_cap *= 2;
	arr = xrealloc(arr, new_cap * elem_size);
	memset((char *)arr + *cap * elem_size, 0,
	       (new_cap - *cap) * elem_size);
	*cap = new_cap;
	return arr;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
	b->data = array_grow(b->data, &b->cap, b->len + len + 1, 1);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_consume(struct buf *b, size_t len)
{
	memmove(b->data, b->data + len, b->len - len);
	b->len -= len;
}

char *next_line(struct buf *in, size_t *pos)
{
	char *start = in->data + *pos, *nl;

	nl = memchr(start, '\n', in->len - *pos);
	if (nl == NULL)
		return NULL;
	*nl = '\0';
	if (nl > start && nl[-1] == '\r')
		nl[-1] = '\0';
	*pos = nl + 1 - in->data;
	return start;
}

bool word_is(const char *s, const char *word)
{
	size_t len = strlen(word);

	return strncasecmp(s, word, len) == 0 &&
		(s[len] == '\0' || strchr(" ()", s[len]) != NULL);
}

void samples_add(struct samples *s, int64_t value)
{
	s->v = array_grow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = value;
}

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

void samples_sort(struct samples *s)
{
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(*s->v), cmp_int64);
}

int64_t samples_percentile(const struct samples *s, double p)
{
	double exact = p / 100.0 * s->n;
	size_t rank = (size_t)exact;

	if (rank < exact)
		rank++;		/* ceil() without libm */
	return s->v[rank == 0 ? 0 : rank - 1];
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

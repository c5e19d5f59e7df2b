/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_INPUT_H
#define IDLE_INPUT_H

#include "done-scanner.h"

struct istream;

/* Feeds what input has buffered to the scanner and skips the bytes that
   belong to the lines seen.  Returns the first verdict, or
   IDLE_DONE_NEED_MORE once the buffer is used up (the caller reads more).
   Bytes after the verdict line stay in the stream for the next command. */
enum idle_done_verdict
imap_idle_input_scan(struct istream *input, struct idle_done_scanner *scanner);

#endif

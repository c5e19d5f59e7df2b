/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef IDLE_KEEPALIVE_PHASE_H
#define IDLE_KEEPALIVE_PHASE_H

#include <stdint.h>

/* Keepalives for one user share a phase within the interval, so a phone
   with several IDLE connections wakes its radio once, while different
   users spread evenly over the interval.  The phase is a keyed hash of the
   user name, in milliseconds. */

#define IDLE_KEEPALIVE_PHASE_KEYBYTES 16U

/* Sets key_r to the project's fixed, documented key.  Phases must agree
   across hosts and restarts, so the key is a constant, not a secret. */
void idle_keepalive_phase_default_key(
	unsigned char key_r[IDLE_KEEPALIVE_PHASE_KEYBYTES]);

/* The user's phase in [0, interval_msecs).  interval_msecs must be > 0.
   Returns 0 if libsodium could not be initialized. */
uint64_t idle_keepalive_phase_msecs(
	const unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES],
	const char *username, uint64_t interval_msecs);

/* Milliseconds from now_msecs (wall clock since the epoch) until the next
   keepalive: the next instant t > now_msecs with
   t mod interval_msecs == phase_msecs.  Always in [1, interval_msecs]. */
uint64_t idle_keepalive_delay_msecs(uint64_t now_msecs,
				    uint64_t interval_msecs,
				    uint64_t phase_msecs);

#endif

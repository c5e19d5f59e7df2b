/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#include "keepalive-phase.h"

#include <string.h>
#include <sodium.h>

/* Wall-clock alignment, not "interval after IDLE started": two connections
   of one user that started at different moments still fire together, and
   a phase survives reconnects.  SipHash (crypto_shorthash) spreads even
   similar names (user1, user2, ...) uniformly; the modulo bias of a 64-bit
   hash over intervals of hours is negligible. */

static const unsigned char default_key[IDLE_KEEPALIVE_PHASE_KEYBYTES] =
	"imap-idle-phase1";

void idle_keepalive_phase_default_key(
	unsigned char key_r[IDLE_KEEPALIVE_PHASE_KEYBYTES])
{
	memcpy(key_r, default_key, IDLE_KEEPALIVE_PHASE_KEYBYTES);
}

uint64_t idle_keepalive_phase_msecs(
	const unsigned char key[IDLE_KEEPALIVE_PHASE_KEYBYTES],
	const char *username, uint64_t interval_msecs)
{
	unsigned char hash[crypto_shorthash_BYTES];
	uint64_t value = 0;
	unsigned int i;

	if (sodium_init() < 0)
		return 0;
	crypto_shorthash(hash, (const unsigned char *)username,
			 strlen(username), key);
	for (i = 0; i < crypto_shorthash_BYTES; i++)
		value = (value << 8) | hash[i];
	return value % interval_msecs;
}

uint64_t idle_keepalive_delay_msecs(uint64_t now_msecs,
				    uint64_t interval_msecs,
				    uint64_t phase_msecs)
{
	uint64_t offset = (now_msecs + interval_msecs - phase_msecs) %
		interval_msecs;

	return interval_msecs - offset;
}

/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* libFuzzer harness for idle_settings_parse_time_msecs().  Input: 4 bytes
   of max_msecs (little endian), then the value text (cut at a NUL).
   Checks: a result is within max_msecs, a failure leaves *msecs_r alone,
   an accepted value starts with a digit, and the value printed back as
   "<n>ms" parses to the same number. */

#include "idle-settings.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-parse-time: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int max_msecs, msecs = 0xdeadbeef, again = 0;
	char *value, printed[32];
	int ret;

	if (size < 4)
		return 0;
	max_msecs = (unsigned int)data[0] | (unsigned int)data[1] << 8 |
		(unsigned int)data[2] << 16 | (unsigned int)data[3] << 24;
	value = malloc(size - 4 + 1);
	memcpy(value, data + 4, size - 4);
	value[size - 4] = '\0';

	ret = idle_settings_parse_time_msecs(value, max_msecs, &msecs);
	if (ret == 0) {
		if (msecs > max_msecs)
			fail("accepted a time above max_msecs");
		if (value[0] < '0' || value[0] > '9')
			fail("accepted a value that does not start with a digit");
		snprintf(printed, sizeof(printed), "%ums", msecs);
		if (idle_settings_parse_time_msecs(printed, UINT_MAX,
						   &again) != 0 ||
		    again != msecs)
			fail("the parsed time does not read back the same");
	} else if (ret == -1) {
		if (msecs != 0xdeadbeef)
			fail("wrote *msecs_r on failure");
	} else {
		fail("return value is neither 0 nor -1");
	}
	free(value);
	return 0;
}

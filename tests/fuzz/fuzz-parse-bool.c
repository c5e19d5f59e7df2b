/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* libFuzzer harness for idle_settings_parse_bool(): the input is the value
   text (cut at a NUL).  Checks it against the documented word list: only
   yes/true/on/1 and no/false/off/0, in any case, are accepted, and a
   failure leaves *bool_r alone. */

#include "idle-settings.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-parse-bool: %s\n", what);
	abort();
}

static int word_in(const char *value, const char *const *words)
{
	for (; *words != NULL; words++) {
		if (strcasecmp(value, *words) == 0)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	char *value = malloc(size + 1);
	bool result = true, untouched;
	int ret;

	memcpy(value, data, size);
	value[size] = '\0';
	ret = idle_settings_parse_bool(value, &result);
	if (word_in(value, yes)) {
		if (ret != 0 || !result)
			fail("a yes word was not read as yes");
	} else if (word_in(value, no)) {
		if (ret != 0 || result)
			fail("a no word was not read as no");
	} else {
		untouched = result;
		result = false;
		if (ret != -1 || !untouched ||
		    idle_settings_parse_bool(value, &result) != -1 || result)
			fail("accepted a word that is not yes or no, or "
			     "wrote *bool_r on failure");
	}
	free(value);
	return 0;
}

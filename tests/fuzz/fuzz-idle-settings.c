/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* libFuzzer harness for idle_settings_parse(): the input is the settings
   source (plugin {} or a userdb), one value per key in table order,
   separated by NUL bytes; a value "\x01" stands for an unset key.
   Checks: the result is all defaults on error and each value as its own
   parser reads it on success; the error is one printable line naming
   the key, within the buffer, also when the buffer is tiny. */

#include "idle-settings.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 32

struct fuzz_source {
	const char *values[MAX_KEYS];
	unsigned int lookups;
};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-idle-settings: %s\n", what);
	abort();
}

static const char *fuzz_lookup(const char *key, void *context)
{
	struct fuzz_source *source = context;
	unsigned int i;

	for (i = 0; i < idle_settings_count() && i < MAX_KEYS; i++) {
		if (strcmp(idle_settings_key(i), key) == 0) {
			source->lookups++;
			return source->values[i];
		}
	}
	fail("lookup of a key that is not in the table");
	return NULL;
}

static void check_error_text(const char *error, size_t size)
{
	size_t len = strnlen(error, size);
	unsigned int i;
	int names_key = 0;

	if (len == size)
		fail("error text is not NUL-terminated within its buffer");
	if (size > 1 && len == 0)
		fail("empty error text");
	for (i = 0; i < len; i++) {
		if ((unsigned char)error[i] < 0x20 ||
		    (unsigned char)error[i] >= 0x7f)
			fail("error text is not one printable line");
	}
	for (i = 0; i < idle_settings_count(); i++) {
		const char *key = idle_settings_key(i);

		if (strncmp(error, key, len < strlen(key) ? len :
			    strlen(key)) == 0)
			names_key = 1;
	}
	if (!names_key)
		fail("error text does not start with the key");
}

/* a field that one value alone sets must read the same with all of them */
#define check_field(field) \
	if (one.field != defaults.field && one.field != set.field) \
		fail("a value reads differently alone: " #field)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_source source;
	struct idle_settings set, defaults;
	char *copy, *p, *end;
	char error[512];
	size_t error_size;
	unsigned int i, count = idle_settings_count();
	int ret;

	if (size < 1 || count > MAX_KEYS)
		return 0;
	/* byte 0 picks the error buffer size: full, or tiny for truncation */
	error_size = data[0] < 0x80 ? sizeof(error) :
		(size_t)(data[0] & 15) + 1;
	data++;
	size--;

	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	memset(&source, 0, sizeof(source));
	p = copy;
	end = copy + size;
	for (i = 0; i < count; i++) {
		if (p > end)
			source.values[i] = NULL;
		else {
			source.values[i] = strcmp(p, "\x01") == 0 ? NULL : p;
			p += strlen(p) + 1;
		}
	}

	memset(&set, 0xa5, sizeof(set));
	memset(error, 0x5a, sizeof(error));
	ret = idle_settings_parse(&set, fuzz_lookup, &source,
				  error, error_size);
	idle_settings_defaults(&defaults);
	if (source.lookups > count)
		fail("a key was looked up twice");
	if (ret == -1) {
		if (memcmp(&set, &defaults, sizeof(set)) != 0)
			fail("error, but the settings are not the defaults");
		check_error_text(error, error_size);
	} else if (ret == 0) {
		/* each field equals what its own parser makes of the value */
		struct idle_settings one;

		for (i = 0; i < count; i++) {
			const char *only[MAX_KEYS] = { NULL };
			struct fuzz_source single = { .lookups = 0 };

			only[i] = source.values[i];
			memcpy(single.values, only, sizeof(only));
			if (idle_settings_parse(&one, fuzz_lookup, &single,
						error, sizeof(error)) != 0)
				fail("a value accepted with others is "
				     "refused alone");
			check_field(notify_delay_msecs);
			check_field(poll_interval_msecs);
			check_field(done_sync);
			check_field(writer_wait_msecs);
			check_field(force_poll);
			check_field(yield_cpu);
		}
		if (set.notify_delay_msecs > 10000 ||
		    set.poll_interval_msecs < 100 ||
		    set.poll_interval_msecs > 3600000 ||
		    set.writer_wait_msecs < 1 ||
		    set.writer_wait_msecs > 10000)
			fail("a value outside its bounds was accepted");
	} else {
		fail("return value is neither 0 nor -1");
	}
	free(copy);
	return 0;
}

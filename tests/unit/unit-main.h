/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */
#ifndef UNIT_MAIN_H
#define UNIT_MAIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <CUnit/Basic.h>

/* The shared main() of the unit tests: one CUnit suite per test program,
   run verbose; the exit status is 0 only if every test passed, 1 if any
   assertion or test failed and 2 if CUnit itself failed. */

struct unit_test {
	const char *name;
	CU_TestFunc func;
};

#define UNIT_TEST(func) { #func, func }
#define UNIT_TEST_END { NULL, NULL }

#define N_ELEMENTS(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Records a CUnit assertion whose text is formatted like printf, so that a
   table-driven test can name the failing row.  CUnit copies the text. */
static inline void __attribute__((format(printf, 5, 6)))
unit_assert(bool cond, bool fatal, const char *file, unsigned int line,
	    const char *fmt, ...)
{
	char msg[1024];
	va_list args;

	if (cond) {
		CU_assertImplementation(CU_TRUE, line, "", file, "", CU_FALSE);
		return;
	}
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	CU_assertImplementation(CU_FALSE, line, msg, file, "",
				fatal ? CU_TRUE : CU_FALSE);
}

/* UNIT_CHECK(cond, "row %u: ...", ...) - a failed check continues the
   test; UNIT_CHECK_FATAL ends it. */
#define UNIT_CHECK(cond, ...) \
	unit_assert((cond), false, __FILE__, __LINE__, __VA_ARGS__)
#define UNIT_CHECK_FATAL(cond, ...) \
	unit_assert((cond), true, __FILE__, __LINE__, __VA_ARGS__)

static inline int unit_main(const char *suite_name,
			    const struct unit_test *tests)
{
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "%s: CUnit: %s\n", suite_name,
			CU_get_error_msg());
		return 2;
	}
	suite = CU_add_suite(suite_name, NULL, NULL);
	for (; suite != NULL && tests->name != NULL; tests++) {
		if (CU_add_test(suite, tests->name, tests->func) == NULL)
			break;
	}
	if (suite == NULL || tests->name != NULL) {
		fprintf(stderr, "%s: CUnit: %s\n", suite_name,
			CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		fprintf(stderr, "%s: CUnit: %s\n", suite_name,
			CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	failed = CU_get_number_of_failures() +
		CU_get_number_of_tests_failed() +
		CU_get_number_of_suites_failed() +
		CU_get_number_of_failure_records();
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}

#endif

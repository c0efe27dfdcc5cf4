/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP output shared by the VM test programs: one numbered "ok"/"not ok"
 * line per check, a bail-out for failures that end the program, and the
 * plan line with the exit status at the end.
 */
#ifndef TAP_H
#define TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int checks, failures;

/*
 * Records one check.  @saw_fmt describes what was observed and is printed
 * only when the check fails.
 */
static inline __attribute__((format(printf, 3, 4)))
bool check(bool ok, const char *what, const char *saw_fmt, ...)
{
	va_list ap;

	checks++;
	if (ok) {
		printf("ok %u - %s\n", checks, what);
		return true;
	}
	failures++;
	printf("not ok %u - %s (saw ", checks, what);
	va_start(ap, saw_fmt);
	vprintf(saw_fmt, ap);
	va_end(ap);
	printf(")\n");
	return false;
}

/*
 * Records one check described by a printf format, printed whether it passed
 * or not, for checks whose ok line reports what was seen too.  Flushes, so
 * that the line is out before a fork, a hang or a kill.
 */
static inline __attribute__((format(printf, 2, 3)))
bool checkf(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s %u - ", ok ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return ok;
}

/* Fails the next check with errno's text and bails out of the program. */
static inline __attribute__((noreturn)) void die(const char *what)
{
	printf("not ok %u - %s: %s\nBail out!\n", ++checks, what, strerror(errno));
	exit(1);
}

/* Prints the plan and a summary; returns the program's exit status. */
static inline int tap_done(void)
{
	printf("1..%u\n", checks);
	printf("# %u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}

#endif

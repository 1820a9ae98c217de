/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TAP output for the in-guest test tools: tap() prints one numbered
 * result, diag() a comment line.  Each tool includes this once.
 */
#ifndef VTDP_TAP_H
#define VTDP_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int test_no;	/* results printed so far */
static int failures;	/* of which "not ok" */

static void __attribute__((format(printf, 2, 3))) tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

static void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#endif /* VTDP_TAP_H */

/*
 * tap.h: the few TAP helpers rwbridge's unit tests use. Each check prints
 * "ok N - case" or "not ok N - case: got X, want Y" so a failure names the
 * case and the first differing value; tap_done prints the plan and returns
 * the exit status. Header-only so every test links just the module it tests.
 */
#ifndef RWBRIDGE_TAP_H
#define RWBRIDGE_TAP_H

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int
tap_okv(int cond, const char *why, const char *fmt, va_list ap)
{
	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	if (!cond) {
		tap_failed++;
		if (why != NULL)
			printf(": %s", why);
	}
	printf("\n");
	fflush(stdout);
	return (cond);
}

static inline int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = tap_okv(cond, NULL, fmt, ap);
	va_end(ap);
	return (r);
}

static inline int __attribute__((format(printf, 3, 4)))
is_int(long long got, long long want, const char *fmt, ...)
{
	char	why[128];
	va_list	ap;
	int	r;

	snprintf(why, sizeof why, "got %lld, want %lld", got, want);
	va_start(ap, fmt);
	r = tap_okv(got == want, why, fmt, ap);
	va_end(ap);
	return (r);
}

/* Compare doubles: equal, both NaN, or within tol (absolute). */
static inline int __attribute__((format(printf, 4, 5)))
is_double(double got, double want, double tol, const char *fmt, ...)
{
	char	why[128];
	va_list	ap;
	int	r, cond;

	if (isnan(want))
		cond = isnan(got);
	else if (isinf(want))
		cond = got == want;
	else
		cond = fabs(got - want) <= tol;
	snprintf(why, sizeof why, "got %.17g, want %.17g", got, want);
	va_start(ap, fmt);
	r = tap_okv(cond, why, fmt, ap);
	va_end(ap);
	return (r);
}

static inline int __attribute__((format(printf, 3, 4)))
is_str(const char *got, const char *want, const char *fmt, ...)
{
	char	why[512];
	va_list	ap;
	int	r, cond;

	cond = got != NULL && want != NULL ? strcmp(got, want) == 0 :
	    got == want;
	snprintf(why, sizeof why, "got \"%s\", want \"%s\"",
	    got ? got : "(null)", want ? want : "(null)");
	va_start(ap, fmt);
	r = tap_okv(cond, why, fmt, ap);
	va_end(ap);
	return (r);
}

/* Print the plan; the exit status is 0 only if every check passed. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return (tap_failed == 0 ? 0 : 1);
}

#endif

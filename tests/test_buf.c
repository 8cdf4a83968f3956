/*
 * Unit tests for buf: growth, reset, formatted appends, and buf_put_float
 * on a table of values, among them the ones beyond long long's range that
 * once were converted before their range was checked (undefined behaviour a
 * clang UBSan build aborts on: `m 1e19` in a push, the Go client's
 * process_virtual_memory_max_bytes 1.8446744073709552e+19).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "buf.h"
#include "promtext.h"
#include "tap.h"

/* buf_put_float: each value, its text, and that the text parses back. */
static void
test_put_float(void)
{
	static const struct {
		double		 v;
		const char	*want;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ -1, "-1" },
		{ 0.25, "0.25" },
		{ 42, "42" },
		{ 999999999999999, "999999999999999" },
		{ 1e15, "1000000000000000" },
		{ -1e15, "-1000000000000000" },
		{ 9.2233720368547758e18, "9.2233720368547758e+18" },
		{ -9.2233720368547758e18, "-9.2233720368547758e+18" },
		{ 1e19, "1e+19" },
		{ -1e19, "-1e+19" },
		{ 1.8446744073709552e+19, "1.8446744073709552e+19" },
		{ 1e300, "1.0000000000000001e+300" },
		{ DBL_MAX, "1.7976931348623157e+308" },
		{ -DBL_MAX, "-1.7976931348623157e+308" },
		{ DBL_MIN, "2.2250738585072014e-308" },
		{ 5e-324, "4.9406564584124654e-324" },
		{ 0.1, "0.10000000000000001" },
	};
	struct buf	b;
	double		back;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_reset(&b);
		buf_put_float(&b, cases[i].v);
		buf_putc(&b, '\0');
		is_str((char *)b.data, cases[i].want, "put_float %.17g",
		    cases[i].v);
		ok(pt_parse_float((char *)b.data, b.len - 1, &back) &&
		    back == cases[i].v, "put_float %.17g parses back",
		    cases[i].v);
	}
	buf_reset(&b);
	buf_put_float(&b, NAN);
	buf_put_float(&b, -NAN);
	buf_put_float(&b, INFINITY);
	buf_put_float(&b, -INFINITY);
	buf_putc(&b, '\0');
	is_str((char *)b.data, "NaNNaN+Inf-Inf", "put_float NaN, -NaN, +Inf, "
	    "-Inf");
	buf_free(&b);
}

int
main(void)
{
	struct buf	b;
	size_t		i;
	int		same = 1;

	buf_init(&b);
	for (i = 0; i < 10000; i++)
		buf_putc(&b, (uint8_t)(i & 0xff));
	is_int((long long)b.len, 10000, "putc grows to 10000 bytes");
	for (i = 0; i < 10000; i++)
		if (b.data[i] != (uint8_t)(i & 0xff))
			same = 0;
	ok(same, "putc keeps every byte");
	buf_reset(&b);
	is_int((long long)b.len, 0, "reset empties");
	ok(b.cap >= 10000, "reset keeps the memory");
	buf_printf(&b, "%s=%d", "x", 42);
	buf_putc(&b, '\0');
	is_str((char *)b.data, "x=42", "printf appends");
	buf_free(&b);
	is_int((long long)b.cap, 0, "free releases");
	test_put_float();
	return (tap_done());
}

/* Unit tests for buf: growth, reset, formatted appends. */
#include <stdlib.h>

#include "buf.h"
#include "tap.h"

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
	return (tap_done());
}

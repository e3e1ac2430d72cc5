/* SPDX-License-Identifier: MIT */
/* kernel/symbols.c: lookups in llvm-nm text, including junk lines. */
#include "htest.h"

#include <string.h>

#include "../../kernel/symbols.c"

static const char table[] =
	"ffffffff80100000 T _start\n"
	"ffffffff80100040 t local_fn\n"
	"ffffffff80100100 D some_data\n"
	"garbage line\n"
	"ffffffff80100200 T kmain\n"
	"ffffffff80100300 T last";	/* no final newline */

HTEST(finds_enclosing_function)
{
	char name[32];
	uint64_t off;

	symbols_init(table, sizeof(table) - 1);
	HCHECK_EQ(symbols_lookup(0xffffffff80100050, name, sizeof(name), &off), 0);
	HCHECK(strcmp(name, "local_fn") == 0);
	HCHECK_EQ(off, 0x10);
	HCHECK_EQ(symbols_lookup(0xffffffff80100180, name, sizeof(name), &off), 0);
	HCHECK(strcmp(name, "local_fn") == 0);	/* data symbols are skipped */
	HCHECK_EQ(symbols_lookup(0xffffffff80100310, name, sizeof(name), &off), 0);
	HCHECK(strcmp(name, "last") == 0);
}

HTEST(below_first_symbol_is_unknown)
{
	char name[32];
	uint64_t off;

	symbols_init(table, sizeof(table) - 1);
	HCHECK_EQ(symbols_lookup(0x1000, name, sizeof(name), &off), -1);
}

HTEST(small_buffer_truncates)
{
	char name[4];
	uint64_t off;

	symbols_init(table, sizeof(table) - 1);
	HCHECK_EQ(symbols_lookup(0xffffffff80100210, name, sizeof(name), &off), 0);
	HCHECK(strcmp(name, "kma") == 0);
}

HTEST(no_table_is_unknown)
{
	char name[8];
	uint64_t off;

	symbols_init(NULL, 0);
	HCHECK_EQ(symbols_lookup(0xffffffff80100210, name, sizeof(name), &off), -1);
}

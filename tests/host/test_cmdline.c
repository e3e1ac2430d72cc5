/* SPDX-License-Identifier: MIT */
/* kernel/cmdline.c: splitting, lookup, numbers, unknown options, limits. */
#include "htest.h"
#include "lib_string_shim.h"

#include "../../kernel/cmdline.c"

static int unknown_count;
static const char *last_unknown;

static void count_unknown(const char *key)
{
	unknown_count++;
	last_unknown = key;
}

HTEST(splits_keys_and_values)
{
	struct cmdline cl;

	cmdline_parse(&cl, "  loglevel=3 test=all\tquiet  a=b=c ");
	HCHECK_EQ(cl.count, 4);
	HCHECK(strcmp(cmdline_lookup(&cl, "loglevel"), "3") == 0);
	HCHECK(strcmp(cmdline_lookup(&cl, "test"), "all") == 0);
	HCHECK(strcmp(cmdline_lookup(&cl, "quiet"), "") == 0);
	HCHECK(strcmp(cmdline_lookup(&cl, "a"), "b=c") == 0);
	HCHECK(cmdline_lookup(&cl, "missing") == NULL);
}

HTEST(last_occurrence_wins)
{
	struct cmdline cl;

	cmdline_parse(&cl, "loglevel=1 loglevel=2");
	HCHECK(strcmp(cmdline_lookup(&cl, "loglevel"), "2") == 0);
}

HTEST(empty_and_null)
{
	struct cmdline cl;

	cmdline_parse(&cl, NULL);
	HCHECK_EQ(cl.count, 0);
	cmdline_parse(&cl, "");
	HCHECK_EQ(cl.count, 0);
	cmdline_parse(&cl, "   ");
	HCHECK_EQ(cl.count, 0);
}

HTEST(too_many_options_are_counted_not_stored)
{
	char text[CMDLINE_MAX];
	struct cmdline cl;
	size_t n = 0;

	for (int i = 0; i < CMDLINE_MAX_OPTIONS + 5; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "k%d ", i);
	cmdline_parse(&cl, text);
	HCHECK_EQ(cl.count, CMDLINE_MAX_OPTIONS);
	HCHECK_EQ(cl.dropped, 5);
}

HTEST(overlong_line_is_truncated)
{
	char text[CMDLINE_MAX * 2];
	struct cmdline cl;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	cmdline_parse(&cl, text);
	HCHECK(cl.truncated);
	HCHECK_EQ(cl.count, 1);
	HCHECK_EQ(strlen(cl.opt[0].key), CMDLINE_MAX - 1);
}

HTEST(unknown_options_reported)
{
	struct cmdline cl;

	cmdline_parse(&cl, "loglevel=2 bogus=1 test=all");
	unknown_count = 0;
	cmdline_check_known(&cl, count_unknown);
	HCHECK_EQ(unknown_count, 1);
	HCHECK(strcmp(last_unknown, "bogus") == 0);
}

HTEST(boot_numbers)
{
	cmdline_set_boot("loglevel=3 hex=0x10 bad=12abc");
	HCHECK_EQ(cmdline_get_u64("loglevel", 9), 3);
	HCHECK_EQ(cmdline_get_u64("hex", 9), 16);
	HCHECK_EQ(cmdline_get_u64("bad", 9), 9);
	HCHECK_EQ(cmdline_get_u64("absent", 7), 7);
	HCHECK(cmdline_is("loglevel", "3"));
	HCHECK(!cmdline_is("loglevel", "2"));
}

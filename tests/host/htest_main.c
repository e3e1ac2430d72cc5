/* SPDX-License-Identifier: MIT */
#include "htest.h"

#include <string.h>

static struct htest_case *cases, **cases_tail = &cases;
static int current_failed;

/* Constructors run in link order; keeping a tail pointer keeps file order. */
void htest_register(struct htest_case *c)
{
	*cases_tail = c;
	cases_tail = &c->next;
}

void htest_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, expr);
	current_failed = 1;
}

int main(int argc, char **argv)
{
	const char *prog = argc > 0 ? strrchr(argv[0], '/') : 0;
	int failed = 0;

	prog = prog ? prog + 1 : (argc > 0 ? argv[0] : "host");
	for (struct htest_case *c = cases; c; c = c->next) {
		current_failed = 0;
		c->fn();
		printf("test host/%s/%s: %s\n", prog, c->name,
		       current_failed ? "FAILED" : "OK");
		fflush(stdout);
		failed += current_failed;
	}
	return failed ? 1 : 0;
}

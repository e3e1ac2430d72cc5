// SPDX-License-Identifier: MIT
/*
 * hello: the example program of docs/PROGRAMS.md, shipped in the disk's
 * /bin.  It says where it runs from and what it was given, and exits with
 * the status its first argument names.
 *
 *   hello [-w SECONDS] [STATUS [WORDS...]]
 *
 * -w waits that long before it exits: run two with `&` and compare their
 * `mem PID` in the shell.
 *
 * Run from the disk, nothing of it is loaded before it runs: its text and
 * read-only data are paged in from /bin/hello as they are touched (shared
 * with every other instance), and `greeting`, in its writable data, is
 * copied for this instance alone when it is written.
 */
#include <ferry/sys.h>
#include <proc.h>
#include <stdio.h>
#include <string.h>

/* In .data: read from the file, this instance's own copy once written. */
static char greeting[32] = "hello";

static int usage(void)
{
	printf("usage: hello [-w SECONDS] [STATUS [WORDS...]]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct proc_info self;
	uint64_t status = 0, wait = 0;
	int first = 1;

	if (argc > 2 && !strcmp(argv[1], "-w")) {
		if (str_to_u64(argv[2], 10, &wait, NULL) < 0)
			return usage();
		first = 3;
	}
	if (argc > first && str_to_u64(argv[first], 10, &status, NULL) < 0)
		return usage();
	strlcpy(greeting + strlen(greeting), ", world", sizeof(greeting) - strlen(greeting));
	if (proc_find(proc_pid(), &self) == 0)
		printf("%s from %s (pid %ld)\n", greeting,
		       self.image[0] ? self.image : "a boot module", proc_pid());
	for (int i = first + 1; i < argc; i++)
		printf("  word %d: %s\n", i - first, argv[i]);
	if (wait)
		sys_sleep((long)wait * SEC_NS);
	return (int)status;
}

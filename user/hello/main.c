// SPDX-License-Identifier: MIT
/*
 * hello: the example program of docs/PROGRAMS.md, shipped in the disk's
 * /bin.  It says where it runs from and what it was given, and exits with
 * the status its first argument names.
 *
 *   hello [STATUS [WORDS...]]
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

int main(int argc, char **argv)
{
	struct proc_info self;
	uint64_t status = 0;

	if (argc > 1 && str_to_u64(argv[1], 10, &status, NULL) < 0) {
		printf("usage: hello [STATUS [WORDS...]]\n");
		return 2;
	}
	strlcpy(greeting + strlen(greeting), ", world", sizeof(greeting) - strlen(greeting));
	if (proc_find(proc_pid(), &self) == 0)
		printf("%s from %s (pid %ld)\n", greeting,
		       self.image[0] ? self.image : "a boot module", proc_pid());
	for (int i = 2; i < argc; i++)
		printf("  word %d: %s\n", i - 1, argv[i]);
	return (int)status;
}

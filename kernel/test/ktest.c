// SPDX-License-Identifier: MIT
#include "ktest.h"

#include <string.h>

#include "../arch/arch.h"
#include "../debug/kdb.h"
#include "../mm/heap.h"
#include "../mm/pmm.h"

#define QEMU_EXIT_PASS	0x10	/* host sees 33 */
#define QEMU_EXIT_FAIL	0x11	/* host sees 35, like a panic */

extern const struct ktest __ktest_start[], __ktest_end[];

/* A fault with a recognisable function in the backtrace, for test=panic. */
__attribute__((noinline)) static void ktest_deliberate_fault(void)
{
	volatile uint64_t *bad = (volatile uint64_t *)0xdead000UL;

	log_info("ktest: writing to unmapped address %p on purpose", (void *)bad);
	*bad = 0x5a5a;
}

static int run_one(const struct ktest *t)
{
	int failed = t->fn() != 0;

	kprintf("test kernel/%s: %s\n", t->name, failed ? "FAILED" : "OK");
	return failed;
}

/*
 * Frames that are free, or held by the heap as spare core, are "available":
 * the heap keeps core it grew, which is not a leak.
 */
static size_t available_frames(void)
{
	struct pmm_stats s;

	pmm_get_stats(&s);
	return s.count[FRAME_FREE] + s.count[FRAME_HEAP] + s.count[FRAME_ZEROED];
}

/* xv6's countfree(): the suite must give back every frame and heap byte. */
static int leak_check(size_t free_before, size_t heap_before)
{
	size_t free_after = available_frames(), heap_after = heap_bytes_in_use();
	int failed = free_after != free_before || heap_after != heap_before;

	if (failed)
		log_err("leak check: available frames %zu -> %zu, heap bytes %zu -> %zu", free_before,
			free_after, heap_before, heap_after);
	kprintf("test kernel/leak_check: %s\n", failed ? "FAILED" : "OK");
	return failed;
}

_Noreturn void ktest_run(const char *which)
{
	size_t free_before = available_frames(), heap_before = heap_bytes_in_use();
	int ran = 0, failed = 0;

	if (strcmp(which, "panic") == 0) {
		ktest_deliberate_fault();
		kprintf("ktest: the deliberate fault did not fault\n");
		arch_qemu_exit(QEMU_EXIT_FAIL);
	}
	for (const struct ktest *t = __ktest_start; t < __ktest_end; t++) {
		if (strcmp(which, "all") != 0 && strcmp(which, t->name) != 0)
			continue;
		failed += run_one(t);
		ran++;
	}
	if (ran == 0) {
		log_err("ktest: no test named '%s'", which);
		arch_qemu_exit(QEMU_EXIT_FAIL);
	}
	failed += leak_check(free_before, heap_before);
	kdb_run_line("check");
	kprintf("ktest: finished, %d run, %d failed\n", ran + 1, failed);
	arch_qemu_exit(failed ? QEMU_EXIT_FAIL : QEMU_EXIT_PASS);
}

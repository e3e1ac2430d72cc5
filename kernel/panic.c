// SPDX-License-Identifier: MIT
#include "panic.h"

#include <stdarg.h>

#include "arch/arch.h"
#include "cmdline.h"
#include "debug/kdb.h"
#include "log.h"
#include "smp.h"
#include "symbols.h"

#define BACKTRACE_MAX	32
#define QEMU_EXIT_PANIC	0x11	/* host sees (0x11 << 1) | 1 = 35 */

static int panicking;

/*
 * The other CPUs stop first (a second CPU panicking meanwhile parks until
 * this report is done), so the report is one piece and nothing moves
 * under it; one that does not stop within a second is named.
 */
void panic_begin(void)
{
	uint64_t missing;

	arch_irq_save();
	missing = smp_stop_others();
	if (panicking++) {
		/* A panic while reporting a panic: say so once, and stop. */
		kprintf("\nPANIC: recursive panic, stopping\n");
		panic_finish();
	}
	kprintf("\n==================== PANIC ====================\n");
	kprintf("on cpu %u", this_cpu()->id);
	for (unsigned i = 0; i < cpu_count; i++)
		if (missing & cpu_bit(i))
			kprintf(" (cpu %u did not stop)", i);
	kprintf("\n");
}

static void print_frame(int i, uint64_t pc)
{
	char name[64];
	uint64_t off;

	if (symbols_lookup(pc, name, sizeof(name), &off) == 0)
		kprintf("  #%-2d 0x%016lx %s+0x%lx\n", i, (unsigned long)pc, name,
			(unsigned long)off);
	else
		kprintf("  #%-2d 0x%016lx ?\n", i, (unsigned long)pc);
}

void panic_backtrace(uint64_t pc, uint64_t fp)
{
	uint64_t pcs[BACKTRACE_MAX];
	int n = arch_backtrace(fp, pcs, BACKTRACE_MAX);

	int first = pc ? 1 : 0;

	kprintf("backtrace:\n");
	if (pc)
		print_frame(0, pc);	/* the faulting instruction itself */
	for (int i = 0; i < n; i++)
		print_frame(i + first, pcs[i] - 1);	/* -1: the call, not the return */
}

_Noreturn void panic_finish(void)
{
	kprintf("==================== END PANIC ================\n");
	if (cmdline_is("panic", "exit"))
		arch_qemu_exit(QEMU_EXIT_PANIC);
	if (cmdline_is("panic", "halt"))
		arch_halt_forever();
	kdb_enter_panic();	/* the default: look around before rebooting */
}

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	panic_begin();
	kprintf("PANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	panic_backtrace(0, (uint64_t)__builtin_frame_address(0));
	panic_finish();
}

// SPDX-License-Identifier: MIT
/*
 * trap_dispatch: where every exception and interrupt lands (entry.S).
 * Hardware interrupts are acknowledged here; exceptions in the kernel are
 * bugs and end in a panic report.
 */
#include "trap.h"

#include "../../clock.h"
#include "../../log.h"
#include "../../panic.h"
#include "cpu.h"

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 FP error", "alignment check", "machine check",
	"SIMD FP error", "virtualization", "control protection", "reserved", "reserved",
	"reserved", "reserved", "reserved", "reserved", "hypervisor injection",
	"VMM communication", "security", "reserved",
};

const char *trap_vector_name(uint64_t vector)
{
	if (vector < 32)
		return exception_names[vector];
	if (vector < VEC_IRQ_BASE + NUM_IRQS)
		return "IRQ";
	return "unexpected vector";
}

void trap_dump_frame(const struct trap_frame *tf)
{
	kprintf("rip %016lx  rsp %016lx  rflags %016lx\n", tf->rip, tf->rsp, tf->rflags);
	kprintf("rax %016lx  rbx %016lx  rcx %016lx\n", tf->rax, tf->rbx, tf->rcx);
	kprintf("rdx %016lx  rsi %016lx  rdi %016lx\n", tf->rdx, tf->rsi, tf->rdi);
	kprintf("rbp %016lx  r8  %016lx  r9  %016lx\n", tf->rbp, tf->r8, tf->r9);
	kprintf("r10 %016lx  r11 %016lx  r12 %016lx\n", tf->r10, tf->r11, tf->r12);
	kprintf("r13 %016lx  r14 %016lx  r15 %016lx\n", tf->r13, tf->r14, tf->r15);
	kprintf("cs %04lx  ss %04lx  cr2 %016lx  cr3 %016lx\n", tf->cs, tf->ss, read_cr2(),
		read_cr3());
}

static void describe_page_fault(uint64_t err)
{
	kprintf("page fault: %s %s in %s mode%s\n",
		err & PF_INSTR ? "instruction fetch" : (err & PF_WRITE ? "write" : "read"),
		err & PF_PRESENT ? "violating protection" : "of a non-present page",
		err & PF_USER ? "user" : "kernel", err & PF_RSVD ? ", reserved bit set" : "");
}

_Noreturn static void panic_trap(const struct trap_frame *tf)
{
	panic_begin();
	kprintf("PANIC: %s (vector %lu) error code %#lx cr2 %#lx\n",
		trap_vector_name(tf->vector), tf->vector, tf->error, read_cr2());
	if (tf->vector == VEC_PAGE_FAULT)
		describe_page_fault(tf->error);
	trap_dump_frame(tf);
	panic_backtrace(tf->rip, tf->rbp);
	panic_finish();
}

static void handle_irq(unsigned irq)
{
	if (irq == 0)
		clock_tick();
	pic_eoi(irq);
}

void trap_dispatch(struct trap_frame *tf)
{
	if (tf->vector >= VEC_IRQ_BASE && tf->vector < VEC_IRQ_BASE + NUM_IRQS) {
		handle_irq((unsigned)(tf->vector - VEC_IRQ_BASE));
		return;
	}
	panic_trap(tf);
}

// SPDX-License-Identifier: MIT
/*
 * trap_dispatch: where every exception and interrupt lands (entry.S).
 * Hardware interrupts are acknowledged here; exceptions in the kernel are
 * bugs and end in a panic report.
 */
#include "trap.h"

#include <fmt.h>

#include "../../irq.h"
#include "../../mm/fault.h"
#include "../../log.h"
#include "../../panic.h"
#include "../../proc/proc.h"
#include "../../syscall.h"
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

/* An IRQ 7 or 15 that the PIC's in-service register does not show is spurious. */
static bool is_spurious(unsigned irq)
{
	uint8_t isr;

	if (irq != 7 && irq != 15)
		return false;
	outb(irq == 7 ? 0x20 : 0xA0, 0x0B);	/* OCW3: read ISR */
	isr = inb(irq == 7 ? 0x20 : 0xA0);
	if (isr & 0x80)
		return false;
	if (irq == 15)
		pic_eoi(7);	/* the master did see the cascade */
	return true;
}

/* Mask, then EOI, then handle: the generic code unmasks when it is ready. */
static void handle_irq(unsigned irq)
{
	if (is_spurious(irq))
		return;
	pic_mask(irq);
	pic_eoi(irq);
	irq_handle(irq);
}

static bool from_user(const struct trap_frame *tf)
{
	return (tf->cs & 3) == 3;
}

static void user_exception(struct trap_frame *tf)
{
	char reason[80];

	if (tf->vector == VEC_PAGE_FAULT) {
		vm_fault(read_cr2(), tf->error & PF_WRITE, tf->error & PF_INSTR, tf->rip, rdtsc());
		return;
	}
	snprintf(reason, sizeof(reason), "%s (vector %lu, error %#lx)",
		 trap_vector_name(tf->vector), tf->vector, tf->error);
	proc_fault(reason, tf->vector == 13 ? tf->error : 0, tf->rip);
}

void trap_dispatch(struct trap_frame *tf)
{
	if (tf->vector >= VEC_IRQ_BASE && tf->vector < VEC_IRQ_BASE + NUM_IRQS)
		handle_irq((unsigned)(tf->vector - VEC_IRQ_BASE));
	else if (from_user(tf) && tf->vector < 32)
		user_exception(tf);
	else
		panic_trap(tf);
	if (from_user(tf))
		sched_exit_to_user();
}

/* From syscall.S: arguments in the System V syscall registers. */
void syscall_from_user(struct trap_frame *tf);
void syscall_from_user(struct trap_frame *tf)
{
	const uint64_t args[6] = { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9 };

	tf->rax = (uint64_t)syscall_dispatch(tf->rax, args);
	sched_exit_to_user();
}

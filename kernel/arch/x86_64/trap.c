// SPDX-License-Identifier: MIT
/*
 * trap_dispatch: where every exception and interrupt lands (entry.S).
 * Hardware interrupts are acknowledged here; exceptions in the kernel are
 * bugs and end in a panic report.
 *
 * The kernel lock (lock.h): an entry from user mode takes it and the way
 * back releases it; an interrupt in kernel mode arrives only in the idle
 * loop's hlt, where the lock is free, and takes it for itself (or finds
 * it held by this CPU: a self-test waiting for ticks).  TLB and stop IPIs
 * never take it: they serve their request and return.
 */
#include "trap.h"

#include <fmt.h>

#include "../../irq.h"
#include "../../lock.h"
#include "../../smp.h"
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
	if (vector >= VEC_MSI_FIRST && vector <= VEC_MSI_LAST)
		return "message IRQ";
	if (vector == VEC_TIMER)
		return "local APIC timer";
	if (vector >= VEC_IPI_RESCHEDULE && vector <= VEC_IPI_WAKE)
		return "IPI";
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

/* Mask, then EOI, then handle: the generic code unmasks when it is ready. */
static void handle_irq(unsigned irq)
{
	if (!intr_apic_mode() && pic_spurious(irq))
		return;
	arch_irq_mask(irq);
	intr_eoi(irq);
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

/* The interrupts that need no kernel lock; => whether tf was one. */
static bool lockless(const struct trap_frame *tf)
{
	switch (tf->vector) {
	case VEC_IPI_TLB:
		lapic_eoi();
		smp_ipi_received(IPI_TLB);
		return true;
	case VEC_IPI_STOP:
		lapic_eoi();
		smp_ipi_received(IPI_STOP);
		return true;
	case VEC_IPI_WAKE:
		lapic_eoi();
		smp_ipi_received(IPI_WAKE);
		return true;
	case VEC_SPURIOUS:
		return true;	/* no EOI for the spurious vector */
	case VEC_IPI_RESCHEDULE:
		lapic_eoi();
		smp_ipi_received(IPI_RESCHEDULE);
		return !from_user(tf);	/* in hlt: the idle loop looks itself */
	default:
		return false;
	}
}

static bool is_device_irq(uint64_t v)
{
	return v >= VEC_IRQ_BASE && v < VEC_IRQ_BASE + NUM_IRQS;
}

/* MSI, MSI-X: an edge with nothing to mask; irq.c ignores a number no
 * route has (a device a dead driver left programmed). */
static bool is_message_irq(uint64_t v)
{
	return v >= VEC_MSI_FIRST && v <= VEC_MSI_LAST;
}

/* Kernel-mode exceptions and vectors nobody programmed: a report, not a lock wait. */
static bool expected(const struct trap_frame *tf)
{
	uint64_t v = tf->vector;

	if (v < 32)
		return from_user(tf);
	return is_device_irq(v) || is_message_irq(v) || v == VEC_TIMER || v == VEC_APIC_ERROR ||
	       v == VEC_IPI_RESCHEDULE;
}

/* A reschedule IPI needs nothing here: sched_exit_to_user() looks. */
static void handle_locked(struct trap_frame *tf)
{
	if (is_device_irq(tf->vector)) {
		handle_irq((unsigned)(tf->vector - VEC_IRQ_BASE));
	} else if (is_message_irq(tf->vector)) {
		lapic_eoi();
		irq_handle((unsigned)(tf->vector - VEC_IRQ_BASE));
	} else if (tf->vector == VEC_TIMER) {
		lapic_eoi();
		irq_tick();
	} else if (tf->vector == VEC_APIC_ERROR) {
		lapic_error();
	} else if (tf->vector < 32) {
		user_exception(tf);
	}
}

void trap_dispatch(struct trap_frame *tf)
{
	bool user = from_user(tf), took;

	if (lockless(tf))
		return;
	if (!expected(tf))
		panic_trap(tf);
	took = !kernel_lock_held();
	if (took)
		kernel_lock();
	handle_locked(tf);
	if (user)
		sched_exit_to_user();
	if (took)
		kernel_unlock();
}

/* From syscall.S: arguments in the System V syscall registers. */
void syscall_from_user(struct trap_frame *tf);
void syscall_from_user(struct trap_frame *tf)
{
	const uint64_t args[6] = { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9 };

	kernel_lock();
	tf->rax = (uint64_t)syscall_dispatch(tf->rax, args);
	sched_exit_to_user();
	kernel_unlock();
}

/* SPDX-License-Identifier: MIT */
/* The register frame built by entry.S for every exception and interrupt. */
#ifndef X86_64_TRAP_H
#define X86_64_TRAP_H

#include <stdbool.h>
#include <stdint.h>

#include "memlayout.h"

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	/* pushed by the CPU */
	uint64_t rip, cs, rflags, rsp, ss;
};

/* entry.S pushes exactly these 15 registers before vector and error. */
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "entry.S frame layout");
_Static_assert(sizeof(struct trap_frame) == ARCH_USER_FRAME_SIZE, "memlayout.h");

#define VEC_SYSCALL	0x100	/* not a CPU vector: marks syscall frames */

/*
 * The vector map.  Device IRQ n (ISA line n: the configuration's irq=N)
 * arrives at VEC_IRQ_BASE + n, through the 8259s or the I/O APIC alike.
 * Message-signalled IRQs (kernel/msi.h: MSI-X, MSI, the IOMMU's fault
 * event) follow: Ferry IRQ n >= NUM_IRQS arrives at VEC_IRQ_BASE + n,
 * within VEC_MSI_FIRST..VEC_MSI_LAST (the address names the CPU).  The local APIC's
 * own interrupts sit at the top, where its priority classes are highest.
 */
#define VEC_PAGE_FAULT		14
#define VEC_IRQ_BASE		32
#define NUM_IRQS		16
#define VEC_MSI_FIRST		48
#define VEC_MSI_LAST		0xDF
#define VEC_TIMER		0xEF	/* each CPU's local APIC timer */
#define VEC_IPI_RESCHEDULE	0xF0
#define VEC_IPI_TLB		0xF1
#define VEC_IPI_STOP		0xF2
#define VEC_IPI_WAKE		0xF3
#define VEC_APIC_ERROR		0xFE
#define VEC_SPURIOUS		0xFF

#define PF_PRESENT	(1u << 0)
#define PF_WRITE	(1u << 1)
#define PF_USER		(1u << 2)
#define PF_RSVD		(1u << 3)
#define PF_INSTR	(1u << 4)

void trap_dispatch(struct trap_frame *tf);
void trap_dump_frame(const struct trap_frame *tf);
const char *trap_vector_name(uint64_t vector);

/* The 8259 pair (pic.c): the fallback with one CPU, otherwise all masked. */
void pic_init(void);
void pic_eoi(unsigned irq);
void pic_mask(unsigned irq);
void pic_unmask(unsigned irq);
void pic_mask_all(void);
bool pic_spurious(unsigned irq);

/* Time (timer.c): TSC calibrated on PIT channel 2; the PIT's tick with the PIC. */
void timer_calibrate_tsc(void);
void timer_pit_start(void);

/* The local APIC (lapic.c). */
struct madt_info;
bool lapic_map(uint64_t phys);
void lapic_init_cpu(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
void lapic_calibrate_timer(void);
void lapic_timer_start(void);
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_init(uint32_t apic_id);
void lapic_send_startup(uint32_t apic_id, uint8_t page);
uint32_t lapic_timer_count(void);
void lapic_error(void);
void lapic_set_priority(uint32_t tpr);

/* The I/O APICs (ioapic.c): ISA IRQs to the boot CPU. */
bool ioapic_init(const struct madt_info *m, uint32_t dest_apic_id, const char **why);
void ioapic_mask(unsigned irq);
void ioapic_unmask(unsigned irq);
bool ioapic_routed(unsigned irq, uint32_t *gsi);

/* Which controller delivers (intr.c). */
bool intr_apic_mode(void);
void intr_eoi(unsigned irq);
const struct madt_info *intr_madt(void);	/* NULL with the 8259s */

/* Descriptor tables (gdt.c, idt.c). */
void gdt_init(void);
void idt_init(void);
void idt_load(void);
void tss_set_kernel_stack(uint64_t rsp0);
void syscall_msrs_init(void);

#define GDT_KERNEL_CODE	0x08
#define GDT_KERNEL_DATA	0x10
#define GDT_USER_DATA	0x20	/* sysret: STAR[63:48] + 8, RPL 3 */
#define GDT_USER_CODE	0x28	/* sysret: STAR[63:48] + 16, RPL 3 */
#define GDT_TSS		0x30

#endif

/* SPDX-License-Identifier: MIT */
/* The register frame built by entry.S for every exception and interrupt. */
#ifndef X86_64_TRAP_H
#define X86_64_TRAP_H

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

#define VEC_PAGE_FAULT	14
#define VEC_IRQ_BASE	32
#define NUM_IRQS	16

#define PF_PRESENT	(1u << 0)
#define PF_WRITE	(1u << 1)
#define PF_USER		(1u << 2)
#define PF_RSVD		(1u << 3)
#define PF_INSTR	(1u << 4)

void trap_dispatch(struct trap_frame *tf);
void trap_dump_frame(const struct trap_frame *tf);
const char *trap_vector_name(uint64_t vector);

/* Interrupt controller (pic.c) and timer (timer.c). */
void pic_init(void);
void pic_eoi(unsigned irq);
void pic_mask(unsigned irq);
void pic_unmask(unsigned irq);
void timer_init(void);

/* Descriptor tables (gdt.c, idt.c). */
void gdt_init(void);
void idt_init(void);
void tss_set_kernel_stack(uint64_t rsp0);

#define GDT_KERNEL_CODE	0x08
#define GDT_KERNEL_DATA	0x10
#define GDT_USER_DATA	0x20	/* sysret: STAR[63:48] + 8, RPL 3 */
#define GDT_USER_CODE	0x28	/* sysret: STAR[63:48] + 16, RPL 3 */
#define GDT_TSS		0x30

#endif

// SPDX-License-Identifier: MIT
/* IDT: all 256 vectors point at the stubs in entry.S (16 bytes apart); one for all CPUs. */
#include <stdint.h>

#include "trap.h"

struct idt_entry {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_entry) == 16, "IDT entry layout");

#define IDT_INTERRUPT_GATE	0x8E	/* present, DPL 0, interrupts off on entry */
#define VEC_DOUBLE_FAULT	8
#define VECTOR_STUB_SIZE	16

extern char trap_vectors_start[];
static struct idt_entry idt[256] __attribute__((aligned(16)));

static void idt_set(unsigned vec, uint64_t handler, uint8_t ist)
{
	idt[vec] = (struct idt_entry){
		.offset_low = handler & 0xFFFF,
		.selector = GDT_KERNEL_CODE,
		.ist = ist,
		.type_attr = IDT_INTERRUPT_GATE,
		.offset_mid = (handler >> 16) & 0xFFFF,
		.offset_high = handler >> 32,
	};
}

/* Built once by the boot CPU; every CPU loads the same table. */
void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		idt_set(v, (uint64_t)trap_vectors_start + v * VECTOR_STUB_SIZE,
			v == VEC_DOUBLE_FAULT ? 1 : 0);
	idt_load();
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) p = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(p));
}

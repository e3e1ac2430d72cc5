// SPDX-License-Identifier: MIT
/*
 * GDT and TSS.  Long mode ignores segment bases and limits; the GDT exists
 * for the privilege levels and the TSS.  The selector order is fixed by
 * syscall/sysret: STAR loads kernel CS = 0x08, SS = 0x10, and sysret loads
 * user SS = STAR[63:48] + 8 and CS = STAR[63:48] + 16, so user data must sit
 * just below user code (trap.h).
 *
 * The TSS gives the CPU the stack to use when an interrupt arrives in user
 * mode (rsp0) and a separate, always-good stack for double faults (IST1),
 * so a kernel stack overflow still prints a panic report.  Every CPU has
 * its own GDT, TSS (with the I/O bitmap of the process it runs) and
 * double-fault stack; the IDT is shared.
 */
#include <stdint.h>
#include <string.h>

#include "../../config.h"
#include "../../cpu.h"
#include "../../panic.h"
#include "../arch.h"
#include "trap.h"

#define IO_PORTS	65536

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
	/* One bit per port, 1 = denied; the CPU reads a byte past the end. */
	uint8_t iomap[IO_PORTS / 8 + 1];
} __attribute__((packed));

_Static_assert(__builtin_offsetof(struct tss, iomap) == 104, "TSS layout");

/* One set per CPU: descriptors, a TSS with its own I/O bitmap (each CPU
 * runs its own process), and the double-fault stack. */
struct cpu_tables {
	uint64_t gdt[9] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
	uint8_t double_fault_stack[8192] __attribute__((aligned(16)));
	/* The ranges now open, so the next switch closes exactly those again. */
	struct ioport_range open_ranges[CONFIG_MAX_IORANGES];
	int nopen;
};

static struct cpu_tables tables[CPU_MAX];

static struct cpu_tables *mine(void)
{
	return &tables[this_cpu()->id];
}

struct descriptor_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void load_gdt(const uint64_t *gdt, size_t size)
{
	struct descriptor_ptr p = { (uint16_t)(size - 1), (uint64_t)gdt };

	/* Reload CS with a far return, then the data segments and the TSS. */
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(p), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS)
			 : "rax", "memory");
}

/* => the CPU's GS points at its struct cpu (this_cpu() works). */
void gdt_init(void)
{
	struct cpu_tables *t = mine();
	uint64_t *gdt = t->gdt;
	struct tss *tss = &t->tss;
	uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;

	gdt[0] = 0;
	gdt[1] = 0x00AF9A000000FFFF;	/* 0x08 kernel code, 64-bit */
	gdt[2] = 0x00CF92000000FFFF;	/* 0x10 kernel data */
	gdt[3] = 0;			/* 0x18 unused (32-bit user code) */
	gdt[4] = 0x00CFF2000000FFFF;	/* 0x20 user data, DPL 3 */
	gdt[5] = 0x00AFFA000000FFFF;	/* 0x28 user code, 64-bit, DPL 3 */
	/* 0x30: 16-byte available 64-bit TSS descriptor */
	gdt[6] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89UL << 40) |
		 (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	gdt[7] = base >> 32;
	gdt[8] = 0;

	memset(tss, 0, sizeof(*tss));
	tss->ist[0] = (uint64_t)(t->double_fault_stack + sizeof(t->double_fault_stack));
	tss->iomap_base = __builtin_offsetof(struct tss, iomap);
	memset(tss->iomap, 0xFF, sizeof(tss->iomap));	/* every port denied */
	t->nopen = 0;
	load_gdt(gdt, sizeof(t->gdt));
}

static void set_port_bit(struct tss *tss, uint32_t port, bool allow)
{
	if (allow)
		tss->iomap[port / 8] &= (uint8_t)~(1u << (port % 8));
	else
		tss->iomap[port / 8] |= (uint8_t)(1u << (port % 8));
}

/*
 * Bit by bit up to a byte boundary, whole bytes, then bit by bit again: a
 * driver's 256-port BAR is 32 byte stores, not 256 bit flips.  It runs
 * twice on every switch into and out of a process with ports (ata: 274
 * of them, about 3,500 instructions a request bit by bit).
 */
static void set_port_bits(struct tss *tss, const struct ioport_range *r, int n, bool allow)
{
	for (int i = 0; i < n; i++) {
		uint32_t port = r[i].first, last = r[i].last, bytes;

		KASSERT(port <= last);	/* config.c refuses a reversed range */
		for (; port <= last && port % 8; port++)
			set_port_bit(tss, port, allow);
		bytes = (last + 1 - port) / 8;	/* port <= last + 1 here */
		memset(&tss->iomap[port / 8], allow ? 0x00 : 0xFF, bytes);
		for (port += bytes * 8; port <= last; port++)
			set_port_bit(tss, port, allow);
	}
}

bool arch_io_allowed(uint16_t port)
{
	return !(mine()->tss.iomap[port / 8] & (1u << (port % 8)));
}

/* This CPU's bitmap: another CPU may be running a process with other ports. */
void arch_set_io_permissions(const struct ioport_range *r, int n)
{
	struct cpu_tables *t = mine();

	if (n == 0 && t->nopen == 0)
		return;		/* from a process without ports to another: most switches */
	set_port_bits(&t->tss, t->open_ranges, t->nopen, false);
	t->nopen = n < CONFIG_MAX_IORANGES ? n : CONFIG_MAX_IORANGES;
	for (int i = 0; i < t->nopen; i++)
		t->open_ranges[i] = r[i];
	set_port_bits(&t->tss, t->open_ranges, t->nopen, true);
}

void tss_set_kernel_stack(uint64_t rsp0)
{
	mine()->tss.rsp[0] = rsp0;
}

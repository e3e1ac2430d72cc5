// SPDX-License-Identifier: MIT
/*
 * Starting the other CPUs (the generic side is kernel/smp.c) and sending
 * them IPIs, through the local APIC.
 *
 * Start-up, one CPU at a time: the trampoline (trampoline.S) is copied to
 * AP_TRAMPOLINE_PHYS, its data block filled (boot tables, the CPU's
 * struct cpu, its stack); then INIT, 10 ms, a start-up IPI, 200 us and a
 * second one, as Intel's MP start-up algorithm says (a CPU already running
 * ignores the second).  The trampoline page must be usable RAM that
 * nothing of the boot loader's lies in; otherwise no CPU is started.
 */
#include <string.h>

#include "../../acpi/acpi.h"
#include "../../bootinfo.h"
#include "../../cpu.h"
#include "../../log.h"
#include "../../smp.h"
#include "../arch.h"
#include "cpu.h"
#include "trap.h"

extern char ap_trampoline[], ap_trampoline_data[], ap_trampoline_end[], ap_start64[];
extern char boot_pml4[];

struct trampoline_data {
	uint64_t boot_root;
	uint64_t stack;
	uint64_t cpu;
	uint64_t entry;
};

_Static_assert(sizeof(struct trampoline_data) == 32 &&
		       __builtin_offsetof(struct trampoline_data, entry) == 24,
	       "trampoline.S: tramp_boot_cr3, tramp_stack, tramp_cpu, tramp_entry");

uint64_t ap_kernel_root;	/* ap_start64 loads it */
void ap_entry(struct cpu *c);

static const uint8_t ipi_vectors[IPI_NKINDS] = {
	[IPI_RESCHEDULE] = VEC_IPI_RESCHEDULE,
	[IPI_TLB] = VEC_IPI_TLB,
	[IPI_STOP] = VEC_IPI_STOP,
	[IPI_WAKE] = VEC_IPI_WAKE,
};

/* TPR class 0xE: the tick (0xEF) and device IRQs wait; IPIs (0xF0..) pass. */
#define TPR_IPIS_ONLY	0xE0

void arch_wait_for_ipi(void)
{
	if (!intr_apic_mode()) {
		arch_cpu_relax();
		return;
	}
	lapic_set_priority(TPR_IPIS_ONLY);
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	lapic_set_priority(0);
}

unsigned arch_cpu_ids(uint32_t *ids, unsigned max)
{
	const struct madt_info *m = intr_madt();
	uint32_t self;
	unsigned n = 0;

	if (!m)
		return 0;
	self = lapic_id();
	for (int i = 0; i < m->ncpus && n < max; i++)
		if (m->cpu_apic_id[i] != self)
			ids[n++] = m->cpu_apic_id[i];
	return n;
}

uint32_t arch_cpu_hw_id(void)
{
	return intr_apic_mode() ? lapic_id() : 0;
}

void arch_cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

void arch_send_ipi(const struct cpu *c, enum ipi_kind kind)
{
	lapic_send_ipi(c->apic_id, ipi_vectors[kind]);
}

static void delay_us(uint64_t us)
{
	uint64_t until = rdtsc() + arch_cycles_per_sec() / 1000000 * us;

	while (rdtsc() < until)
		arch_cpu_relax();
}

/* => NULL if the trampoline page is free RAM, else why not. */
static const char *trampoline_refusal(void)
{
	const struct boot_info *bi = boot_info();
	uint64_t lo = AP_TRAMPOLINE_PHYS, hi = lo + PAGE_SIZE;
	bool usable = false;

	for (int i = 0; i < bi->nregions; i++)
		if (bi->region[i].type == BOOT_MEM_USABLE && bi->region[i].base <= lo &&
		    bi->region[i].base + bi->region[i].len >= hi)
			usable = true;
	if (!usable)
		return "is not usable RAM in the memory map";
	for (int i = 0; i < bi->nmodules; i++)
		if (bi->module[i].start < hi && lo < bi->module[i].end)
			return "holds a boot module";
	if (bi->info_start < hi && lo < bi->info_end)
		return "holds the boot information";
	if ((size_t)(ap_trampoline_end - ap_trampoline) > PAGE_SIZE)
		return "is smaller than the trampoline";
	return NULL;
}

bool arch_start_cpu(struct cpu *c, uint64_t stack_top)
{
	static bool copied;
	struct trampoline_data *d;
	const char *why;

	if (!copied) {
		why = trampoline_refusal();
		if (why) {
			log_warn("smp: trampoline page %#x %s: no other CPU started",
				 AP_TRAMPOLINE_PHYS, why);
			return false;
		}
		memcpy(phys_to_virt(AP_TRAMPOLINE_PHYS), ap_trampoline,
		       (size_t)(ap_trampoline_end - ap_trampoline));
		ap_kernel_root = arch_kernel_root();
		copied = true;
	}
	d = phys_to_virt(AP_TRAMPOLINE_PHYS + (uint64_t)(ap_trampoline_data - ap_trampoline));
	*d = (struct trampoline_data){
		.boot_root = virt_to_phys(boot_pml4),
		.stack = stack_top,
		.cpu = (uint64_t)c,
		.entry = (uint64_t)ap_start64,
	};
	lapic_send_init(c->apic_id);
	delay_us(10000);
	lapic_send_startup(c->apic_id, AP_TRAMPOLINE_PHYS >> 12);
	delay_us(200);
	lapic_send_startup(c->apic_id, AP_TRAMPOLINE_PHYS >> 12);
	return true;
}

void arch_stop_cpu(const struct cpu *c)
{
	lapic_send_init(c->apic_id);
}

/* A started CPU, on its idle stack with the kernel's tables (ap_start64). */
void ap_entry(struct cpu *c)
{
	arch_set_cpu_local(c);
	gdt_init();
	idt_load();
	syscall_msrs_init();
	lapic_init_cpu();
	lapic_timer_start();
	smp_ap_main();
}

// SPDX-License-Identifier: MIT
/* kdb: the machine: ACPI tables as the firmware described them, PCI
 * functions, and the CPUs. */
#include "../acpi/acpi.h"
#include "../clock.h"
#include "../lock.h"
#include "../mm/tlb.h"
#include "../pci.h"
#include "../proc/proc.h"
#include "../smp.h"
#include "kdb_cmd.h"

static bool cmd_acpi(int argc, char **argv)
{
	struct acpi_table_view v;
	int i;

	(void)argc;
	(void)argv;
	if (!acpi_present()) {
		kdb_printf("no ACPI tables (see the boot log for why)\n");
		return true;
	}
	kdb_printf("%-4s %-18s %8s  %s\n", "SIG", "ADDRESS", "LENGTH", "STATE");
	for (i = 0; acpi_table_view(i, &v); i++)
		kdb_printf("%-4s %#018lx %8u  %s\n", v.signature[0] ? v.signature : "????",
			   (unsigned long)v.address, v.length, v.problem ? v.problem : "ok");
	kdb_printf("tables: %d\n", i);
	return true;
}

static bool cmd_pci(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kdb_printf("%-8s %-9s %-8s %-4s %s\n", "BDF", "ID", "CLASS", "IRQ", "MEMORY BARS");
	for (int i = 0; i < pci_count(); i++) {
		const struct pci_function *f = pci_at(i);

		kdb_printf("%02x:%02x.%x  %04x:%04x %02x:%02x:%02x %-4d", f->bdf >> 8,
			   (f->bdf >> 3) & 31, f->bdf & 7, f->vendor, f->device, f->class,
			   f->subclass, f->progif, f->irq_line == 0xFF ? -1 : f->irq_line);
		for (int b = 0; b < PCI_BARS; b++)
			if (f->bar[b].size)
				kdb_printf(" %d:%#lx+%#lx", b, (unsigned long)f->bar[b].base,
					   (unsigned long)f->bar[b].size);
		if (f->msix_cap)
			kdb_printf(" msix:bar%u+%#x", f->msix_table_bar, f->msix_table_off);
		kdb_printf("\n");
	}
	kdb_printf("functions: %d\n", pci_count());
	return true;
}

static const char *cpu_state(const struct cpu *c)
{
	switch (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE)) {
	case CPU_STARTING:
		return "starting";
	case CPU_GIVEN_UP:
		return "given-up";
	case CPU_ONLINE:
		break;
	default:
		return "absent";
	}
	if (c == this_cpu())
		return "kdb";
	return __atomic_load_n(&c->parked, __ATOMIC_ACQUIRE) ? "parked" : "running";
}

/* The process whose page tables the CPU has loaded, or 0 (the kernel's). */
static uint64_t space_owner(const struct cpu *c)
{
	for (int i = 0; i < PROC_MAX; i++) {
		struct proc *p = proc_slot(i);

		if (p && c->vm == &p->vm)
			return p->pid;
	}
	return 0;
}

static bool cmd_cpus(int argc, char **argv)
{
	struct tlb_totals tlb;
	uint64_t waits, wait_cycles;

	(void)argc;
	(void)argv;
	kdb_printf("%-3s %-4s %-8s %-6s %-16s %-7s %8s %8s %7s %7s %6s %5s\n", "CPU", "APIC",
		   "STATE", "TID", "CURRENT", "SPACE", "SWITCHES", "SYSCALLS", "IPI-OUT", "IPI-IN",
		   "TLB-IN", "IDLE%");
	for (unsigned i = 0; i < cpu_count; i++) {
		const struct cpu *c = &cpus[i];
		const struct thread *t = c->current;
		uint64_t up = arch_cycles_per_sec() * (clock_ns() / 1000000000 + 1);

		kdb_printf("%-3u %-4u %-8s %-6lu %-16s %-7lu %8lu %8lu %7lu %7lu %6lu %4lu%%\n", i,
			   c->apic_id, cpu_state(c), (unsigned long)(t ? t->tid : 0),
			   t ? (t->proc ? t->proc->name : t->name) : "-",
			   (unsigned long)space_owner(c), (unsigned long)c->context_switches,
			   (unsigned long)c->syscalls, (unsigned long)c->ipis_sent,
			   (unsigned long)c->ipis_received, (unsigned long)c->tlb_requests_served,
			   (unsigned long)(c->halted_cycles * 100 / up));
	}
	kernel_lock_stats(&waits, &wait_cycles);
	tlb_get_totals(&tlb);
	kdb_printf("online %u of %u; kernel lock: %lu waits, %lu cycles waited\n",
		   __builtin_popcountll(smp_online_mask()), cpu_count, (unsigned long)waits,
		   (unsigned long)wait_cycles);
	kdb_printf("tlb shootdowns %lu: IPIs %lu, pages invalidated remotely %lu, lazy CPUs "
		   "skipped %lu, spaces retired %lu, cycles waited %lu\n",
		   (unsigned long)tlb.shootdowns, (unsigned long)tlb.ipis,
		   (unsigned long)tlb.remote_pages, (unsigned long)tlb.lazy_skipped,
		   (unsigned long)tlb.retires, (unsigned long)tlb.wait_cycles);
	return true;
}

const struct kdb_cmd kdb_machine_cmds[] = {
	{ "acpi", "", "ACPI tables: signature, address, length, checks", cmd_acpi },
	{ "pci", "", "PCI functions found at boot: ids, class, IRQ line, memory BARs", cmd_pci },
	{ "cpus", "", "CPUs: state, what runs there, switches, IPIs, shootdowns answered",
	  cmd_cpus },
	{ NULL, NULL, NULL, NULL },
};

// SPDX-License-Identifier: MIT
/* kdb: the machine: ACPI tables as the firmware described them, PCI
 * functions, and the CPUs. */
#include <fmt.h>

#include "../acpi/acpi.h"
#include "../clock.h"
#include "../lock.h"
#include "../mm/tlb.h"
#include "../iommu/iommu.h"
#include "../irq.h"
#include "../msi.h"
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

/* Runs of device mappings (same domain, grant and permission, both addresses consecutive). */
struct run {
	int domain;
	struct iommu_map_view first;
	uint64_t pages;
	int lines;
};

static void print_run(const struct run *r)
{
	if (!r->pages)
		return;
	kdb_printf("%-6d %#-12lx %#-12lx %-6lu %c%c   %s", r->domain,
		   (unsigned long)r->first.iova, (unsigned long)r->first.frame,
		   (unsigned long)r->pages, r->first.read ? 'r' : '-', r->first.write ? 'w' : '-',
		   r->first.grant ? "grant " : "DMA buffer");
	if (r->first.grant)
		kdb_printf("%#lx", (unsigned long)r->first.grant);
	kdb_printf("\n");
}

static void add_mapping(int domain, const struct iommu_map_view *m, void *ctx)
{
	struct run *r = ctx;
	uint64_t off = r->pages * PAGE_SIZE;

	if (r->pages && r->domain == domain && r->first.grant == m->grant &&
	    r->first.read == m->read && r->first.write == m->write &&
	    r->first.iova + off == m->iova && r->first.frame + off == m->frame) {
		r->pages++;
		return;
	}
	print_run(r);
	r->domain = domain;
	r->first = *m;
	r->pages = 1;
}

static bool cmd_iommu(int argc, char **argv)
{
	struct iommu_domain_view d;
	struct iommu_fault_view f;
	struct iommu_counts c;
	struct run run = { 0 };
	char b[8];

	(void)argc;
	(void)argv;
	kdb_printf("iommu: %s\n", iommu_status());
	if (!iommu_translating())
		return true;
	iommu_counts(&c);
	kdb_printf("units: mmio-reads %lu mmio-writes %lu invalidations %lu wait-spins %lu\n",
		   (unsigned long)c.mmio_reads, (unsigned long)c.mmio_writes,
		   (unsigned long)c.invalidations, (unsigned long)c.wait_spins);
	kdb_printf("%-6s %-8s %-7s %-8s %-7s %-7s %-6s %-6s %-6s %-6s %-6s %s\n", "DOMAIN",
		   "DRIVER", "PID", "DEVICES", "WINDOWS", "BUFFERS", "PAGES", "PARKED", "MAPS",
		   "UNMAPS", "INVALS", "FAULTS");
	for (int i = 0; iommu_domain_view(i, &d); i++) {
		kdb_printf("%-6d %-8s %-7lu %-8s %-7d %-7d %-6lu %-6d %-6lu %-6lu %-6lu %lu\n", d.id,
			   d.owner, (unsigned long)d.pid,
			   d.ndevices ? pci_bdf_str(d.devices[0], b) : "-", d.windows, d.dma_buffers,
			   (unsigned long)d.mapped_pages, d.parked, (unsigned long)d.maps,
			   (unsigned long)d.unmaps, (unsigned long)d.invalidations,
			   (unsigned long)d.faults);
		for (int k = 1; k < d.ndevices; k++)
			kdb_printf("%-6s %-8s %-7s %s\n", "", "", "", pci_bdf_str(d.devices[k], b));
	}
	kdb_printf("device mappings (from the domains' page tables):\n");
	kdb_printf("%-6s %-12s %-12s %-6s %-4s %s\n", "DOMAIN", "IOVA", "FRAME", "PAGES", "PERM",
		   "WHAT");
	iommu_walk(add_mapping, &run);
	print_run(&run);
	kdb_printf("faults (newest first):\n");
	for (int i = 0; iommu_fault_view(i, &f); i++) {
		kdb_printf("  %lu ms (%s): %s %s at %#lx: %s (reason %u), domain %d: ",
			   (unsigned long)(f.ns / 1000000), f.by_interrupt ? "interrupt" : "poll",
			   pci_bdf_str(f.source, b), f.write ? "write" : "read",
			   (unsigned long)f.address, f.reason_text, f.reason,
			   f.domain >= 0 ? f.domain + 1 : -1);
		if (f.grant)
			kdb_printf("%s, failed grant %#lx\n", f.where, (unsigned long)f.grant);
		else if (f.given_up)
			kdb_printf("a late transfer of grant %#lx, given up on: stopped\n",
				   (unsigned long)f.given_up);
		else
			kdb_printf("no grant was mapped\n");
	}
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
	uint64_t waits, wait_cycles, kind[IPI_NKINDS] = { 0 };

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
	for (unsigned i = 0; i < cpu_count; i++)
		for (int k = 0; k < IPI_NKINDS; k++)
			kind[k] += cpus[i].ipis_sent_kind[k];
	kdb_printf("IPIs sent: reschedule %lu, tlb %lu, stop %lu, wake (lock waiters) %lu\n",
		   (unsigned long)kind[IPI_RESCHEDULE], (unsigned long)kind[IPI_TLB],
		   (unsigned long)kind[IPI_STOP], (unsigned long)kind[IPI_WAKE]);
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

/* Every IRQ someone has, or that came: ISA lines and message IRQs. */
static bool cmd_irqs(int argc, char **argv)
{
	struct irq_route_view v;
	char what[64];
	unsigned cpu;

	(void)argc;
	(void)argv;
	kdb_printf("%-4s %-6s %-4s %-36s %10s %s\n", "IRQ", "VECTOR", "CPU", "WHAT", "COUNT",
		   "STATE");
	for (unsigned irq = 0; irq < IRQ_MAX; irq++) {
		if (!irq_route_view(irq, &v))
			continue;
		cpu = 0;
		if (!msi_describe((int)irq, what, sizeof(what), &cpu))
			snprintf(what, sizeof(what), "%s line %u", v.owner ? v.owner->name :
				 irq == IRQ_TIMER ? "kernel: PIT" : irq == IRQ_COM1 ?
				 "kernel: COM1" : "-", irq);
		kdb_printf("%-4u %-6u %-4u %-36s %10lu %s\n", irq, arch_irq_vector(irq), cpu, what,
			   (unsigned long)v.count, v.pending ? "pending" :
			   v.in_flight ? "sent, not acknowledged" : "-");
	}
	kdb_printf("message IRQs by CPU (drivers' + kernel's):");
	for (unsigned i = 0; i < cpu_count; i++)
		kdb_printf(" %u: %lu+%lu", i, (unsigned long)cpus[i].irqs_message,
			   (unsigned long)cpus[i].irqs_message_kernel);
	kdb_printf("\n");
	return true;
}

const struct kdb_cmd kdb_machine_cmds[] = {
	{ "irqs", "", "IRQs: lines and MSI/MSI-X messages, their vector, CPU, owner, count",
	  cmd_irqs },
	{ "acpi", "", "ACPI tables: signature, address, length, checks", cmd_acpi },
	{ "iommu", "", "IOMMU: domains, their devices, live device mappings, recorded faults",
	  cmd_iommu },
	{ "pci", "", "PCI functions found at boot: ids, class, IRQ line, memory BARs", cmd_pci },
	{ "cpus", "", "CPUs: state, what runs there, switches, IPIs, shootdowns answered",
	  cmd_cpus },
	{ NULL, NULL, NULL, NULL },
};

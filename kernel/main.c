// SPDX-License-Identifier: MIT
/*
 * kmain: the boot flow, in order.  Each step may rely on every step above:
 *
 *   1. serial console          (so anything after can report)
 *   2. boot information        (checked copy of the multiboot2 block), symbols
 *   3. command line, banner
 *   4. CPU tables              (GDT/TSS/IDT: faults now give reports)
 *   5. frame allocator         (after reserving kernel, modules, info)
 *   6. kernel page tables      (direct map of RAM, W^X image)
 *   7. heap, ACPI tables     (checked once; what CPUs, APICs and IOMMU are there)
 *   8. scheduler, processes, ports, policy (the boot configuration), PCI
 *      functions given to their drivers, the IOMMU's domains
 *   9. interrupts and timer    (TSC calibrated, clock running; local and I/O
 *                              APICs from the MADT, else the 8259s), console input
 *  10. the other CPUs          (started one by one; each becomes its idle thread)
 *  11. self-tests, or the first user program; the boot flow becomes idle
 */
#include <ferry/abi.h>
#include <ferry/err.h>
#include <fmt.h>
#include <string.h>

#include "acpi/acpi.h"
#include "arch/arch.h"
#include "bootinfo.h"
#include "cmdline.h"
#include "log.h"
#include "console.h"
#include "debug/kdb.h"
#include "ipc/allow.h"
#include "grant/grant.h"
#include "iommu/iommu.h"
#include "ipc/port.h"
#include "lock.h"
#include "mm/pageout.h"
#include "mm/memobj.h"
#include "mm/objpager.h"
#include "mm/request.h"
#include "mm/swap.h"
#include "mm/fault_stats.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "mm/tlb.h"
#include "panic.h"
#include "pci.h"
#include "policy.h"
#include "proc/proc.h"
#include "smp.h"
#include "symbols.h"
#include "test/ktest.h"
#include "version.h"

extern char __kernel_start[], __kernel_end[];

static struct boot_info the_boot_info;

const struct boot_info *boot_info(void)
{
	return &the_boot_info;
}

static void report_unknown_option(const char *key)
{
	log_warn("unknown kernel option '%s' ignored", key);
}

static const char *region_type_name(uint32_t type)
{
	switch (type) {
	case BOOT_MEM_USABLE:
		return "usable";
	case BOOT_MEM_ACPI:
		return "ACPI";
	case BOOT_MEM_NVS:
		return "ACPI NVS";
	case BOOT_MEM_BAD:
		return "bad";
	default:
		return "reserved";
	}
}

static void print_banner(const struct boot_info *bi)
{
	kprintf("\nFerry %s (x86-64) - frames ferried, not copied\n", FERRY_VERSION);
	kprintf("boot loader: %s\n", bi->loader[0] ? bi->loader : "unknown");
	kprintf("command line: %s\n", bi->cmdline);
	kprintf("memory: %lu MiB usable, top of RAM %#lx\n",
		(unsigned long)(boot_usable_bytes(bi) >> 20), (unsigned long)boot_ram_top(bi));
	for (int i = 0; i < bi->nregions; i++)
		kprintf("  %016lx-%016lx %s\n", (unsigned long)bi->region[i].base,
			(unsigned long)(bi->region[i].base + bi->region[i].len - 1),
			region_type_name(bi->region[i].type));
	kprintf("modules: %d\n", bi->nmodules);
	for (int i = 0; i < bi->nmodules; i++)
		kprintf("  %-10s %8lu bytes at %#lx\n", bi->module[i].name,
			(unsigned long)(bi->module[i].end - bi->module[i].start),
			(unsigned long)bi->module[i].start);
	if (bi->skipped)
		log_warn("boot: %d memory regions or modules did not fit the tables", bi->skipped);
}

static void read_boot_info(uint32_t magic, uint32_t info_phys)
{
	const char *why;

	if (magic != MULTIBOOT2_BOOT_MAGIC)
		panic("not booted by a multiboot2 loader (magic %#x)", magic);
	/* The boot tables map the first GiB: the loader's block must be in it. */
	if (info_phys == 0 || info_phys >= (1U << 30) - BOOT_INFO_MAX_SIZE)
		panic("multiboot2 info at %#x is outside the boot mapping", info_phys);
	if (multiboot2_parse(phys_to_virt(info_phys), BOOT_INFO_MAX_SIZE, info_phys, &the_boot_info,
			     &why))
		panic("multiboot2 info rejected: %s", why);
}

static void load_symbols(const struct boot_info *bi)
{
	const struct boot_module *m = boot_find_module(bi, "symbols");

	if (m)
		symbols_init(phys_to_virt(m->start), m->end - m->start);
	else
		log_warn("no symbols module: backtraces will show addresses only");
}

/* The first process: init, or whatever `init=` names (e.g. the test suite). */
static void start_first_program(void)
{
	const char *name = cmdline_get("init"), *arg = cmdline_get("initarg");
	char args[SPAWN_ARGS_MAX];
	long pid;

	if (!name || !*name)
		name = "init";
	if (arg)
		snprintf(args, sizeof(args), "%s %s", name, arg);
	pid = proc_spawn(name, arg ? args : NULL, 0);
	if (pid < 0)
		log_err("cannot start %s: %s; the system will only idle", name, err_str(pid));
}

void kmain(uint32_t magic, uint32_t info_phys);

void kmain(uint32_t magic, uint32_t info_phys)
{
	const char *test, *loglevel;
	bool loglevel_ok;

	smp_init_boot_cpu();	/* GS: this_cpu() from here on */
	kernel_lock();		/* the boot flow is the boot CPU's idle thread: it holds it */
	arch_serial_init();
	read_boot_info(magic, info_phys);
	load_symbols(&the_boot_info);	/* in the boot mapping, as the info is */
	cmdline_set_boot(the_boot_info.cmdline);
	loglevel = cmdline_get("loglevel");
	loglevel_ok = !loglevel || log_set_level_option(loglevel);
	print_banner(&the_boot_info);
	if (!loglevel_ok)
		log_warn("loglevel=%s unknown: want error, warn, info, debug or 0..3", loglevel);
	cmdline_check_known(cmdline_boot(), report_unknown_option);
	arch_init_cpu();
	pmm_init(&the_boot_info, virt_to_phys(__kernel_start), virt_to_phys(__kernel_end));
	arch_paging_init(boot_ram_top(&the_boot_info));
	heap_init();
	fault_stats_init();	/* the trace events' observers, before any event */
	kdb_init();
	tlb_init();
	acpi_init(&the_boot_info);
	sched_init();
	proc_init();
	ipc_init();
	grant_init();
	allow_init();
	swap_init();
	objpager_init();
	memobj_init();
	request_init();
	policy_load(&the_boot_info);
	pci_init();
	iommu_init();
	arch_init_interrupts();
	iommu_fault_irq_init();
	console_init();
	log_info("clock: TSC %lu MHz", (unsigned long)(arch_cycles_per_sec() / 1000000));
	smp_start_cpus();

	test = cmdline_get("test");
	if (test)
		ktest_run(test);
	pageout_init();
	start_first_program();
	kdb_run_boot_commands();
	log_info("boot complete");
	sched_idle_loop();
}

// SPDX-License-Identifier: MIT
/* kdb: the machine as the firmware described it (ACPI tables, PCI functions). */
#include "../acpi/acpi.h"
#include "../pci.h"
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

const struct kdb_cmd kdb_machine_cmds[] = {
	{ "acpi", "", "ACPI tables: signature, address, length, checks", cmd_acpi },
	{ "pci", "", "PCI functions found at boot: ids, class, IRQ line, memory BARs", cmd_pci },
	{ NULL, NULL, NULL, NULL },
};

// SPDX-License-Identifier: MIT
/* kdb: the machine as the firmware described it (ACPI tables). */
#include "../acpi/acpi.h"
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

const struct kdb_cmd kdb_machine_cmds[] = {
	{ "acpi", "", "ACPI tables: signature, address, length, checks", cmd_acpi },
	{ NULL, NULL, NULL, NULL },
};

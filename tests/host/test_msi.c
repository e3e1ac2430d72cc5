/* SPDX-License-Identifier: MIT */
/* kernel/msi_check.c: MSI-X and MSI capability data as found at boot is
 * checked before the kernel programs a message; the IRQ pool runs out
 * cleanly. */
#include "htest.h"

#include <string.h>

#include "../../kernel/msi_check.c"

/* QEMU's nvme: 64 entries at BAR0 + 0x2000, pending bits at + 0x3000, a
 * 16 KiB BAR. */
static struct pci_function nvme(void)
{
	struct pci_function f;

	memset(&f, 0, sizeof(f));
	f.bar[0] = (struct pci_bar){ .base = 0xfebd0000, .size = 0x4000, .is64 = true };
	f.msix_cap = 0x40;
	f.msix_table_bar = 0;
	f.msix_table_off = 0x2000;
	f.msix_table_len = 65 * MSIX_ENTRY_SIZE;
	f.msix_pba_bar = 0;
	f.msix_pba_off = 0x3000;
	f.msix_pba_len = 16;
	return f;
}

/* Is entry refused, for a reason that says `why`? */
static bool refused(const struct pci_function *f, bool msix, unsigned entry, const char *why)
{
	const char *r = msi_refused(f, msix, entry);

	return r && strstr(r, why);
}

HTEST(good_table_every_entry)
{
	struct pci_function f = nvme();

	HCHECK(msi_refused(&f, true, 0) == NULL);
	HCHECK(msi_refused(&f, true, 64) == NULL);
	HCHECK(refused(&f, true, 65, "no such MSI-X table entry"));	/* past the table */
}

HTEST(no_capability)
{
	struct pci_function f = nvme();

	f.msix_cap = 0;
	HCHECK(refused(&f, true, 0, "no MSI-X capability"));
	HCHECK(refused(&f, false, 0, "no MSI capability"));
}

HTEST(table_bar_out_of_range)
{
	struct pci_function f = nvme();

	f.msix_table_bar = 6;			/* BIR 6 and 7 are reserved */
	HCHECK(refused(&f, true, 0, "a BAR that does not exist"));
	f = nvme();
	f.msix_pba_bar = 7;
	HCHECK(refused(&f, true, 0, "a BAR that does not exist"));
}

HTEST(table_in_a_bar_that_is_not_memory)
{
	struct pci_function f = nvme();

	f.msix_table_bar = 2;			/* an I/O BAR, or none: size 0 */
	HCHECK(refused(&f, true, 0, "not memory"));
}

HTEST(table_past_the_end_of_its_bar)
{
	struct pci_function f = nvme();

	f.msix_table_off = 0x3F80;		/* 65 entries do not fit in 0x80 bytes */
	HCHECK(refused(&f, true, 0, "past the end of their BAR"));
	f = nvme();
	f.msix_pba_off = 0x4000;
	HCHECK(refused(&f, true, 0, "past the end of their BAR"));
	f = nvme();
	f.msix_table_off = 0xFFFFFFF8u;		/* offset + length wraps in 32 bits */
	HCHECK(refused(&f, true, 0, "past the end of their BAR"));
}

HTEST(table_in_a_bar_smaller_than_a_page)
{
	struct pci_function f = nvme();

	f.bar[0].size = 0x800;
	f.msix_table_off = 0;
	f.msix_table_len = 4 * MSIX_ENTRY_SIZE;
	f.msix_pba_off = 0x400;
	HCHECK(refused(&f, true, 0, "smaller than a page"));
}

HTEST(plain_msi_has_one_message)
{
	struct pci_function f = nvme();

	f.msix_cap = 0;
	f.msi_cap = 0x50;
	HCHECK(msi_refused(&f, false, 0) == NULL);
	HCHECK(refused(&f, false, 1, "one message"));
	f.msi_cap = 0x20;			/* inside the header: a broken list */
	HCHECK(refused(&f, false, 0, "outside the capability area"));
}

HTEST(pool_runs_out_and_comes_back)
{
	struct msi_pool pool = { 0 };
	int first = msi_pool_take(&pool), irq = first;

	HCHECK_EQ(first, IRQ_LINES_ISA);
	for (int i = 1; i < MSI_IRQS; i++) {
		irq = msi_pool_take(&pool);
		HCHECK_EQ(irq, IRQ_LINES_ISA + i);
	}
	HCHECK_EQ(msi_pool_take(&pool), -1);	/* exhausted: an error, not a panic */
	msi_pool_give(&pool, IRQ_LINES_ISA + 5);
	HCHECK_EQ(msi_pool_take(&pool), IRQ_LINES_ISA + 5);
	msi_pool_give(&pool, 3);		/* an ISA line is no message IRQ: ignored */
	msi_pool_give(&pool, IRQ_MAX);
	HCHECK_EQ(msi_pool_take(&pool), -1);
}

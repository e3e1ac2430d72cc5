// SPDX-License-Identifier: MIT
/*
 * MSI-X and MSI programmed by the kernel (model in msi.h).  Config space
 * through arch_pci_read/write, the MSI-X tables through kernel mappings
 * of their pages (uncached), made once per function.
 */
#include "msi.h"

#include <ferry/err.h>
#include <fmt.h>
#include <string.h>

#include "arch/arch.h"
#include "cpu.h"
#include "ipc/port.h"
#include "irq.h"
#include "log.h"
#include "pci.h"
#include "proc/proc.h"

#define MSIX_CTL		2		/* message control, in the capability */
#define MSIX_CTL_ENABLE		0x8000
#define MSIX_CTL_FUNC_MASK	0x4000
#define MSIX_ADDR_LO		0		/* an entry's words */
#define MSIX_ADDR_HI		1
#define MSIX_DATA		2
#define MSIX_VECTOR_CTL		3
#define MSIX_MASKED		1u
#define MSI_CTL_ENABLE		0x0001
#define MSI_CTL_MME		0x0070		/* messages enabled: 2^n; 0: one */
#define MSI_CTL_64		0x0080
#define MSI_CTL_MASKING		0x0100
#define TABLES_MAX		8

struct msi_irq {
	bool used;
	const struct pci_function *f;	/* NULL: the kernel's (name says whose) */
	const char *name;
	bool msix;
	uint16_t entry;
	unsigned cpu;
	volatile uint32_t *slot;	/* MSI-X: the entry's four words */
};

struct msix_table {
	uint32_t bdf;
	volatile uint32_t *base;
};

static struct msi_pool pool;
static struct msi_irq irqs[MSI_IRQS];
static struct msix_table tables[TABLES_MAX];

static struct msi_irq *at(int irq)
{
	return &irqs[irq - IRQ_LINES];
}

static uint32_t cfg_read(uint32_t bdf, uint32_t off, uint32_t size)
{
	uint32_t v;

	return arch_pci_read(bdf, off, size, &v) ? 0xFFFFFFFFu : v;
}

static void cfg_write(uint32_t bdf, uint32_t off, uint32_t size, uint32_t v)
{
	arch_pci_write(bdf, off, size, v);
}

/* The kernel's mapping of f's MSI-X table, made at the first use. */
static volatile uint32_t *table_of(const struct pci_function *f, const char **why)
{
	uint64_t pa;
	int i;
	uint8_t *page;

	for (i = 0; i < TABLES_MAX && tables[i].base; i++)
		if (tables[i].bdf == f->bdf)
			return tables[i].base;
	if (i == TABLES_MAX) {
		*why = "more MSI-X devices than the kernel keeps tables for";
		return NULL;
	}
	*why = pci_msix_table_at(f, &pa);
	if (*why)
		return NULL;
	page = arch_map_phys(PAGE_ALIGN_DOWN(pa),
			     PAGE_ALIGN_UP(pa + f->msix_table_len) - PAGE_ALIGN_DOWN(pa),
			     VM_READ | VM_WRITE | VM_UNCACHED);
	if (!page) {
		*why = "no room to map the MSI-X table";
		return NULL;
	}
	tables[i] = (struct msix_table){ f->bdf, (volatile uint32_t *)(page + (pa & ~PAGE_MASK)) };
	return tables[i].base;
}

/* Masked while it changes, so the device never sends half a message. */
static void msix_program(const struct pci_function *f, volatile uint32_t *slot, uint64_t addr,
			 uint32_t data)
{
	uint32_t ctl;

	slot[MSIX_VECTOR_CTL] = MSIX_MASKED;
	slot[MSIX_ADDR_LO] = (uint32_t)addr;
	slot[MSIX_ADDR_HI] = (uint32_t)(addr >> 32);
	slot[MSIX_DATA] = data;
	slot[MSIX_VECTOR_CTL] = 0;
	pci_msi_enable(f);
	ctl = cfg_read(f->bdf, f->msix_cap + MSIX_CTL, 2);
	cfg_write(f->bdf, f->msix_cap + MSIX_CTL, 2,
		  (ctl | MSIX_CTL_ENABLE) & ~(uint32_t)MSIX_CTL_FUNC_MASK);
}

/* One message (MME 0), its per-vector mask bit cleared where there is one. */
static void msi_program(const struct pci_function *f, uint64_t addr, uint32_t data)
{
	uint32_t cap = f->msi_cap, ctl = cfg_read(f->bdf, cap + 2, 2);
	uint32_t data_at = (ctl & MSI_CTL_64) ? cap + 0xC : cap + 8;

	cfg_write(f->bdf, cap + 2, 2, ctl & ~(uint32_t)(MSI_CTL_ENABLE | MSI_CTL_MME));
	cfg_write(f->bdf, cap + 4, 4, (uint32_t)addr);
	if (ctl & MSI_CTL_64)
		cfg_write(f->bdf, cap + 8, 4, (uint32_t)(addr >> 32));
	cfg_write(f->bdf, data_at, 2, data);
	if (ctl & MSI_CTL_MASKING)
		cfg_write(f->bdf, data_at + 4, 4, 0);
	pci_msi_enable(f);
	cfg_write(f->bdf, cap + 2, 2, (ctl & ~(uint32_t)MSI_CTL_MME) | MSI_CTL_ENABLE);
}

static int in_use(const struct pci_function *f, bool msix, unsigned entry)
{
	for (int i = 0; i < MSI_IRQS; i++)
		if (irqs[i].used && irqs[i].f == f && irqs[i].msix == msix &&
		    irqs[i].entry == entry)
			return IRQ_LINES + i;
	return -1;
}

static long refuse(struct proc *p, uint32_t bdf, long entry, long err, const char *why)
{
	char b[8];

	log_warn("%s (pid %lu): message interrupt %s entry %ld refused: %s", p->name,
		 (unsigned long)p->pid, pci_bdf_str(bdf, b), entry, why);
	return err;
}

/* Why the arguments cannot be used, with the error, or NULL (validate). */
static const char *attach_refused(struct proc *p, const struct pci_function *f, bool msix,
				  long entry, long cpu, uint64_t port, long *err)
{
	*err = ERR_PERM;
	if (!pci_bound(p, f))
		return "no device= binding gives it";
	*err = ERR_NOSYS;
	if (!f->msix_cap && !f->msi_cap)
		return "the function has neither MSI-X nor MSI";
	*err = ERR_INVAL;
	if (entry < 0 || entry > 0xFFFF)
		return "no such entry";
	if (msi_refused(f, msix, (unsigned)entry))
		return msi_refused(f, msix, (unsigned)entry);
	if (cpu < 0 || !cpu_online((unsigned)cpu))
		return "no such CPU online";
	*err = ERR_BADHANDLE;
	if (!port_owned_by(port, p))
		return "not the caller's port";
	*err = ERR_BUSY;
	if (in_use(f, msix, (unsigned)entry) >= 0)
		return "the entry is in use";
	return NULL;
}

long msi_attach(struct proc *p, uint32_t bdf, long entry, long cpu, uint64_t port)
{
	const struct pci_function *f = pci_find(bdf);
	volatile uint32_t *table = NULL;
	const char *why;
	uint64_t addr;
	uint32_t data;
	bool msix;
	long err;
	int irq;
	char b[8];

	if (!f)
		return ERR_NOENT;	/* nothing there: nothing to say */
	msix = f->msix_cap != 0;
	why = attach_refused(p, f, msix, entry, cpu, port, &err);
	if (!why && msix && !(table = table_of(f, &why)))
		err = ERR_INVAL;
	if (why)
		return refuse(p, bdf, entry, err, why);
	irq = msi_pool_take(&pool);
	if (irq < 0)
		return refuse(p, bdf, entry, ERR_FULL, "every message IRQ is taken");
	if (!arch_msi_message(&cpus[cpu], (unsigned)irq, &addr, &data)) {
		msi_pool_give(&pool, irq);
		return refuse(p, bdf, entry, ERR_NOSYS, "no local APIC to take messages");
	}
	*at(irq) = (struct msi_irq){ .used = true, .f = f, .name = p->name, .msix = msix,
				     .entry = (uint16_t)entry, .cpu = (unsigned)cpu,
				     .slot = msix ? table + entry * 4 : NULL };
	irq_route_message((unsigned)irq, p, port, NULL);
	if (msix)
		msix_program(f, at(irq)->slot, addr, data);
	else
		msi_program(f, addr, data);
	log_info("%s (pid %lu): %s %s entry %ld is IRQ %d (vector %u) on CPU %ld", p->name,
		 (unsigned long)p->pid, pci_bdf_str(bdf, b), msix ? "MSI-X" : "MSI", entry, irq,
		 data & 0xFF, cpu);
	return irq;
}

int msi_alloc_kernel(const char *name, void (*fn)(void), unsigned cpu, uint64_t *addr,
		     uint32_t *data)
{
	int irq = msi_pool_take(&pool);

	if (irq < 0)
		return -1;
	if (cpu >= cpu_count || !arch_msi_message(&cpus[cpu], (unsigned)irq, addr, data)) {
		msi_pool_give(&pool, irq);
		return -1;
	}
	*at(irq) = (struct msi_irq){ .used = true, .name = name, .cpu = cpu };
	irq_route_message((unsigned)irq, NULL, 0, fn);
	return irq;
}

void msi_release(int irq)
{
	struct msi_irq *m;
	const struct pci_function *f;
	uint32_t ctl;

	if (irq < IRQ_LINES || irq >= IRQ_MAX || !at(irq)->used)
		return;
	m = at(irq);
	f = m->f;
	if (m->slot)
		m->slot[MSIX_VECTOR_CTL] = MSIX_MASKED;
	*m = (struct msi_irq){ 0 };
	msi_pool_give(&pool, irq);
	if (!f)
		return;
	for (int i = 0; i < MSI_IRQS; i++)
		if (irqs[i].used && irqs[i].f == f)
			return;
	/* The function's last message: back to INTx for whoever comes next. */
	if (f->msix_cap) {
		ctl = cfg_read(f->bdf, f->msix_cap + MSIX_CTL, 2);
		cfg_write(f->bdf, f->msix_cap + MSIX_CTL, 2, ctl & ~(uint32_t)MSIX_CTL_ENABLE);
	} else {
		ctl = cfg_read(f->bdf, f->msi_cap + 2, 2);
		cfg_write(f->bdf, f->msi_cap + 2, 2, ctl & ~(uint32_t)MSI_CTL_ENABLE);
	}
	pci_msi_disable(f);
}

bool msi_describe(int irq, char *buf, unsigned size, unsigned *cpu)
{
	const struct msi_irq *m;
	char b[8];

	if (irq < IRQ_LINES || irq >= IRQ_MAX || !at(irq)->used)
		return false;
	m = at(irq);
	*cpu = m->cpu;
	if (m->f)
		snprintf(buf, size, "%s %s %s entry %u", m->name, pci_bdf_str(m->f->bdf, b),
			 m->msix ? "MSI-X" : "MSI", m->entry);
	else
		snprintf(buf, size, "kernel: %s", m->name);
	return true;
}

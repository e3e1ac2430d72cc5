// SPDX-License-Identifier: MIT
/*
 * PCI functions and the drivers bound to them (model in pci.h).  Config
 * space goes through arch_pci_read/arch_pci_write.
 */
#include "pci.h"

#include <ferry/err.h>
#include <fmt.h>
#include <string.h>

#include "arch/arch.h"
#include "config.h"
#include "log.h"
#include "mm/pmm.h"
#include "mm/vm.h"
#include "policy.h"
#include "proc/proc.h"

#define CFG_ID		0x00
#define CFG_COMMAND	0x04
#define CFG_STATUS	0x06
#define CFG_CLASS	0x08	/* revision, prog-if, subclass, class */
#define CFG_HEADER	0x0E
#define CFG_BAR0	0x10
#define CFG_SECONDARY	0x19	/* bridges: the bus behind */
#define CFG_CAPS	0x34
#define CFG_IRQ_LINE	0x3C
#define CFG_HEADER_END	0x40
#define CMD_IO		0x0001
#define CMD_MEMORY	0x0002
#define CMD_MASTER	0x0004
#define CMD_INTX_OFF	0x0400
#define STATUS_CAPS	0x0010
#define BAR_IO		0x1
#define BAR_TYPE_MASK	0x6
#define BAR_TYPE_64	0x4
#define CAP_MSI		0x05
#define CAP_MSIX	0x11
#define MSI_CTL_64	0x0080
#define MSI_CTL_MASKING	0x0100
#define MSIX_LEN	12
#define MSIX_ENTRY	16
#define BUSES_MAX	16
#define LOW_MEMORY	(1UL << 20)	/* firmware's, never a BAR */

static struct pci_function functions[PCI_FUNCTIONS_MAX];
static int nfunctions;

static uint32_t cfg_read(uint32_t bdf, uint32_t off, uint32_t size)
{
	uint32_t v;

	return arch_pci_read(bdf, off, size, &v) ? 0xFFFFFFFFu : v;
}

static void cfg_write(uint32_t bdf, uint32_t off, uint32_t size, uint32_t v)
{
	arch_pci_write(bdf, off, size, v);
}

/* One BAR register's size mask: all ones written, read back, restored. */
static uint32_t bar_probe(uint32_t bdf, uint32_t off)
{
	uint32_t old = cfg_read(bdf, off, 4), mask;

	cfg_write(bdf, off, 4, 0xFFFFFFFFu);
	mask = cfg_read(bdf, off, 4);
	cfg_write(bdf, off, 4, old);
	return mask;
}

/* Memory BARs' addresses and sizes.  Decoding is off while they are sized,
 * so the device never answers at the all-ones address. */
static void size_bars(struct pci_function *f, int nbars)
{
	uint16_t cmd = (uint16_t)cfg_read(f->bdf, CFG_COMMAND, 2);

	cfg_write(f->bdf, CFG_COMMAND, 2, cmd & ~(CMD_IO | CMD_MEMORY));
	for (int i = 0; i < nbars; i++) {
		uint32_t off = CFG_BAR0 + 4 * (uint32_t)i, lo = cfg_read(f->bdf, off, 4);
		bool is64 = (lo & BAR_TYPE_MASK) == BAR_TYPE_64 && i + 1 < nbars;
		uint64_t base = lo & ~0xFu, mask = bar_probe(f->bdf, off) & ~0xFu;

		if (lo & BAR_IO)
			continue;
		if (is64) {
			base |= (uint64_t)cfg_read(f->bdf, off + 4, 4) << 32;
			mask |= (uint64_t)bar_probe(f->bdf, off + 4) << 32;
		} else if (mask) {
			mask |= 0xFFFFFFFF00000000ULL;	/* a 32-bit BAR's size */
		}
		if (mask)	/* 0: the BAR is not implemented */
			f->bar[i] = (struct pci_bar){ .base = base, .size = ~mask + 1, .is64 = is64 };
		if (is64)
			i++;
	}
	cfg_write(f->bdf, CFG_COMMAND, 2, cmd);
}

/* The MSI and MSI-X capabilities, from the capability list (bounded: a
 * list that loops is cut after 48 entries). */
static void find_caps(struct pci_function *f)
{
	uint8_t at;

	if (!(cfg_read(f->bdf, CFG_STATUS, 2) & STATUS_CAPS))
		return;
	at = (uint8_t)cfg_read(f->bdf, CFG_CAPS, 1) & 0xFC;
	for (int n = 0; at >= CFG_HEADER_END && n < 48; n++) {
		uint8_t id = (uint8_t)cfg_read(f->bdf, at, 1);

		if (id == CAP_MSI && !f->msi_cap) {
			f->msi_cap = at;
		} else if (id == CAP_MSIX && !f->msix_cap) {
			uint32_t entries = (cfg_read(f->bdf, at + 2, 2) & 0x7FF) + 1;
			uint32_t table = cfg_read(f->bdf, at + 4, 4), pba = cfg_read(f->bdf, at + 8, 4);

			f->msix_cap = at;
			f->msix_table_bar = table & 7;
			f->msix_table_off = table & ~7u;
			f->msix_table_len = entries * MSIX_ENTRY;
			f->msix_pba_bar = pba & 7;
			f->msix_pba_off = pba & ~7u;
			f->msix_pba_len = (entries + 63) / 64 * 8;
		}
		at = (uint8_t)cfg_read(f->bdf, at + 1, 1) & 0xFC;
	}
}

static void add_function(uint32_t bdf, uint8_t header)
{
	uint32_t id = cfg_read(bdf, CFG_ID, 4), class = cfg_read(bdf, CFG_CLASS, 4);
	struct pci_function *f;

	if (nfunctions == PCI_FUNCTIONS_MAX) {
		log_warn("pci: more than %d functions: %02x:%02x.%x and later ignored",
			 PCI_FUNCTIONS_MAX, bdf >> 8, (bdf >> 3) & 31, bdf & 7);
		return;
	}
	f = &functions[nfunctions++];
	*f = (struct pci_function){
		.bdf = bdf, .vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
		.class = (uint8_t)(class >> 24), .subclass = (uint8_t)(class >> 16),
		.progif = (uint8_t)(class >> 8), .header = header,
		.irq_line = (uint8_t)cfg_read(bdf, CFG_IRQ_LINE, 1),
	};
	if (header == 0 || header == 1)
		size_bars(f, header == 0 ? PCI_BARS : 2);
	find_caps(f);
}

const char *pci_bdf_str(uint32_t bdf, char *buf)
{
	snprintf(buf, 8, "%02x:%02x.%x", (bdf >> 8) & 0xff, (bdf >> 3) & 31, bdf & 7);
	return buf;
}

static void set_master(const struct pci_function *f, bool on)
{
	uint16_t cmd = (uint16_t)cfg_read(f->bdf, CFG_COMMAND, 2);
	uint16_t want = on ? cmd | CMD_MASTER : cmd & (uint16_t)~CMD_MASTER;

	if (want != cmd)
		cfg_write(f->bdf, CFG_COMMAND, 2, want);
}

/* Each function's owner: the first configured line binding it.  Bus
 * mastering off for every function that is no bridge and has none. */
static void assign_owners(void)
{
	const struct boot_config *bc = policy_all();
	int off = 0;
	char b[8];

	for (int i = 0; i < nfunctions; i++) {
		struct pci_function *f = &functions[i];

		for (int k = 0; f->header == 0 && !f->owner && k < bc->nprogs; k++)
			if (config_device_bound(&bc->prog[k], f->class, f->subclass, f->progif))
				f->owner = &bc->prog[k];
		if (f->owner)
			log_info("pci: %s %04x:%04x (%02x:%02x) is %s's", pci_bdf_str(f->bdf, b),
				 f->vendor, f->device, f->class, f->subclass, f->owner->name);
		else if (f->header == 0 && (cfg_read(f->bdf, CFG_COMMAND, 2) & CMD_MASTER) && ++off)
			set_master(f, false);
	}
	if (off)
		log_info("pci: bus mastering switched off on %d functions no driver is given", off);
}

/* Bus 0, then the buses behind the bridges found on the way (breadth first). */
void pci_init(void)
{
	uint8_t buses[BUSES_MAX] = { 0 };
	int nbuses = 1;

	for (int b = 0; b < nbuses; b++) {
		for (uint32_t dev = 0; dev < 32; dev++) {
			int nfn = 1;

			for (int fn = 0; fn < nfn; fn++) {
				uint32_t bdf = (uint32_t)buses[b] << 8 | dev << 3 | (uint32_t)fn;
				uint8_t header;

				if ((uint16_t)cfg_read(bdf, CFG_ID, 2) == 0xFFFF)
					continue;
				header = (uint8_t)cfg_read(bdf, CFG_HEADER, 1);
				if (fn == 0 && (header & 0x80))
					nfn = 8;
				header &= 0x7F;
				add_function(bdf, header);
				if (header == 1 && nbuses < BUSES_MAX) {
					uint8_t sec = (uint8_t)cfg_read(bdf, CFG_SECONDARY, 1);

					if (sec > buses[b])	/* a sane bridge leads further */
						buses[nbuses++] = sec;
				}
			}
		}
	}
	log_info("pci: %d functions", nfunctions);
	assign_owners();
}

int pci_count(void)
{
	return nfunctions;
}

const struct pci_function *pci_at(int index)
{
	return index >= 0 && index < nfunctions ? &functions[index] : NULL;
}

const struct pci_function *pci_find(uint32_t bdf)
{
	for (int i = 0; i < nfunctions; i++)
		if (functions[i].bdf == bdf)
			return &functions[i];
	return NULL;
}

bool pci_bound(const struct proc *p, const struct pci_function *f)
{
	return f->header == 0 && config_device_bound(p->config, f->class, f->subclass, f->progif);
}

bool pci_irq_bound(const struct proc *p, unsigned irq)
{
	for (int i = 0; i < nfunctions; i++)
		if (functions[i].irq_line == irq && pci_bound(p, &functions[i]))
			return true;
	return false;
}

/* Is [pa, pa + len) device memory: above the firmware's first MiB, no RAM
 * frame in it, clear of the interrupt controllers? */
static const char *not_device_memory(paddr_t pa, uint64_t len)
{
	if (pa < LOW_MEMORY)
		return "in the first MiB";
	if (arch_mmio_reserved(pa, len))
		return "over the interrupt controllers' range";
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		struct frame *fr = pmm_frame(pa + off);

		if (fr && fr->use != FRAME_RESERVED)
			return "over RAM";
	}
	return NULL;
}

/* The BAR's address as config space says it now. */
static uint64_t bar_now(const struct pci_function *f, unsigned bar)
{
	uint64_t base = cfg_read(f->bdf, CFG_BAR0 + 4 * bar, 4) & ~0xFu;

	if (f->bar[bar].is64)
		base |= (uint64_t)cfg_read(f->bdf, CFG_BAR0 + 4 * bar + 4, 4) << 32;
	return base;
}

/* Why BAR `bar` of f may not be mapped, or NULL. */
static const char *bar_refused(const struct pci_function *f, unsigned bar)
{
	const struct pci_bar *b = &f->bar[bar];

	if (bar >= PCI_BARS || !b->size)
		return "not a memory BAR";
	if (b->size < PAGE_SIZE || (b->base & ~PAGE_MASK))
		return "smaller than a page or not page aligned (it may share a page)";
	if (b->size > PCI_MMIO_MAX)
		return "larger than the kernel maps (16 MiB)";
	if (bar_now(f, bar) != b->base)
		return "moved since boot";
	return not_device_memory(b->base, b->size);
}

const char *pci_msix_table_at(const struct pci_function *f, uint64_t *pa)
{
	const struct pci_bar *b = &f->bar[f->msix_table_bar];

	if (bar_now(f, f->msix_table_bar) != b->base)
		return "the MSI-X table's BAR moved since boot";
	*pa = b->base + f->msix_table_off;
	return not_device_memory(PAGE_ALIGN_DOWN(*pa),
				 PAGE_ALIGN_UP(*pa + f->msix_table_len) - PAGE_ALIGN_DOWN(*pa));
}

void pci_msi_enable(const struct pci_function *f)
{
	/* The table answers only with memory decoding on; INTx off is what
	 * enabling MSI does anyway, said once more for devices that forget. */
	cfg_write(f->bdf, CFG_COMMAND, 2, cfg_read(f->bdf, CFG_COMMAND, 2) | CMD_MEMORY | CMD_INTX_OFF);
}

void pci_msi_disable(const struct pci_function *f)
{
	cfg_write(f->bdf, CFG_COMMAND, 2, cfg_read(f->bdf, CFG_COMMAND, 2) & ~CMD_INTX_OFF);
}

/* The MSI-X table and pending bits inside BAR `bar`: the kernel's. */
static int msix_holes(const struct pci_function *f, unsigned bar, struct vm_hole holes[2])
{
	int n = 0;

	if (!f->msix_cap)
		return 0;
	if (f->msix_table_bar == bar)
		holes[n++] = (struct vm_hole){ f->msix_table_off, f->msix_table_len };
	if (f->msix_pba_bar == bar)
		holes[n++] = (struct vm_hole){ f->msix_pba_off, f->msix_pba_len };
	return n;
}

long pci_mmio_map(struct proc *p, uint32_t bdf, unsigned bar, uint64_t *va, uint64_t *len)
{
	const struct pci_function *f = pci_find(bdf);
	struct vm_hole holes[2];
	const char *why;
	int nholes;
	long err;

	if (!f)
		return ERR_NOENT;
	if (!pci_bound(p, f)) {
		log_warn("%s (pid %lu): mmio of %02x:%02x.%x refused: no device=%02x:%02x binding",
			 p->name, (unsigned long)p->pid, bdf >> 8, (bdf >> 3) & 31, bdf & 7,
			 f->class, f->subclass);
		return ERR_PERM;
	}
	why = bar < PCI_BARS ? bar_refused(f, bar) : "no such BAR";
	if (why) {
		log_warn("%s (pid %lu): mmio of %02x:%02x.%x BAR%u refused: %s", p->name,
			 (unsigned long)p->pid, bdf >> 8, (bdf >> 3) & 31, bdf & 7, bar, why);
		return ERR_INVAL;
	}
	nholes = msix_holes(f, bar, holes);
	err = vm_map_mmio(&p->vm, f->bar[bar].base, f->bar[bar].size, holes, nholes, va);
	if (err)
		return err;
	/* The firmware may have left decoding off: the driver's mapping needs it. */
	cfg_write(bdf, CFG_COMMAND, 2, cfg_read(bdf, CFG_COMMAND, 2) | CMD_MEMORY);
	*len = f->bar[bar].size;
	log_info("%s (pid %lu): %02x:%02x.%x BAR%u %#lx+%#lx mapped uncached at %#lx%s", p->name,
		 (unsigned long)p->pid, bdf >> 8, (bdf >> 3) & 31, bdf & 7, bar,
		 (unsigned long)f->bar[bar].base, (unsigned long)f->bar[bar].size,
		 (unsigned long)*va, nholes ? ", MSI-X pages held back" : "");
	return 0;
}

static bool overlaps(uint32_t off, uint32_t size, uint32_t start, uint32_t len)
{
	return off < start + len && start < off + size;
}

static uint32_t msi_len(const struct pci_function *f)
{
	uint32_t ctl = cfg_read(f->bdf, f->msi_cap + 2, 2);

	return 10 + ((ctl & MSI_CTL_64) ? 4 : 0) + ((ctl & MSI_CTL_MASKING) ? 10 : 0);
}

const char *pci_config_write_refused(uint32_t bdf, uint32_t offset, uint32_t size)
{
	const struct pci_function *f = pci_find(bdf);

	if (overlaps(offset, size, CFG_BAR0, CFG_HEADER_END - CFG_BAR0))
		return "BARs, windows, ROM and interrupt line are the firmware's";
	if (f && f->msi_cap && overlaps(offset, size, f->msi_cap, msi_len(f)))
		return "the MSI capability is the kernel's";
	if (f && f->msix_cap && overlaps(offset, size, f->msix_cap, MSIX_LEN))
		return "the MSI-X capability is the kernel's";
	return NULL;
}

bool pci_bus_master_allowed(const struct proc *p, uint32_t bdf, uint32_t offset, uint32_t size,
			    uint32_t value)
{
	const struct pci_function *f = pci_find(bdf);
	char b[8];

	/* A malformed write is arch_pci_write's to refuse; only one covering
	 * the command register's low byte can set the bit. */
	if ((size != 1 && size != 2 && size != 4) || offset > CFG_COMMAND ||
	    offset + size <= CFG_COMMAND)
		return true;
	if (!((value >> ((CFG_COMMAND - offset) * 8)) & CMD_MASTER))
		return true;
	if (f && (f->header != 0 || f->owner == p->config))
		return true;
	log_warn("%s (pid %lu): bus mastering of %s refused: %s", p->name, (unsigned long)p->pid,
		 pci_bdf_str(bdf, b), f && f->owner ? "another line drives it" : "no line drives it");
	return false;
}

void pci_owner_died(const struct program_config *c)
{
	for (int i = 0; i < nfunctions; i++)
		if (functions[i].owner == c)
			set_master(&functions[i], false);
}

// SPDX-License-Identifier: MIT
/* PCI functions and their drivers (model in pci.h). */
#include "pci.h"

#include <ferry/err.h>
#include <fmt.h>

#include "arch/arch.h"
#include "log.h"
#include "policy.h"
#include "proc/proc.h"

#define PCI_ID			0x00
#define PCI_COMMAND		0x04
#define PCI_CLASS		0x08	/* revision, progif, subclass, class */
#define PCI_HEADER		0x0E
#define PCI_SECONDARY_BUS	0x19
#define PCI_CMD_MASTER		0x04
#define PCI_CLASS_BRIDGE	0x06
#define PCI_DEPTH_MAX		4	/* bridges below bridges followed */

static struct pci_func funcs[PCI_FUNCS_MAX];
static int nfuncs;

static uint32_t cfg_read(uint8_t bus, uint8_t devfn, uint32_t offset, uint32_t size)
{
	uint32_t v = 0;

	arch_pci_read(PCI_BDF(bus, devfn), offset, size, &v);
	return v;
}

const char *pci_bdf_str(uint32_t bdf, char *buf)
{
	snprintf(buf, 8, "%02x:%02x.%x", (bdf >> 8) & 0xff, (bdf >> 3) & 31, bdf & 7);
	return buf;
}

static void scan_bus(uint8_t bus, int depth);

static void add_func(uint8_t bus, uint8_t devfn, int depth)
{
	uint32_t id = cfg_read(bus, devfn, PCI_ID, 4), cls = cfg_read(bus, devfn, PCI_CLASS, 4);
	struct pci_func *f;

	if (nfuncs == PCI_FUNCS_MAX) {
		log_warn("pci: more than %d functions: %02x:%02x.%x and later ignored",
			 PCI_FUNCS_MAX, bus, devfn >> 3, devfn & 7);
		return;
	}
	f = &funcs[nfuncs++];
	*f = (struct pci_func){
		.bus = bus, .devfn = devfn, .vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
		.class_code = (uint8_t)(cls >> 24), .subclass = (uint8_t)(cls >> 16),
		.progif = (uint8_t)(cls >> 8),
		.bridge = (cls >> 24) == PCI_CLASS_BRIDGE,
	};
	/* A PCI-to-PCI bridge (header type 1): what is behind it, once. */
	if ((cfg_read(bus, devfn, PCI_HEADER, 1) & 0x7f) == 1 && depth < PCI_DEPTH_MAX) {
		uint8_t sec = (uint8_t)cfg_read(bus, devfn, PCI_SECONDARY_BUS, 1);

		if (sec > bus)	/* firmware numbers downwards; anything else is a loop */
			scan_bus(sec, depth + 1);
	}
}

static void scan_bus(uint8_t bus, int depth)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint8_t nfn = 1;

		if ((uint16_t)cfg_read(bus, (uint8_t)(dev << 3), PCI_ID, 2) == 0xFFFF)
			continue;
		if (cfg_read(bus, (uint8_t)(dev << 3), PCI_HEADER, 1) & 0x80)
			nfn = 8;
		for (uint8_t fn = 0; fn < nfn; fn++)
			if ((uint16_t)cfg_read(bus, (uint8_t)(dev << 3 | fn), PCI_ID, 2) != 0xFFFF)
				add_func(bus, (uint8_t)(dev << 3 | fn), depth);
	}
}

/* The first configured program with a `device=` matching f. */
static const struct program_config *owner_of(const struct pci_func *f)
{
	const struct boot_config *bc = policy_all();

	for (int i = 0; i < bc->nprogs; i++)
		for (int k = 0; k < bc->prog[i].ndevices; k++)
			if (config_device_matches(&bc->prog[i].devices[k], f->vendor, f->device,
						  f->class_code, f->subclass))
				return &bc->prog[i];
	return NULL;
}

static void set_master(const struct pci_func *f, bool on)
{
	uint32_t cmd = cfg_read(f->bus, f->devfn, PCI_COMMAND, 2);
	uint32_t want = on ? cmd | PCI_CMD_MASTER : cmd & ~(uint32_t)PCI_CMD_MASTER;

	if (want != cmd)
		arch_pci_write(PCI_BDF(f->bus, f->devfn), PCI_COMMAND, 2, want);
}

void pci_init(void)
{
	char b[8];

	scan_bus(0, 0);
	for (int i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i];

		f->owner = f->bridge ? NULL : owner_of(f);
		if (!f->bridge && !f->owner)
			set_master(f, false);
		log_info("pci: %s %04x:%04x class %02x:%02x%s%s", pci_bdf_str(PCI_BDF(f->bus, f->devfn), b),
			 f->vendor, f->device, f->class_code, f->subclass,
			 f->owner ? ", given to " : f->bridge ? ", bridge" : ", nobody's: bus mastering off",
			 f->owner ? f->owner->name : "");
	}
}

int pci_count(void)
{
	return nfuncs;
}

const struct pci_func *pci_func_at(int i)
{
	return i >= 0 && i < nfuncs ? &funcs[i] : NULL;
}

const struct pci_func *pci_find(uint32_t bdf)
{
	for (int i = 0; i < nfuncs; i++)
		if (PCI_BDF(funcs[i].bus, funcs[i].devfn) == bdf)
			return &funcs[i];
	return NULL;
}

long pci_write_allowed(const struct proc *p, uint32_t bdf, uint32_t offset, uint32_t size,
		       uint32_t value)
{
	const struct pci_func *f = pci_find(bdf);
	char b[8];

	/* A malformed write is arch_pci_write's to refuse; only one covering
	 * the command register's low byte can set the bit. */
	if ((size != 1 && size != 2 && size != 4) || offset > PCI_COMMAND || offset + size <= PCI_COMMAND)
		return 0;
	if (!((value >> ((PCI_COMMAND - offset) * 8)) & PCI_CMD_MASTER))
		return 0;
	if (f && (f->bridge || f->owner == p->config))
		return 0;
	log_warn("%s (pid %lu): bus mastering of %s refused: the boot configuration gives it %s",
		 p->name, (unsigned long)p->pid, pci_bdf_str(bdf, b),
		 f && f->owner ? f->owner->name : "to nobody");
	return ERR_PERM;
}

void pci_owner_died(const struct program_config *c)
{
	for (int i = 0; i < nfuncs; i++)
		if (funcs[i].owner == c)
			set_master(&funcs[i], false);
}

// SPDX-License-Identifier: MIT
/*
 * Intel VT-d (Virtualization Technology for Directed I/O, spec rev. 3):
 * the registers, the root and context tables, second-level page tables,
 * invalidation and fault records.  Legacy (not scalable) mode only.
 *
 * Ordering rules the code keeps:
 *   - a table entry is written (and, on a unit that does not snoop the
 *     CPU caches, written back) before the unit is told about it;
 *   - the root table is set before translation is enabled, and the context
 *     cache and IOTLB are invalidated globally between the two;
 *   - once the invalidation queue is on, the register interface
 *     (CCMD, IOTLB) must not be used any more;
 *   - an invalidation is complete only when the unit says so (IVT clear,
 *     or the wait descriptor's status written): vtd_invalidate() returns
 *     only then.  Drain bits are set when the unit has them, so DMA
 *     translated with the old entries is finished too.
 */
#include "vtd.h"

#include <ferry/err.h>
#include <fmt.h>
#include <string.h>

#include "../arch/arch.h"
#include "../log.h"
#include "../mm/pmm.h"
#include "../panic.h"

/* Registers (offsets into a unit's page). */
#define REG_VER		0x00
#define REG_CAP		0x08
#define REG_ECAP	0x10
#define REG_GCMD	0x18
#define REG_GSTS	0x1C
#define REG_RTADDR	0x20
#define REG_CCMD	0x28
#define REG_FSTS	0x34
#define REG_FECTL	0x38
#define REG_FEDATA	0x3C
#define REG_FEADDR	0x40
#define REG_FEUADDR	0x44
#define REG_IQH		0x80
#define REG_IQT		0x88
#define REG_IQA		0x90

#define CAP_ND(c)	((c) & 7)
#define CAP_RWBF	(1ULL << 4)
#define CAP_CM		(1ULL << 7)
#define CAP_SAGAW(c)	(((c) >> 8) & 0x1f)
#define CAP_MGAW(c)	((((c) >> 16) & 0x3f) + 1)
#define CAP_FRO(c)	((((c) >> 24) & 0x3ff) * 16)
#define CAP_PSI		(1ULL << 39)
#define CAP_NFR(c)	((((c) >> 40) & 0xff) + 1)
#define CAP_MAMV(c)	(((c) >> 48) & 0x3f)
#define CAP_DWD		(1ULL << 54)
#define CAP_DRD		(1ULL << 55)
#define ECAP_C		(1ULL << 0)
#define ECAP_QI		(1ULL << 1)
#define ECAP_IRO(e)	((((e) >> 8) & 0x3ff) * 16)

#define GCMD_TE		(1u << 31)
#define GCMD_SRTP	(1u << 30)
#define GCMD_WBF	(1u << 27)
#define GCMD_QIE	(1u << 26)
/* GSTS bits that are commands to keep, not one-shot actions (spec 10.4.4). */
#define GSTS_KEEP	0x96FFFFFFu
#define GSTS_TES	(1u << 31)
#define GSTS_RTPS	(1u << 30)
#define GSTS_WBFS	(1u << 27)
#define GSTS_QIES	(1u << 26)

#define CCMD_ICC	(1ULL << 63)
#define CCMD_GLOBAL	(1ULL << 61)
#define CCMD_DEVICE	(3ULL << 61)
#define CCMD_CAIG(v)	(((v) >> 59) & 3)

#define IOTLB_IVT	(1ULL << 63)
#define IOTLB_GLOBAL	(1ULL << 60)
#define IOTLB_DSI	(2ULL << 60)
#define IOTLB_PSI	(3ULL << 60)
#define IOTLB_IAIG(v)	(((v) >> 57) & 3)
#define IOTLB_DR	(1ULL << 49)
#define IOTLB_DW	(1ULL << 48)

#define FSTS_PFO	(1u << 0)
#define FSTS_PPF	(1u << 1)
#define FSTS_IQE	(1u << 4)
#define FSTS_FRI(f)	(((f) >> 8) & 0xff)
#define FECTL_IM	(1u << 31)
#define FRCD_F		(1ULL << 63)
#define FRCD_T		(1ULL << 62)	/* 1: a read */

/* Table entries. */
#define ENTRY_P		1ULL
#define SL_R		1ULL
#define SL_W		2ULL
#define SL_ADDR		0x000FFFFFFFFFF000ULL

/* Queued invalidation descriptors (128-bit). */
#define QI_ENTRIES	256	/* one page */
#define QI_IOTLB	2ULL
#define QI_WAIT		5ULL
#define QI_IOTLB_PAGE	(3ULL << 4)
#define QI_IOTLB_DSI	(2ULL << 4)
#define QI_IOTLB_DW	(1ULL << 6)
#define QI_IOTLB_DR	(1ULL << 7)
#define QI_WAIT_SW	(1ULL << 5)

#define WAIT_SPINS	10000000u	/* a register or status that never settles */
#define CONTEXT_BUSES	256

struct unit {
	uint64_t base;
	volatile uint8_t *regs;
	uint64_t cap, ecap;
	int levels;		/* 3 (39-bit) or 4 (48-bit) second-level tables */
	unsigned iotlb;		/* offset of IVA; IOTLB is 8 further */
	unsigned fro, nfr;
	bool coherent, psi, qi;
	uint64_t *root;		/* 256 root entries of 2 words */
	uint64_t *context[CONTEXT_BUSES];	/* 256 context entries of 2 words */
	uint64_t *queue;	/* QI_ENTRIES descriptors of 2 words */
	unsigned tail;
};

static struct unit units[DMAR_UNITS_MAX];
static int nunits;
static enum iommu_inval inval_mode;
static int pt_levels;		/* what every unit supports: the domains' tables */
static volatile uint32_t qi_status;	/* wait descriptors write here */
static uint32_t qi_seq;
static struct vtd_counts counts;

/* --- registers --- */

static uint32_t rd32(struct unit *u, unsigned off)
{
	counts.mmio_reads++;
	return *(volatile uint32_t *)(u->regs + off);
}

static uint64_t rd64(struct unit *u, unsigned off)
{
	counts.mmio_reads++;
	return *(volatile uint64_t *)(u->regs + off);
}

static void wr32(struct unit *u, unsigned off, uint32_t v)
{
	counts.mmio_writes++;
	*(volatile uint32_t *)(u->regs + off) = v;
}

static void wr64(struct unit *u, unsigned off, uint64_t v)
{
	counts.mmio_writes++;
	*(volatile uint64_t *)(u->regs + off) = v;
}

/* Spins until (reg & mask) == want.  => 0, or -1 after WAIT_SPINS reads. */
static int wait32(struct unit *u, unsigned off, uint32_t mask, uint32_t want)
{
	for (unsigned i = 0; i < WAIT_SPINS; i++) {
		if ((rd32(u, off) & mask) == want)
			return 0;
		counts.wait_spins++;
	}
	log_err("vtd: unit at %#lx: register %#x never reached %#x (mask %#x)",
		(unsigned long)u->base, off, want, mask);
	return -1;
}

static int wait64_clear(struct unit *u, unsigned off, uint64_t bit)
{
	for (unsigned i = 0; i < WAIT_SPINS; i++) {
		if (!(rd64(u, off) & bit))
			return 0;
		counts.wait_spins++;
	}
	log_err("vtd: unit at %#lx: register %#x bit %#lx never cleared", (unsigned long)u->base,
		off, (unsigned long)bit);
	return -1;
}

/* One global command: the kept bits, plus cmd; then its status bit. */
static int gcmd(struct unit *u, uint32_t cmd, uint32_t status_bit, bool on)
{
	uint32_t keep = rd32(u, REG_GSTS) & GSTS_KEEP;

	wr32(u, REG_GCMD, on ? keep | cmd : keep & ~cmd);
	return wait32(u, REG_GSTS, status_bit, on ? status_bit : 0);
}

/* A table entry the unit reads from memory: out of the CPU caches if it does not snoop. */
static void publish(struct unit *u, const void *p, size_t n)
{
	if (!u->coherent)
		arch_cache_writeback(p, n);
}

static void flush_write_buffer(struct unit *u)
{
	if (u->cap & CAP_RWBF)
		gcmd(u, GCMD_WBF, GSTS_WBFS, false);	/* WBFS reads 0 when done */
}

/* --- bring-up --- */

static int map_unit(struct unit *u, const struct dmar_unit *d, const char **why)
{
	size_t len;

	u->base = d->base;
	u->regs = arch_map_phys(d->base, PAGE_SIZE, VM_READ | VM_WRITE | VM_UNCACHED);
	*why = "its registers cannot be mapped";
	if (!u->regs)
		return -1;
	u->cap = rd64(u, REG_CAP);
	u->ecap = rd64(u, REG_ECAP);
	u->iotlb = ECAP_IRO(u->ecap);
	u->fro = CAP_FRO(u->cap);
	u->nfr = CAP_NFR(u->cap);
	len = u->fro + 16 * u->nfr;
	if (u->iotlb + 16 > len)
		len = u->iotlb + 16;
	*why = "its register set is larger than Ferry maps (4 pages)";
	if (len > 4 * PAGE_SIZE)
		return -1;
	if (len > PAGE_SIZE)
		u->regs = arch_map_phys(d->base, len, VM_READ | VM_WRITE | VM_UNCACHED);
	*why = "its registers cannot be mapped";
	return u->regs ? 0 : -1;
}

static int check_unit(struct unit *u, const char **why)
{
	uint32_t sagaw = (uint32_t)CAP_SAGAW(u->cap);

	*why = "reads as all ones (no unit there)";
	if (rd32(u, REG_VER) == 0xFFFFFFFFu)
		return -1;
	*why = "supports neither 3- nor 4-level second-level tables";
	if (!(sagaw & 6))
		return -1;
	u->levels = (sagaw & 2) ? 3 : 4;
	*why = "addresses fewer than 32 bits of I/O virtual address";
	if (CAP_MGAW(u->cap) < 32)
		return -1;
	*why = "has fewer domain ids than Ferry has domains";
	if ((1u << (4 + 2 * CAP_ND(u->cap))) <= IOMMU_DOMAINS_MAX)
		return -1;
	u->coherent = u->ecap & ECAP_C;
	u->psi = u->cap & CAP_PSI;
	u->qi = u->ecap & ECAP_QI;
	return 0;
}

static int invalidate_all_registers(struct unit *u)
{
	uint64_t v;

	wr64(u, REG_CCMD, CCMD_ICC | CCMD_GLOBAL);
	if (wait64_clear(u, REG_CCMD, CCMD_ICC))
		return -1;
	flush_write_buffer(u);
	wr64(u, u->iotlb + 8, IOTLB_IVT | IOTLB_GLOBAL);
	if (wait64_clear(u, u->iotlb + 8, IOTLB_IVT))
		return -1;
	v = rd64(u, u->iotlb + 8);
	return IOTLB_IAIG(v) ? 0 : -1;
}

static int start_queue(struct unit *u)
{
	paddr_t q = pmm_alloc_zeroed(FRAME_PAGETABLE);

	if (!q)
		return -1;
	u->queue = phys_to_virt(q);
	u->tail = 0;
	wr64(u, REG_IQT, 0);
	wr64(u, REG_IQA, q);	/* QS 0: one page, 256 descriptors of 128 bits */
	return gcmd(u, GCMD_QIE, GSTS_QIES, true);
}

static int start_unit(struct unit *u, const char **why)
{
	paddr_t root = pmm_alloc_zeroed(FRAME_PAGETABLE);

	*why = "no memory for its root table";
	if (!root)
		return -1;
	u->root = phys_to_virt(root);
	publish(u, u->root, PAGE_SIZE);
	*why = "translation was on and would not turn off";
	if ((rd32(u, REG_GSTS) & GSTS_TES) && gcmd(u, GCMD_TE, GSTS_TES, false))
		return -1;
	*why = "did not take the root table";
	wr64(u, REG_RTADDR, root);	/* legacy mode: RTT (bit 11) clear */
	if (gcmd(u, GCMD_SRTP, GSTS_RTPS, true))
		return -1;
	*why = "did not complete the first invalidation";
	if (invalidate_all_registers(u))
		return -1;
	/* The fault event stays masked until vtd_fault_interrupt() has
	 * somewhere to send it (a local APIC); till then faults are polled. */
	wr32(u, REG_FECTL, FECTL_IM);
	wr32(u, REG_FSTS, FSTS_PFO | FSTS_IQE);
	return 0;
}

/* The depth every unit supports (3 levels preferred): the domains' tables are shared. */
static int common_levels(void)
{
	uint32_t all = 0x1f;

	for (int i = 0; i < nunits; i++)
		all &= (uint32_t)CAP_SAGAW(units[i].cap);
	return (all & 2) ? 3 : (all & 4) ? 4 : 0;
}

int vtd_init(const struct dmar_info *d, enum iommu_inval mode, const char **why)
{
	inval_mode = mode;
	for (int i = 0; i < d->nunits; i++) {
		struct unit *u = &units[i];

		*why = "a remapping unit for a PCI segment other than 0";
		if (d->unit[i].segment != 0)
			return -1;
		if (map_unit(u, &d->unit[i], why) || check_unit(u, why))
			return -1;
		*why = "iommu_inval=queue, but a unit has no invalidation queue";
		if (mode == IOMMU_INVAL_QUEUE && !u->qi)
			return -1;
		nunits++;
	}
	pt_levels = common_levels();
	*why = "the units support no common page-table depth";
	if (!pt_levels)
		return -1;
	for (int i = 0; i < nunits; i++)
		if (start_unit(&units[i], why))
			return -1;
	return 0;
}

int vtd_units(void)
{
	return nunits;
}

enum iommu_inval vtd_inval_mode(void)
{
	return inval_mode;
}

void vtd_describe(int i, char *buf, size_t size)
{
	struct unit *u = &units[i];
	uint32_t ver = rd32(u, REG_VER);

	snprintf(buf, size,
		 "unit %d at %#lx: VT-d %u.%u, %d-level tables, %u-bit addresses, %u fault records,"
		 " %s invalidation%s%s%s", i, (unsigned long)u->base, (ver >> 4) & 15, ver & 15,
		 pt_levels, (unsigned)CAP_MGAW(u->cap), u->nfr, u->psi ? "page-selective" : "domain",
		 u->qi ? ", queue" : "", u->coherent ? "" : ", not coherent",
		 (u->cap & CAP_CM) ? ", caching mode" : "");
}

/* --- second-level page tables --- */

int vtd_pt_init(struct vtd_pt *pt)
{
	paddr_t root = pmm_alloc_zeroed(FRAME_PAGETABLE);

	if (!root)
		return ERR_NOMEM;
	pt->root = root;
	pt->leaves = 0;
	return 0;
}

static void publish_all(const void *p, size_t n)
{
	for (int i = 0; i < nunits; i++)
		if (!units[i].coherent) {
			arch_cache_writeback(p, n);
			return;
		}
}

/* The leaf entry for iova, with tables made on the way when create. */
static uint64_t *leaf(paddr_t root, uint64_t iova, bool create)
{
	uint64_t *table = phys_to_virt(root);

	for (int level = pt_levels; level > 1; level--) {
		uint64_t *e = &table[(iova >> (12 + 9 * (level - 1))) & 511];

		if (!(*e & (SL_R | SL_W))) {
			paddr_t next = create ? pmm_alloc_zeroed(FRAME_PAGETABLE) : 0;

			if (!next)
				return NULL;
			publish_all(phys_to_virt(next), PAGE_SIZE);
			/* Permissions stack down the walk: the leaf decides. */
			*e = next | SL_R | SL_W;
			publish_all(e, sizeof(*e));
		}
		table = phys_to_virt(*e & SL_ADDR);
	}
	return &table[(iova >> 12) & 511];
}

int vtd_pt_prepare(struct vtd_pt *pt, uint64_t iova, uint64_t len)
{
	for (uint64_t a = iova; a < iova + len; a += 512 * PAGE_SIZE)
		if (!leaf(pt->root, a, true))
			return ERR_NOMEM;
	return 0;
}

int vtd_pt_map(struct vtd_pt *pt, uint64_t iova, paddr_t pa, unsigned perm)
{
	uint64_t *e = leaf(pt->root, iova, true);

	if (!e)
		return ERR_NOMEM;
	if (!*e)
		pt->leaves++;
	*e = pa | ((perm & VTD_PERM_READ) ? SL_R : 0) | ((perm & VTD_PERM_WRITE) ? SL_W : 0);
	publish_all(e, sizeof(*e));
	return 0;
}

void vtd_pt_unmap(struct vtd_pt *pt, uint64_t iova)
{
	uint64_t *e = leaf(pt->root, iova, false);

	if (!e || !*e)
		return;
	*e = 0;
	pt->leaves--;
	publish_all(e, sizeof(*e));
}

/* Entries of iova's leaf table from iova's on, at most n. */
static int leaf_run(uint64_t iova, int n)
{
	int left = 512 - (int)((iova >> 12) & 511);

	return left < n ? left : n;
}

int vtd_pt_map_run(struct vtd_pt *pt, uint64_t iova, const paddr_t *frames, int n,
		   unsigned perm)
{
	uint64_t bits = ((perm & VTD_PERM_READ) ? SL_R : 0) | ((perm & VTD_PERM_WRITE) ? SL_W : 0);

	for (int i = 0, k; i < n; i += k) {
		uint64_t a = iova + (uint64_t)i * PAGE_SIZE, *e = leaf(pt->root, a, true);

		if (!e)
			return ERR_NOMEM;
		k = leaf_run(a, n - i);
		for (int j = 0; j < k; j++) {
			pt->leaves += !e[j];
			e[j] = frames[i + j] | bits;
		}
		publish_all(e, (size_t)k * sizeof(*e));
	}
	return 0;
}

void vtd_pt_unmap_run(struct vtd_pt *pt, uint64_t iova, int n)
{
	for (int i = 0, k; i < n; i += k) {
		uint64_t a = iova + (uint64_t)i * PAGE_SIZE, *e = leaf(pt->root, a, false);

		k = leaf_run(a, n - i);
		for (int j = 0; e && j < k; j++) {
			pt->leaves -= !!e[j];
			e[j] = 0;
		}
		if (e)
			publish_all(e, (size_t)k * sizeof(*e));
	}
}

static void walk(uint64_t *table, int level, uint64_t base,
		 void (*fn)(uint64_t iova, paddr_t pa, unsigned perm, void *ctx), void *ctx)
{
	for (int i = 0; i < 512; i++) {
		uint64_t e = table[i], iova = base + ((uint64_t)i << (12 + 9 * (level - 1)));

		if (!(e & (SL_R | SL_W)))
			continue;
		if (level > 1)
			walk(phys_to_virt(e & SL_ADDR), level - 1, iova, fn, ctx);
		else
			fn(iova, e & SL_ADDR, ((e & SL_R) ? VTD_PERM_READ : 0) |
			   ((e & SL_W) ? VTD_PERM_WRITE : 0), ctx);
	}
}

void vtd_pt_walk(const struct vtd_pt *pt,
		 void (*fn)(uint64_t iova, paddr_t pa, unsigned perm, void *ctx), void *ctx)
{
	walk(phys_to_virt(pt->root), pt_levels, 0, fn, ctx);
}

bool vtd_pt_query(const struct vtd_pt *pt, uint64_t iova, paddr_t *pa, unsigned *perm)
{
	uint64_t *e = leaf(pt->root, iova, false);

	if (!e || !(*e & (SL_R | SL_W)))
		return false;
	*pa = *e & SL_ADDR;
	*perm = ((*e & SL_R) ? VTD_PERM_READ : 0) | ((*e & SL_W) ? VTD_PERM_WRITE : 0);
	return true;
}

/* --- context entries --- */

int vtd_attach(int i, uint8_t bus, uint8_t devfn, const struct vtd_pt *pt, uint16_t did)
{
	struct unit *u = &units[i];
	uint64_t *ce;

	if (!u->context[bus]) {
		paddr_t ct = pmm_alloc_zeroed(FRAME_PAGETABLE);

		if (!ct)
			return ERR_NOMEM;
		u->context[bus] = phys_to_virt(ct);
		publish(u, u->context[bus], PAGE_SIZE);
		u->root[2 * bus] = ct | ENTRY_P;
		publish(u, &u->root[2 * bus], 16);
	}
	ce = &u->context[bus][2 * devfn];
	/* hi: address width (1: 39-bit, 3 levels; 2: 48-bit, 4) and domain id;
	 * lo: the table, translation type 0 (untranslated requests only), present. */
	ce[1] = (uint64_t)(pt_levels - 2) | (uint64_t)did << 8;
	ce[0] = pt->root | ENTRY_P;
	publish(u, ce, 16);
	return 0;
}

int vtd_enable(const char **why)
{
	for (int i = 0; i < nunits; i++) {
		struct unit *u = &units[i];

		/* The context entries were written after the first global
		 * invalidation: the unit may have cached them as absent.  The
		 * queue starts after it: from then on the registers are off limits. */
		if (invalidate_all_registers(u)) {
			*why = "did not invalidate its caches before translation";
			return -1;
		}
		if (inval_mode == IOMMU_INVAL_QUEUE && start_queue(u)) {
			*why = "did not start its invalidation queue";
			return -1;
		}
		if (gcmd(u, GCMD_TE, GSTS_TES, true)) {
			*why = "did not turn translation on";
			return -1;
		}
	}
	return 0;
}

/* --- invalidation --- */

/* Register interface: one page-selective invalidation (or a domain-wide
 * one when the unit has none, or the range is too big for its mask). */
static int inval_register(struct unit *u, uint16_t did, uint64_t iova, unsigned am)
{
	uint64_t drain = ((u->cap & CAP_DRD) ? IOTLB_DR : 0) | ((u->cap & CAP_DWD) ? IOTLB_DW : 0);
	uint64_t cmd = IOTLB_IVT | drain | (uint64_t)did << 32;

	flush_write_buffer(u);
	if (u->psi && am <= CAP_MAMV(u->cap)) {
		wr64(u, u->iotlb, iova | am);
		cmd |= IOTLB_PSI;
	} else {
		cmd |= IOTLB_DSI;
	}
	wr64(u, u->iotlb + 8, cmd);
	counts.invalidations++;
	cost_iotlb_invalidated();
	if (wait64_clear(u, u->iotlb + 8, IOTLB_IVT))
		return -1;
	return IOTLB_IAIG(rd64(u, u->iotlb + 8)) ? 0 : -1;
}

static void queue_put(struct unit *u, uint64_t lo, uint64_t hi)
{
	u->queue[2 * u->tail] = lo;
	u->queue[2 * u->tail + 1] = hi;
	publish(u, &u->queue[2 * u->tail], 16);
	u->tail = (u->tail + 1) % QI_ENTRIES;
}

/* Queue: the page descriptors, a wait descriptor, one tail write, then
 * spin until the unit has written the wait's status. */
static int inval_queue(struct unit *u, uint16_t did, uint64_t iova, int npages)
{
	uint64_t drain = ((u->cap & CAP_DRD) ? QI_IOTLB_DR : 0) |
			 ((u->cap & CAP_DWD) ? QI_IOTLB_DW : 0);
	uint32_t seq = ++qi_seq;

	KASSERT(npages < QI_ENTRIES - 1);
	for (int i = 0; i < npages; i++) {
		if (u->psi)
			queue_put(u, QI_IOTLB | QI_IOTLB_PAGE | drain | (uint64_t)did << 16,
				  iova + (uint64_t)i * PAGE_SIZE);
		else if (i == 0)
			queue_put(u, QI_IOTLB | QI_IOTLB_DSI | drain | (uint64_t)did << 16, 0);
	}
	queue_put(u, QI_WAIT | QI_WAIT_SW | (uint64_t)seq << 32, virt_to_phys((void *)&qi_status));
	wr64(u, REG_IQT, (uint64_t)u->tail << 4);
	counts.invalidations++;
	cost_iotlb_invalidated();
	for (unsigned i = 0; i < WAIT_SPINS; i++) {
		if (qi_status == seq)
			return 0;
		if (rd32(u, REG_FSTS) & FSTS_IQE)
			break;
		counts.wait_spins++;
	}
	log_err("vtd: unit at %#lx: invalidation queue %s", (unsigned long)u->base,
		(rd32(u, REG_FSTS) & FSTS_IQE) ? "error (IQE)" : "never completed");
	return -1;
}

/* The smallest address mask covering npages pages at iova (aligned by the caller). */
static unsigned mask_for(int npages)
{
	unsigned am = 0;

	while ((1 << am) < npages)
		am++;
	return am;
}

int vtd_invalidate(uint32_t unit_mask, uint16_t did, uint64_t iova, int npages)
{
	int err = 0;

	for (int i = 0; i < nunits; i++) {
		struct unit *u = &units[i];

		if (!(unit_mask & (1u << i)))
			continue;
		if (inval_mode == IOMMU_INVAL_QUEUE) {
			err |= inval_queue(u, did, iova, npages);
		} else if (inval_mode == IOMMU_INVAL_WINDOW) {
			KASSERT(!(iova & (((uint64_t)PAGE_SIZE << mask_for(npages)) - 1)));
			err |= inval_register(u, did, iova, mask_for(npages));
		} else {
			for (int k = 0; k < npages; k++)
				err |= inval_register(u, did, iova + (uint64_t)k * PAGE_SIZE, 0);
		}
	}
	return err ? -1 : 0;
}

int vtd_invalidate_domain(uint32_t unit_mask, uint16_t did)
{
	int err = 0;

	for (int i = 0; i < nunits; i++) {
		struct unit *u = &units[i];

		if (!(unit_mask & (1u << i)))
			continue;
		if (inval_mode == IOMMU_INVAL_QUEUE) {
			queue_put(u, QI_IOTLB | QI_IOTLB_DSI | (uint64_t)did << 16, 0);
			err |= inval_queue(u, did, 0, 0);
		} else {
			err |= inval_register(u, did, 0, 64);	/* past any mask: domain-wide */
		}
	}
	return err ? -1 : 0;
}

bool vtd_caches_misses(void)
{
	for (int i = 0; i < nunits; i++)
		if (units[i].cap & CAP_CM)
			return true;
	return false;
}

/* --- faults --- */

static int unit_faults(struct unit *u, struct vtd_fault *out, int max, uint64_t *lost)
{
	uint32_t fsts = rd32(u, REG_FSTS);
	unsigned idx = FSTS_FRI(fsts);
	int n = 0;

	if (fsts & FSTS_PFO) {
		(*lost)++;
		wr32(u, REG_FSTS, FSTS_PFO);
	}
	if (!(fsts & FSTS_PPF))
		return 0;
	for (unsigned k = 0; k < u->nfr && n < max; k++, idx = (idx + 1) % u->nfr) {
		unsigned off = u->fro + 16 * idx;
		uint64_t hi = rd64(u, off + 8), lo;

		if (!(hi & FRCD_F))
			continue;
		lo = rd64(u, off);
		out[n++] = (struct vtd_fault){ .source = (uint16_t)hi, .address = lo & ~0xfffULL,
					       .write = !(hi & FRCD_T),
					       .reason = (uint8_t)(hi >> 32) };
		wr32(u, off + 12, 1u << 31);	/* F is write-1-to-clear */
	}
	return n;
}

void vtd_fault_interrupt(uint64_t addr, uint32_t data)
{
	for (int i = 0; i < nunits; i++) {
		struct unit *u = &units[i];

		wr32(u, REG_FEDATA, data);
		wr32(u, REG_FEADDR, (uint32_t)addr);
		wr32(u, REG_FEUADDR, (uint32_t)(addr >> 32));
		wr32(u, REG_FECTL, 0);	/* IM clear: the next fault record interrupts */
	}
}

int vtd_faults(struct vtd_fault *out, int max, uint64_t *lost)
{
	int n = 0;

	for (int i = 0; i < nunits && n < max; i++)
		n += unit_faults(&units[i], out + n, max - n, lost);
	return n;
}

const char *vtd_reason_text(uint8_t reason)
{
	static const char *const text[] = {
		[1] = "root entry not present",
		[2] = "context entry not present (device given to nobody)",
		[3] = "context entry invalid",
		[4] = "address beyond the address width",
		[5] = "write to an address not mapped writable",
		[6] = "read of an address not mapped readable",
		[7] = "page-table entry unreadable",
		[8] = "root table unreadable",
		[9] = "context table unreadable",
		[10] = "root entry reserved bits",
		[11] = "context entry reserved bits",
		[12] = "page-table entry reserved bits",
		[13] = "translation type blocked",
	};

	return reason < sizeof(text) / sizeof(text[0]) && text[reason] ? text[reason]
								   : "unknown reason";
}

const struct vtd_counts *vtd_counts(void)
{
	return &counts;
}

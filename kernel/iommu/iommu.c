// SPDX-License-Identifier: MIT
/*
 * Domains, device addresses and faults: the generic half of kernel/iommu
 * (the model is in iommu.h; the hardware is vtd.c).
 */
#include "iommu.h"

#include <ferry/abi.h>
#include <ferry/err.h>
#include <fmt.h>
#include <string.h>

#include "../acpi/acpi.h"
#include "../clock.h"
#include "../cmdline.h"
#include "../config.h"
#include "../log.h"
#include "../mm/pmm.h"
#include "../mm/vm.h"
#include "../msi.h"
#include "../panic.h"
#include "../pci.h"
#include "../policy.h"
#include "../proc/proc.h"
#include "vtd.h"

_Static_assert(IOMMU_WINDOW_PAGES == GRANT_MAX_PAGES, "a window holds the largest grant");
_Static_assert(IOMMU_WINDOW_BASE + (uint64_t)IOMMU_WINDOW_SLOTS * IOMMU_SLOT_PAGES * PAGE_SIZE <=
	       0x80000000UL, "device addresses stay below 2 GiB (32-bit bus masters)");
_Static_assert(IOMMU_DMA_BASE + IOMMU_DMA_SIZE <= IOMMU_WINDOW_BASE, "areas do not overlap");

#define IOMMU_WINDOWS_MAX	64	/* GRANT_MAX: every live grant may hold one */
#define IOMMU_BUFS_MAX		16	/* sys_dma_alloc buffers per domain */
#define DEVICES_MAX		8
#define FAULT_BATCH		8
#define PARKED_MAX		256	/* frames waiting for their driver's quiet */

struct window {
	uint64_t grant;			/* 0: free */
	int domain;
	unsigned slot;
	int npages;
	bool device_writes;
	bool faulted;
};

struct dma_buf {
	uint64_t iova;
	paddr_t pa;
	size_t pages;
};

struct domain {
	const struct program_config *owner;
	uint16_t did;			/* hardware domain id: index + 1 */
	uint64_t pid;			/* bound process, 0: none */
	struct vtd_pt pt;
	uint32_t units;			/* remapping units its devices are behind */
	int ndev;
	uint32_t dev[DEVICES_MAX];
	uint64_t slot_used[IOMMU_WINDOW_SLOTS / 64];
	unsigned slot_next;
	uint64_t dma_next;
	int nbufs;
	struct dma_buf buf[IOMMU_BUFS_MAX];
	bool warned_unbound;
	uint64_t maps, unmaps, invalidations, faults;
};

static bool translating;
static char status[160] = "not started";
static struct domain domains[IOMMU_DOMAINS_MAX];
static int ndomains;
static struct window windows[IOMMU_WINDOWS_MAX];
static struct iommu_fault_view fault_log[IOMMU_FAULT_LOG];
static unsigned fault_next;
/* The fault event's IRQ (-1: polled), and whether its handler runs now. */
static int fault_irq = -1;
static bool in_fault_interrupt;
static struct dmar_info dmar;
/* Frames a device may still write, waiting for its driver's word (see
 * iommu.h): by the driver's configuration line, so they outlive the
 * process, and work without a unit too. */
static struct {
	paddr_t frame;			/* 0: the slot is free */
	const struct program_config *owner;
	uint64_t grant;			/* whose transfer it waits for; 0: a DMA buffer */
} parked[PARKED_MAX];
static uint64_t parked_total;
/* Windows taken back while a transfer may still run (DMA-busy): a fault
 * there later is that transfer stopped, not a stray. */
#define GIVEN_UP_MAX	32
struct given_up {
	uint64_t grant;
	int domain;
	unsigned slot;
};
static struct given_up given_up[GIVEN_UP_MAX];
static unsigned given_up_next;

static void park(const struct program_config *owner, uint64_t grant, paddr_t frame,
		 enum frame_use use);
bool iommu_test_skip_invalidation, iommu_test_no_parking;

/* --- boot --- */

static int bridge_buses(void *ctx, uint8_t bus, uint8_t devfn, uint8_t *sec, uint8_t *sub)
{
	uint32_t hdr = 0, buses = 0;

	(void)ctx;
	if (arch_pci_read(PCI_BDF(bus, devfn), 0x0E, 1, &hdr) || (hdr & 0x7f) != 1)
		return -1;
	arch_pci_read(PCI_BDF(bus, devfn), 0x18, 4, &buses);
	*sec = (uint8_t)(buses >> 8);
	*sub = (uint8_t)(buses >> 16);
	return 0;
}

static const struct dmar_pci_ops pci_ops = { bridge_buses, NULL };

static enum iommu_inval inval_option(void)
{
	const char *v = cmdline_get("iommu_inval");

	if (!v || strcmp(v, "window") == 0)
		return IOMMU_INVAL_WINDOW;
	if (strcmp(v, "page") == 0)
		return IOMMU_INVAL_PAGE;
	if (strcmp(v, "queue") == 0)
		return IOMMU_INVAL_QUEUE;
	log_warn("iommu_inval=%s unknown (page, window, queue): using window", v);
	return IOMMU_INVAL_WINDOW;
}

static const char *inval_name(enum iommu_inval m)
{
	return m == IOMMU_INVAL_PAGE ? "page" : m == IOMMU_INVAL_QUEUE ? "queue" : "window";
}

static struct domain *domain_of_config(const struct program_config *c)
{
	for (int i = 0; i < ndomains; i++)
		if (domains[i].owner == c)
			return &domains[i];
	return NULL;
}

static int make_domain(const struct program_config *c)
{
	struct domain *d = &domains[ndomains];

	if (ndomains == IOMMU_DOMAINS_MAX) {
		log_warn("iommu: more than %d drivers with devices: %s gets no domain",
			 IOMMU_DOMAINS_MAX, c->name);
		return 0;
	}
	memset(d, 0, sizeof(*d));
	d->owner = c;
	d->did = (uint16_t)(ndomains + 1);	/* 0 is reserved in caching mode */
	d->dma_next = IOMMU_DMA_BASE;
	/* Every table of the window area now (half a MiB): a grant's map
	 * never allocates, and memory does not grow as the slots go round. */
	if (vtd_pt_init(&d->pt) ||
	    vtd_pt_prepare(&d->pt, IOMMU_WINDOW_BASE,
			   (uint64_t)IOMMU_WINDOW_SLOTS * IOMMU_SLOT_PAGES * PAGE_SIZE))
		return ERR_NOMEM;
	ndomains++;
	return 0;
}

/* Every function given to a driver, into that driver's domain. */
static int attach_devices(void)
{
	char b[8];

	for (int i = 0; i < pci_count(); i++) {
		const struct pci_function *f = pci_at(i);
		struct domain *d = f->owner ? domain_of_config(f->owner) : NULL;
		int unit;

		if (!d)
			continue;
		unit = acpi_dmar_unit_for(&dmar, 0, (uint8_t)(f->bdf >> 8), (uint8_t)f->bdf,
					  &pci_ops);
		if (unit < 0) {
			log_warn("iommu: %s (%s's) is behind no remapping unit: its DMA is untranslated",
				 pci_bdf_str(f->bdf, b), f->owner->name);
			continue;
		}
		if (d->ndev == DEVICES_MAX ||
		    vtd_attach(unit, (uint8_t)(f->bdf >> 8), (uint8_t)f->bdf, &d->pt, d->did))
			return ERR_NOMEM;
		d->dev[d->ndev++] = f->bdf;
		d->units |= 1u << unit;
	}
	return 0;
}

static int make_domains(void)
{
	const struct boot_config *bc = policy_all();

	for (int i = 0; i < bc->nprogs; i++)
		if (bc->prog[i].ndev && make_domain(&bc->prog[i]))
			return ERR_NOMEM;
	return attach_devices();
}

/* RMRRs name memory a device keeps using behind the OS's back (legacy USB,
 * graphics); Ferry drives no such device, and does not map them. */
static void report_rmrrs(void)
{
	for (int i = 0; i < dmar.nrmrr; i++)
		log_warn("iommu: RMRR %#lx-%#lx (%d devices) not mapped: Ferry drives no device that"
			 " needs one", (unsigned long)dmar.rmrr[i].base,
			 (unsigned long)dmar.rmrr[i].limit, dmar.rmrr[i].nscopes);
}

static void log_domains(void)
{
	char b[8], devs[64];

	for (int i = 0; i < ndomains; i++) {
		struct domain *d = &domains[i];
		size_t at = 0;

		devs[0] = '\0';
		for (int k = 0; k < d->ndev; k++)
			at += (size_t)snprintf(devs + at, sizeof(devs) - at, " %s",
					       pci_bdf_str(d->dev[k], b));
		log_info("iommu: domain %d for %s:%s", d->did, d->owner->name,
			 d->ndev ? devs : " no device found");
	}
}

/* => NULL when translating; else why not, for the status line. */
static const char *start(void)
{
	const struct acpi_header *h;
	const char *why;

	if (cmdline_get("iommu") && strcmp(cmdline_get("iommu"), "off") == 0)
		return "off (iommu=off)";
	h = acpi_table("DMAR");
	if (!h)
		return "none (no usable DMAR table)";
	if (acpi_dmar_parse(h, h->length, &dmar, &why)) {
		log_warn("iommu: DMAR refused: %s", why);
		return "none (the DMAR table was refused)";
	}
	if (vtd_init(&dmar, inval_option(), &why)) {
		log_warn("iommu: remapping unit not used: %s", why);
		return "none (the remapping unit was refused)";
	}
	if (make_domains())
		return "none (out of memory for its tables)";
	if (vtd_enable(&why)) {
		log_err("iommu: %s", why);
		return "none (translation did not start)";
	}
	return NULL;
}

void iommu_init(void)
{
	const char *test = cmdline_get("iommu_test");
	const char *why = start();
	char unit[160];

	if (why) {
		snprintf(status, sizeof(status), "%s: device DMA is trusted", why);
		log_info("iommu: %s", status);
		return;
	}
	translating = true;
	iommu_test_skip_invalidation = test && strcmp(test, "stale") == 0;
	iommu_test_no_parking = test && strcmp(test, "nopark") == 0;
	report_rmrrs();
	for (int i = 0; i < vtd_units(); i++) {
		vtd_describe(i, unit, sizeof(unit));
		log_info("iommu: %s", unit);
	}
	log_domains();
	snprintf(status, sizeof(status), "translating: %d unit%s, %d domain%s, invalidation %s%s",
		 vtd_units(), vtd_units() > 1 ? "s" : "", ndomains, ndomains == 1 ? "" : "s",
		 inval_name(vtd_inval_mode()),
		 iommu_test_skip_invalidation ? ", TEST: take-back skips the invalidation" : "");
	log_info("iommu: %s", status);
	if (iommu_test_skip_invalidation)
		log_warn("iommu: iommu_test=stale: stale DMA can land in frames that changed hands");
	if (iommu_test_no_parking)
		log_warn("iommu: iommu_test=nopark: frames of given-up transfers are freed at once");
}

static void fault_interrupt(void)
{
	in_fault_interrupt = true;
	iommu_fault_event();
	in_fault_interrupt = false;
}

void iommu_fault_irq_init(void)
{
	const char *test = cmdline_get("iommu_test");
	uint64_t addr;
	uint32_t data;

	if (!translating)
		return;
	if (test && strcmp(test, "noirq") == 0) {
		log_warn("iommu: iommu_test=noirq: fault events stay masked, faults are polled");
		return;
	}
	fault_irq = msi_alloc_kernel("iommu fault event", fault_interrupt, 0, &addr, &data);
	if (fault_irq < 0) {
		log_info("iommu: fault events polled: no message interrupt for them");
		return;
	}
	vtd_fault_interrupt(addr, data);
	log_info("iommu: fault events by message interrupt: IRQ %d on CPU 0", fault_irq);
	snprintf(status + strlen(status), sizeof(status) - strlen(status),
		 ", fault events by interrupt");
}

void iommu_fault_poll(void)
{
	if (fault_irq < 0)
		iommu_fault_event();
}

bool iommu_translating(void)
{
	return translating;
}

const char *iommu_status(void)
{
	return status;
}

void iommu_counts(struct iommu_counts *out)
{
	const struct vtd_counts *c = vtd_counts();

	*out = (struct iommu_counts){ c->mmio_reads, c->mmio_writes, c->invalidations,
				      c->wait_spins, parked_total };
}

/* --- domains and processes --- */

/* p's domain, bound to p on first use; NULL if it has none or another
 * process of its line holds it. */
static struct domain *domain_of(const struct proc *p)
{
	struct domain *d = translating && p ? domain_of_config(p->config) : NULL;

	if (!d)
		return NULL;
	if (d->pid == 0)
		d->pid = p->pid;
	if (d->pid == p->pid)
		return d;
	if (!d->warned_unbound)
		log_warn("iommu: %s (pid %lu) gets no device domain: pid %lu holds %s's",
			 p->name, (unsigned long)p->pid, (unsigned long)d->pid, d->owner->name);
	d->warned_unbound = true;
	return NULL;
}

static uint64_t slot_iova(unsigned slot)
{
	return IOMMU_WINDOW_BASE + (uint64_t)slot * IOMMU_SLOT_PAGES * PAGE_SIZE;
}

/* The next free slot after the last one taken: an ended window's
 * addresses are the last to be used again. */
static unsigned take_slot(struct domain *d)
{
	for (unsigned n = 0; n < IOMMU_WINDOW_SLOTS; n++) {
		unsigned s = (d->slot_next + n) % IOMMU_WINDOW_SLOTS;

		if (!(d->slot_used[s / 64] & (1ULL << (s % 64)))) {
			d->slot_used[s / 64] |= 1ULL << (s % 64);
			d->slot_next = (s + 1) % IOMMU_WINDOW_SLOTS;
			return s;
		}
	}
	panic("iommu: domain %d has no free window slot (%d windows at most)", d->did,
	      IOMMU_WINDOWS_MAX);
}

static struct window *window_of(uint64_t grant)
{
	for (int i = 0; i < IOMMU_WINDOWS_MAX; i++)
		if (windows[i].grant == grant)
			return &windows[i];
	return NULL;
}

static int invalidate(struct domain *d, uint64_t iova, int npages)
{
	d->invalidations++;
	return vtd_invalidate(d->units, d->did, iova, npages);
}

uint64_t iommu_grant_map(const struct proc *holder, uint64_t grant, const paddr_t *frames,
			 int npages, bool device_writes, int *domain)
{
	struct domain *d = domain_of(holder);
	unsigned perm = device_writes ? VTD_PERM_WRITE : VTD_PERM_READ;
	struct window *w;
	uint64_t iova;

	KASSERT(grant && npages >= 1 && npages <= IOMMU_WINDOW_PAGES);
	if (!d)
		return 0;
	w = window_of(0);
	KASSERT(w && !window_of(grant));
	*w = (struct window){ .grant = grant, .domain = (int)(d - domains), .slot = take_slot(d),
			      .npages = npages, .device_writes = device_writes };
	iova = slot_iova(w->slot);
	if (vtd_pt_map_run(&d->pt, iova, frames, npages, perm))
		panic("iommu: no frame for a page table of domain %d", d->did);
	if (vtd_caches_misses())
		invalidate(d, iova, IOMMU_WINDOW_PAGES);
	d->maps++;
	*domain = d->did;
	return iova;
}

bool iommu_grant_unmap(uint64_t grant, bool busy)
{
	struct window *w = grant ? window_of(grant) : NULL;
	struct domain *d;
	uint64_t iova;
	bool faulted;

	if (!w)
		return false;
	d = &domains[w->domain];
	iova = slot_iova(w->slot);
	vtd_pt_unmap_run(&d->pt, iova, w->npages);
	/* The frames change hands after this returns: nothing cached may
	 * still reach them.  Only the test switch skips it. */
	if (!iommu_test_skip_invalidation && invalidate(d, iova, w->npages))
		panic("iommu: the IOTLB of domain %d did not confirm an invalidation: frames of "
		      "grant %#lx may still be reached", d->did, (unsigned long)grant);
	iommu_fault_event();	/* what the device did while it was mapped */
	faulted = w->faulted;
	if (busy)
		given_up[given_up_next++ % GIVEN_UP_MAX] =
			(struct given_up){ grant, w->domain, w->slot };
	d->slot_used[w->slot / 64] &= ~(1ULL << (w->slot % 64));
	d->unmaps++;
	*w = (struct window){ 0 };
	return faulted;
}

uint64_t iommu_dma_map(struct proc *p, uint64_t va, paddr_t pa, size_t pages)
{
	struct domain *d = domain_of(p);
	struct dma_buf *b;

	(void)va;
	if (!translating)
		return pa;
	if (!d) {
		log_warn("iommu: %s (pid %lu) has the dma right but no device domain: no device"
			 " reaches its DMA buffer", p->name, (unsigned long)p->pid);
		return 0;
	}
	if (d->nbufs == IOMMU_BUFS_MAX || d->dma_next + pages * PAGE_SIZE >
	    IOMMU_DMA_BASE + IOMMU_DMA_SIZE)
		return IOMMU_NO_ROOM;
	b = &d->buf[d->nbufs++];
	*b = (struct dma_buf){ .iova = d->dma_next, .pa = pa, .pages = pages };
	d->dma_next += pages * PAGE_SIZE;
	for (size_t i = 0; i < pages; i++)
		if (vtd_pt_map(&d->pt, b->iova + i * PAGE_SIZE, pa + i * PAGE_SIZE,
			       VTD_PERM_READ | VTD_PERM_WRITE))
			panic("iommu: no frame for a page table of domain %d", d->did);
	if (vtd_caches_misses())
		vtd_invalidate_domain(d->units, d->did);
	d->maps++;
	return b->iova;
}

/* A driver's DMA buffers, in use by its device until it died: parked for
 * its successor's word (VM_CTL_DMA_QUIET after settling its channels),
 * since a transfer started into them may still land. */
static void park_dma_buffers(struct proc *p)
{
	paddr_t frames[64];
	size_t n;

	if (!p->config->ndev || !proc_has_right(p, RIGHT_DMA))
		return;
	while ((n = vm_take_dma_frames(&p->vm, frames, 64)) > 0)
		for (size_t i = 0; i < n; i++)
			park(p->config, 0, frames[i], FRAME_DMA);
}

void iommu_proc_exit(struct proc *p)
{
	struct domain *d = translating ? domain_of_config(p->config) : NULL;

	if (d && d->pid == p->pid) {
		for (int i = 0; i < IOMMU_WINDOWS_MAX; i++)
			KASSERT(!windows[i].grant || windows[i].domain != (int)(d - domains));
		for (int i = 0; i < d->nbufs; i++)
			for (size_t k = 0; k < d->buf[i].pages; k++)
				vtd_pt_unmap(&d->pt, d->buf[i].iova + k * PAGE_SIZE);
		d->invalidations++;
		if (d->nbufs && vtd_invalidate_domain(d->units, d->did))
			panic("iommu: domain %d: the IOTLB did not confirm an invalidation: %s's"
			      " DMA buffers may still be reached", d->did, p->name);
		iommu_fault_event();
		d->nbufs = 0;
		d->dma_next = IOMMU_DMA_BASE;
		d->pid = 0;
		d->warned_unbound = false;
	}
	park_dma_buffers(p);
}

/* --- transfers that outlive their window --- */

static void park(const struct program_config *owner, uint64_t grant, paddr_t frame,
		 enum frame_use use)
{
	if (iommu_test_no_parking) {
		/* The negative control: given up on at once, but kept out of the
		 * allocator and watched, so the landing is seen for certain. */
		pmm_set_use(frame, use, FRAME_QUARANTINE);
		pmm_watch(frame);
		return;
	}
	pmm_set_use(frame, use, FRAME_QUARANTINE);
	parked_total++;
	for (int i = 0; i < PARKED_MAX; i++)
		if (!parked[i].frame) {
			parked[i].frame = frame;
			parked[i].owner = owner;
			parked[i].grant = grant;
			return;
		}
	log_warn("iommu: frame %#lx quarantined for good: %d frames already wait for their"
		 " driver's word", (unsigned long)frame, PARKED_MAX);
}

void iommu_park(int did, uint64_t grant, paddr_t frame)
{
	KASSERT(did >= 1 && did <= ndomains);
	park(domains[did - 1].owner, grant, frame, FRAME_USER);
}

/* Frees the frames parked for p's line, of grant (0: all of them).  => how many. */
static long unpark(struct proc *p, uint64_t grant)
{
	long n = 0;

	for (int i = 0; i < PARKED_MAX; i++)
		if (parked[i].frame && parked[i].owner == p->config &&
		    (!grant || parked[i].grant == grant)) {
			pmm_set_use(parked[i].frame, FRAME_QUARANTINE, FRAME_USER);
			pmm_free_watched(parked[i].frame);
			parked[i].frame = 0;
			n++;
		}
	return n;
}

void iommu_grant_settled(struct proc *p, uint64_t grant)
{
	long n = grant ? unpark(p, grant) : 0;

	if (n)
		log_info("iommu: %ld frames parked for grant %#lx freed: %s's device is done with"
			 " it", n, (unsigned long)grant, p->name);
}

long iommu_quiet(struct proc *p)
{
	long n = unpark(p, 0);

	if (n)
		log_info("iommu: %ld frames parked for %s's device freed: it is quiet", n, p->name);
	return n;
}

/* --- faults --- */

/* The window of domain di whose slot (window or guard) holds iova. */
static struct window *window_at(int di, uint64_t iova)
{
	if (iova < IOMMU_WINDOW_BASE)
		return NULL;
	for (int i = 0; i < IOMMU_WINDOWS_MAX; i++)
		if (windows[i].grant && windows[i].domain == di &&
		    (iova - IOMMU_WINDOW_BASE) / (IOMMU_SLOT_PAGES * PAGE_SIZE) == windows[i].slot)
			return &windows[i];
	return NULL;
}

/* Pins a fault on the grant whose window it hit; one outside every window
 * (a frame never lent, a grant that has ended) on every grant the domain
 * holds: the device misbehaved while they were lent to it. */
static void attribute(struct iommu_fault_view *v)
{
	struct window *w = v->domain >= 0 ? window_at(v->domain, v->address) : NULL;

	if (w) {
		w->faulted = true;
		v->grant = w->grant;
		v->where = v->address - slot_iova(w->slot) < (uint64_t)w->npages * PAGE_SIZE
				   ? "in its window" : "past the end of its window";
		return;
	}
	for (int i = 0; v->domain >= 0 && v->address >= IOMMU_WINDOW_BASE && i < GIVEN_UP_MAX; i++)
		if (given_up[i].grant && given_up[i].domain == v->domain &&
		    (v->address - IOMMU_WINDOW_BASE) / (IOMMU_SLOT_PAGES * PAGE_SIZE) ==
			    given_up[i].slot) {
			v->given_up = given_up[i].grant;
			v->where = "in the window of a grant given up on: its transfer stopped";
			return;
		}
	v->outside = true;
	v->where = "outside every window it holds";
	for (int i = 0; i < IOMMU_WINDOWS_MAX; i++)
		if (windows[i].grant && windows[i].domain == v->domain) {
			windows[i].faulted = true;
			v->grant = v->grant ? v->grant : windows[i].grant;
		}
}

static void record_fault(const struct vtd_fault *f)
{
	struct iommu_fault_view *v = &fault_log[fault_next++ % IOMMU_FAULT_LOG];
	const struct pci_function *fn = pci_find(f->source);
	struct domain *d = fn && fn->owner ? domain_of_config(fn->owner) : NULL;
	char b[8];

	*v = (struct iommu_fault_view){
		.ns = clock_ns(), .source = f->source, .address = f->address, .write = f->write,
		.reason = f->reason, .reason_text = vtd_reason_text(f->reason),
		.domain = d ? (int)(d - domains) : -1, .by_interrupt = in_fault_interrupt,
	};
	if (d)
		d->faults++;
	attribute(v);
	log_warn("iommu: DMA fault: %s (%s) %s at %#lx: %s (reason %u), read %s",
		 pci_bdf_str(f->source, b), d ? d->owner->name : "given to nobody",
		 f->write ? "write" : "read", (unsigned long)f->address, v->reason_text, f->reason,
		 in_fault_interrupt ? "at its interrupt" : "by a poll");
	if (v->grant)
		log_warn("iommu: grant %#lx fails: its device faulted %s", (unsigned long)v->grant,
			 v->where);
	else if (v->given_up)
		log_info("iommu: that was a late transfer of grant %#lx, given up on: stopped",
			 (unsigned long)v->given_up);
}

void iommu_fault_event(void)
{
	struct vtd_fault f[FAULT_BATCH];
	uint64_t lost = 0;
	int n;

	if (!translating)
		return;
	do {
		n = vtd_faults(f, FAULT_BATCH, &lost);
		for (int i = 0; i < n; i++)
			record_fault(&f[i]);
	} while (n == FAULT_BATCH);
	if (!lost)
		return;
	/* Unrecorded faults could have been anyone's: nothing mapped now is trusted. */
	log_warn("iommu: fault records overflowed: every grant mapped now fails");
	for (int i = 0; i < IOMMU_WINDOWS_MAX; i++)
		windows[i].faulted |= windows[i].grant != 0;
}

/* --- inspection --- */

bool iommu_domain_view(int i, struct iommu_domain_view *v)
{
	struct domain *d;

	if (i < 0 || i >= ndomains)
		return false;
	d = &domains[i];
	memset(v, 0, sizeof(*v));
	v->id = d->did;
	v->owner = d->owner->name;
	v->pid = d->pid;
	v->ndevices = d->ndev;
	memcpy(v->devices, d->dev, sizeof(v->devices));
	for (int k = 0; k < IOMMU_WINDOWS_MAX; k++)
		v->windows += windows[k].grant && windows[k].domain == i;
	v->dma_buffers = d->nbufs;
	for (int k = 0; k < PARKED_MAX; k++)
		v->parked += parked[k].frame && parked[k].owner == d->owner;
	v->mapped_pages = d->pt.leaves;
	v->maps = d->maps;
	v->unmaps = d->unmaps;
	v->invalidations = d->invalidations;
	v->faults = d->faults;
	return true;
}

struct walk_ctx {
	int domain;
	void (*fn)(int domain, const struct iommu_map_view *v, void *ctx);
	void *ctx;
};

static void walk_leaf(uint64_t iova, paddr_t pa, unsigned perm, void *ctx)
{
	struct walk_ctx *c = ctx;
	struct window *w = window_at(c->domain, iova);
	struct iommu_map_view v = { .iova = iova, .frame = pa, .read = perm & VTD_PERM_READ,
				    .write = perm & VTD_PERM_WRITE, .grant = w ? w->grant : 0 };

	c->fn(domains[c->domain].did, &v, c->ctx);
}

void iommu_walk(void (*fn)(int domain, const struct iommu_map_view *v, void *ctx), void *ctx)
{
	for (int i = 0; i < ndomains; i++) {
		struct walk_ctx c = { i, fn, ctx };

		vtd_pt_walk(&domains[i].pt, walk_leaf, &c);
	}
}

bool iommu_fault_view(int i, struct iommu_fault_view *v)
{
	unsigned n = fault_next < IOMMU_FAULT_LOG ? fault_next : IOMMU_FAULT_LOG;

	if (i < 0 || (unsigned)i >= n)
		return false;
	*v = fault_log[(fault_next - 1 - (unsigned)i) % IOMMU_FAULT_LOG];
	return true;
}

bool iommu_device_frame(uint64_t grant, uint64_t iova, paddr_t *pa, bool *read, bool *write)
{
	struct window *w = grant ? window_of(grant) : NULL;
	unsigned perm;

	if (!w || !vtd_pt_query(&domains[w->domain].pt, iova, pa, &perm))
		return false;
	*read = perm & VTD_PERM_READ;
	*write = perm & VTD_PERM_WRITE;
	return true;
}

bool iommu_grant_view(uint64_t grant, int *domain, uint64_t *iova, bool *device_writes)
{
	struct window *w = grant ? window_of(grant) : NULL;

	if (!w)
		return false;
	*domain = domains[w->domain].did;
	*iova = slot_iova(w->slot);
	*device_writes = w->device_writes;
	return true;
}

/* SPDX-License-Identifier: MIT */
/*
 * Intel VT-d remapping units, as iommu.c uses them: the hardware half of
 * kernel/iommu (the model is in iommu.h).  Internal to kernel/iommu.
 *
 * A unit is driven in legacy mode (root table -> context entries ->
 * second-level page tables), with register-based invalidation, or the
 * invalidation queue when iommu_inval=queue and the unit has one.  Every
 * invalidation is waited for before the call returns.
 */
#ifndef VTD_H
#define VTD_H

#include <stdbool.h>
#include <stdint.h>

#include "../acpi/acpi.h"
#include "iommu.h"

#define VTD_PERM_READ	1u
#define VTD_PERM_WRITE	2u

/* One domain's second-level page table. */
struct vtd_pt {
	paddr_t root;
	uint64_t leaves;	/* present leaf entries */
};

struct vtd_fault {
	uint16_t source;	/* bus << 8 | devfn */
	uint64_t address;	/* the page */
	bool write;
	uint8_t reason;
};

/* MMIO and invalidation counts, for the benchmark's cost cells. */
struct vtd_counts {
	uint64_t mmio_reads, mmio_writes;
	uint64_t invalidations;		/* page, window or queue batches */
	uint64_t wait_spins;
};

/* Starts every unit of d (not translating yet).  => 0, or -1 with *why. */
int vtd_init(const struct dmar_info *d, enum iommu_inval mode, const char **why);
/* "unit 0 at 0xfed90000: VT-d 1.0, 39-bit, ..." into buf. */
void vtd_describe(int unit, char *buf, size_t size);
int vtd_units(void);
enum iommu_inval vtd_inval_mode(void);

int vtd_pt_init(struct vtd_pt *pt);
/* Makes every table [iova, iova + len) needs now, so mapping there later
 * allocates nothing.  => 0 or ERR_NOMEM. */
int vtd_pt_prepare(struct vtd_pt *pt, uint64_t iova, uint64_t len);
/* => 0 or ERR_NOMEM (a page-table frame). */
int vtd_pt_map(struct vtd_pt *pt, uint64_t iova, paddr_t pa, unsigned perm);
void vtd_pt_unmap(struct vtd_pt *pt, uint64_t iova);
/* The same for n pages from iova on (frames[i] at page i): one walk per
 * leaf table and one cache write-back per run of entries, not per page. */
int vtd_pt_map_run(struct vtd_pt *pt, uint64_t iova, const paddr_t *frames, int n,
		   unsigned perm);
void vtd_pt_unmap_run(struct vtd_pt *pt, uint64_t iova, int n);
bool vtd_pt_query(const struct vtd_pt *pt, uint64_t iova, paddr_t *pa, unsigned *perm);
/* Calls fn for every present leaf, in address order: what the unit would see. */
void vtd_pt_walk(const struct vtd_pt *pt,
		 void (*fn)(uint64_t iova, paddr_t pa, unsigned perm, void *ctx), void *ctx);

/* Points bus:devfn's context entry at pt as domain did.  => 0, ERR_NOMEM. */
int vtd_attach(int unit, uint8_t bus, uint8_t devfn, const struct vtd_pt *pt, uint16_t did);
/* Translation on, on every unit.  => 0, or -1 with *why. */
int vtd_enable(const char **why);
/* The IOTLB of units (bit mask) forgets [iova, iova + npages pages) of
 * domain did, and the call waits for it.  => 0, or -1 (the unit did not
 * answer: the entries may still be cached). */
int vtd_invalidate(uint32_t units, uint16_t did, uint64_t iova, int npages);
/* Everything of domain did, waited for. */
int vtd_invalidate_domain(uint32_t units, uint16_t did);
/* Newly present entries: needed only by units that cache non-present ones. */
bool vtd_caches_misses(void);
/* Up to max pending fault records, cleared as read; *lost counts faults
 * the unit could not record (overflow).  => records read. */
int vtd_faults(struct vtd_fault *out, int max, uint64_t *lost);
const char *vtd_reason_text(uint8_t reason);
/* Every unit's fault event: this message (address, data), unmasked.  A
 * unit sends one when it records a fault and no earlier one is pending;
 * reading the records (vtd_faults) clears the pending state. */
void vtd_fault_interrupt(uint64_t addr, uint32_t data);
const struct vtd_counts *vtd_counts(void);

#endif

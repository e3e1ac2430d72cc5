/* SPDX-License-Identifier: MIT */
/*
 * kernel/iommu: device DMA confined to what was lent, for as long as it
 * is lent.  The kernel owns the IOMMU; drivers never see it.
 *
 * The model
 * ---------
 * Objects:
 *   - a remapping unit (Intel VT-d, vtd.c): found through the ACPI DMAR
 *     table, it translates every DMA of the PCI functions in its scope
 *     through a root table (per bus) and context entries (per function);
 *   - a domain: one per driver line of the boot configuration that is
 *     given devices (`device=`, pci.h), with its own second-level page
 *     table and a hardware domain id.  Every function given to the driver
 *     is attached to its domain at boot; a function given to nobody has no
 *     context entry, so all its DMA faults.  The domain is bound to the
 *     live process of that line (one at a time: drivers are services) and
 *     unbound when it dies;
 *   - device addresses (IOVAs), chosen by the kernel, all below 4 GiB and
 *     never equal to a RAM address in practice (1 to 2 GiB), so a driver
 *     that programs a physical address faults instead of hitting memory:
 *         [IOMMU_DMA_BASE, +256 MiB)   sys_dma_alloc buffers, mapped
 *                                      read-write for the process's life
 *         [IOMMU_WINDOW_BASE, +256 MiB) grant windows: 1024 slots of 64
 *                                      pages, the first 32 for a grant's
 *                                      frames, the rest an unmapped guard;
 *                                      slots are taken round-robin, so an
 *                                      ended grant's addresses stay
 *                                      unmapped for ~1000 grants after it.
 *
 * A DMA grant in a domain (grant.c calls, nothing else):
 *   1. iommu_grant_map() when the grant reaches a holder with a domain
 *      (lent to it, or forwarded to it): the frames are mapped at a free
 *      window, write-only for a page-in (the device writes memory),
 *      read-only for a page-out; sys_grant_info gives these addresses;
 *   2. the device transfers;
 *   3. iommu_grant_unmap() when the grant leaves that holder (it ends:
 *      answered, failed, overtime, revoked; it is forwarded on; the holder
 *      dies): the entries are cleared, the IOTLB invalidated for the
 *      window and the invalidation waited for, and only then does the
 *      caller let the frames change hands (mapped at the fault, freed).
 *      Then the fault records are read: a fault inside the window, or
 *      outside every window while the grant was mapped, fails the grant
 *      (the transfer cannot be trusted), and the request with it; but a
 *      fault in the window of a grant taken back while DMA-busy (its
 *      request given up on) is that transfer being stopped, and fails
 *      nothing else.
 *
 * Invalidation (iommu_inval=): `page` one page-selective invalidation and
 * wait per page (strict); `window` (default) one invalidation covering the
 * window, by the address mask; `queue` queued invalidation: one descriptor
 * per page and one wait descriptor per window, one doorbell write.
 *
 * Transfers that outlive their window: QEMU's block DMA translates a
 * whole transfer when it starts, so one started before a take-back can
 * land after it.  A page-in given up on while its grant was DMA-busy
 * (grant.h) parks its frames until the driver says its device is done
 * with that grant (sys_grant_done) or with everything (VM_CTL_DMA_QUIET);
 * so does a dying driver's own DMA memory, until its successor's quiet.
 * Parked frames belong to the driver's configuration line, not to a
 * process or domain, and parking works without a unit too.
 *
 * Faults: the unit records them (source device, address, read or write,
 * reason); they are read, logged, counted per domain and kept (the last
 * IOMMU_FAULT_LOG) for kdb `iommu`.  The fault event is a message
 * interrupt of the kernel's own (msi.h, iommu_fault_irq_init(), aimed at
 * CPU 0) whose handler calls iommu_fault_event(): a fault is read, logged
 * and pinned on its grant when the unit records it.  The take-back still
 * reads the records itself (the interrupt may not have been taken yet when
 * a grant ends, and the verdict must come before the frames move).  With
 * no local APIC (the 8259s) or iommu_test=noirq the event stays masked and
 * the records are polled: at every take-back and on the page-out daemon's
 * 100 ms tick (iommu_fault_poll()).
 *
 * Without an IOMMU (no DMAR, a malformed one, `iommu=off`, the `pc`
 * machine) every call here is a no-op: grants carry physical addresses and
 * DMA rights are trust, as the boot log says.
 *
 * Concurrency: one CPU, kernel not preemptible (thread.h): no locks.
 */
#ifndef IOMMU_H
#define IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../arch/arch.h"

#define IOMMU_DOMAINS_MAX	8
#define IOMMU_DMA_BASE		0x40000000UL
#define IOMMU_DMA_SIZE		0x10000000UL
#define IOMMU_WINDOW_BASE	0x50000000UL
#define IOMMU_WINDOW_SLOTS	1024
#define IOMMU_WINDOW_PAGES	32	/* GRANT_MAX_PAGES: static_assert in iommu.c */
#define IOMMU_SLOT_PAGES	64	/* window and guard */
#define IOMMU_FAULT_LOG		16

struct proc;

enum iommu_inval { IOMMU_INVAL_PAGE, IOMMU_INVAL_WINDOW, IOMMU_INVAL_QUEUE };

/* Boot: find the unit, build the domains, enable translation (after pci_init). */
void iommu_init(void);
/* Is DMA translated (a unit runs)?  false: DMA is trusted. */
bool iommu_translating(void);

/* --- grants (grant.c) --- */
/* => device address of the first frame (the rest follow), or 0 when the
 * holder has no domain (or there is no IOMMU): then nothing is mapped. */
uint64_t iommu_grant_map(const struct proc *holder, uint64_t grant, const paddr_t *frames,
			 int npages, bool device_writes, int *domain);
/* Unmaps, invalidates, waits, reads faults.  busy: the holder's device
 * may still be transferring (grant.h: DMA-busy), so a fault at this
 * window later is that transfer being stopped, not a stray.  => true if a
 * device fault was pinned on this window while it was mapped. */
bool iommu_grant_unmap(uint64_t grant, bool busy);

/* --- a driver's own DMA memory (sys_dma_alloc) and its life --- */
/* => the device address of [pa, pa + pages) in p's domain, or pa when DMA
 * is not translated; 0 when translation is on and p has no domain (no
 * device reaches it); IOMMU_NO_ROOM when the domain's DMA area is full. */
#define IOMMU_NO_ROOM	(~0ULL)
uint64_t iommu_dma_map(struct proc *p, uint64_t va, paddr_t pa, size_t pages);
/* p dies: its DMA buffers leave its domain (invalidated, waited for) and
 * are parked, not freed (a driver's: iommu_park()); the domain is unbound. */
void iommu_proc_exit(struct proc *p);

/* --- transfers that outlive their window --- */
/* A frame of grant `grant`, taken back from domain did while a transfer
 * the device had started may still be under way (the request was given up
 * on while the grant was DMA-busy: overtime, its driver died; grant.h).
 * The IOMMU stops every transfer started after the window closed; one
 * started before may still land on emulated devices that translate a
 * whole transfer when it starts (QEMU's block DMA does), so the frame is
 * parked (FRAME_QUARANTINE) until the driver says its device is done. */
void iommu_park(int did, uint64_t grant, paddr_t frame);
/* The driver p says its device is done with grant (sys_grant_done, also
 * on a grant that has ended): the frames parked for it are freed
 * (watched: pmm_free_watched). */
void iommu_grant_settled(struct proc *p, uint64_t grant);
/* p's driver says every transfer its devices started before now has
 * ended (VM_CTL_DMA_QUIET: ata once its channels are settled at start,
 * a dead predecessor's transfers included; a queued driver when its
 * queues are drained): every frame parked in its domain is freed.
 * => frames freed. */
long iommu_quiet(struct proc *p);

/* --- faults --- */
/* Reads and logs the fault records now (the interrupt's handler, take-backs). */
void iommu_fault_event(void);
/* After arch_init_interrupts(): the fault event by message interrupt. */
void iommu_fault_irq_init(void);
/* The daemon's tick: reads the records only when no interrupt brings them. */
void iommu_fault_poll(void);

/* --- inspection (kdb, check) --- */
struct iommu_fault_view {
	uint64_t ns;
	uint16_t source;		/* bus << 8 | devfn */
	uint64_t address;
	bool write;
	uint8_t reason;
	const char *reason_text;
	int domain;			/* -1: a device in no domain */
	uint64_t grant;			/* the grant it failed, 0: none */
	bool outside;			/* outside every window it could be pinned on */
	const char *where;		/* in its window, past its end, outside every window */
	uint64_t given_up;		/* the ended grant whose late transfer it stopped */
	bool by_interrupt;		/* read at the fault event's interrupt, not a poll */
};
struct iommu_domain_view {
	int id;
	const char *owner;
	uint64_t pid;			/* bound process, 0: none */
	int ndevices;
	uint32_t devices[8];		/* bus << 8 | devfn */
	int windows, dma_buffers, parked;
	uint64_t mapped_pages;		/* live leaf entries */
	uint64_t maps, unmaps, invalidations, faults;
};
struct iommu_map_view {
	uint64_t iova;
	paddr_t frame;
	bool read, write;
	uint64_t grant;			/* the live window it is in; 0: none (a DMA buffer) */
};
const char *iommu_status(void);		/* one line: unit, mode, or why there is none */
/* Register accesses and invalidations of every unit since boot (the benchmark's cells). */
struct iommu_counts {
	uint64_t mmio_reads, mmio_writes, invalidations, wait_spins;
	uint64_t parked;		/* frames ever parked */
};
void iommu_counts(struct iommu_counts *out);
bool iommu_domain_view(int i, struct iommu_domain_view *v);
/* fn for every present entry of every domain's page table (what the unit
 * would translate), in address order; grant: the live window it is in. */
void iommu_walk(void (*fn)(int domain, const struct iommu_map_view *v, void *ctx), void *ctx);
bool iommu_fault_view(int i, struct iommu_fault_view *v);	/* 0: newest */
/* What grant's domain maps at iova, read from its page table. */
bool iommu_device_frame(uint64_t grant, uint64_t iova, paddr_t *pa, bool *read, bool *write);
/* The device view of a live grant: its domain, window, permission. */
bool iommu_grant_view(uint64_t grant, int *domain, uint64_t *iova, bool *device_writes);

/* Test switches, the negative controls of the tests: iommu_test=stale:
 * take-back skips the IOTLB invalidation, so a stale DMA can land;
 * iommu_test=nopark: frames are freed at take-back instead of parked;
 * iommu_test=noirq: the fault event stays masked (faults polled). */
extern bool iommu_test_skip_invalidation, iommu_test_no_parking;

#endif

/* SPDX-License-Identifier: MIT */
/*
 * kernel/grant: lending page frames to user processes for one request.
 *
 * See grant.c for the model: states, transitions, and who may do what.
 */
#ifndef GRANT_H
#define GRANT_H

#include <ferry/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "../arch/arch.h"

#define GRANT_MAX		64	/* live grants in the system */
#define GRANT_PER_HOLDER	16	/* and per holding process (window slots) */
#define GRANT_WINDOW_BASE	0x00007F0000000000UL
#define GRANT_WINDOW_SIZE	(GRANT_PER_HOLDER * GRANT_MAX_PAGES * PAGE_SIZE)
#define GRANT_HISTORY		32

struct proc;

enum grant_outcome { GRANT_COMPLETED, GRANT_FAILED, GRANT_REVOKED, GRANT_OVERTIME };

/* What the kernel lends, to whom, and on behalf of which fault. */
struct grant_lend {
	enum fill_mode mode;		/* FILL_GRANT_MAP or FILL_GRANT_DMA */
	bool writable;			/* page-in: yes; page-out: read-only */
	int npages;
	const paddr_t *frames;
	struct proc *holder;
	uint64_t fault_pid, fault_va;
	uint64_t request;		/* the page request this grant serves */
};

/* One line of the console's live-grant and history views. */
struct grant_view {
	uint64_t id;
	enum fill_mode mode;
	bool writable, live;
	int npages;
	paddr_t frame0;
	uint64_t fault_pid, fault_va;
	uint64_t holder_pid, window;
	uint64_t forwarded_from;	/* pid, 0 if never forwarded */
	uint64_t request;
	uint64_t age_ns;		/* live: since lent; ended: lifetime */
	enum grant_outcome outcome;	/* ended grants */
	bool revoked;
	uint64_t iova;			/* DMA: device address in the holder's domain (ended: the last) */
	bool device_fault;		/* the IOMMU pinned a DMA fault on it */
	uint64_t phase_cycles[NPHASES];	/* ended grants: from the fault */
	paddr_t frames[GRANT_MAX_PAGES];
};

void grant_init(void);
/* => 0 with *id and *window set (window 0 for DMA); ERR_BUSY at the holder's limit. */
long grant_create(const struct grant_lend *l, uint64_t *id, uint64_t *window);
/* Ends the grant: every mapping of its frames outside the kernel (CPU
 * window, device domain) is gone on return, caches invalidated.  => 0;
 * ERR_DEAD if it was revoked (a holder died) while lent, or ERR_DMAFAULT
 * if the IOMMU pinned a device fault on it: either way its frames cannot
 * be trusted to hold what the request wanted. */
long grant_end(uint64_t id, enum grant_outcome outcome);
/* Could the current holder's device be transferring into the frames?  Yes
 * from the moment a holder with the `dma` right read their addresses
 * (sys_grant_info) until it says its device is done (sys_grant_done).
 * With an IOMMU only a transfer started before the grant's window closed
 * can still land (request.c parks the frames then, iommu.h). */
bool grant_dma_busy(uint64_t id);
/* Did a holder die DMA-busy?  Its device may still write the frames. */
bool grant_dma_unsettled(uint64_t id);
/* The device domain it was last mapped in (a device could reach its
 * frames), or 0: never. */
int grant_device_domain(uint64_t id);
/* Holder-facing operations (system calls). */
long grant_forward(struct proc *caller, uint64_t id, uint64_t to_pid);
long grant_info_for(struct proc *caller, uint64_t id, struct grant_info *out);
/* The holder's device is done with the frames.  => 0 or ERR_BADHANDLE. */
/* flags: GRANT_DONE_WRITTEN, the device wrote the frames.  => 0, ERR_BADHANDLE,
 * ERR_INVAL (unknown flags). */
long grant_done(struct proc *caller, uint64_t id, uint64_t flags);
/* A dying process loses every grant it holds (mapping removed): a
 * forwarded one goes back to its forwarder, any other is revoked. */
void grant_release_holder(struct proc *p);

/* Inspection, for the debug console and tests. */
int grant_live_count(void);
bool grant_view_live(int index, struct grant_view *v);
bool grant_view_history(int index, struct grant_view *v);
/* The request reports its phase times once the pages are mapped. */
void grant_history_note_phases(uint64_t id, const uint64_t *phase_cycles);
/* Is pa lent right now, and to whom (pid)? */
bool grant_frame_holder(paddr_t pa, uint64_t *holder_pid, uint64_t *window_va);

#endif

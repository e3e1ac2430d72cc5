// SPDX-License-Identifier: MIT
#include "fault.h"

#include <ferry/abi.h>
#include <ferry/err.h>
#include <fmt.h>

#include "../clock.h"
#include "../log.h"
#include "../panic.h"
#include "../proc/proc.h"
#include "objpager.h"
#include "pageout.h"
#include "pmm.h"
#include "pte.h"
#include "request.h"
#include "swap.h"
#include "vm.h"
#include "zeropool.h"

#define MEMORY_WAIT_NS	(5ULL * 1000000000)	/* give the daemon five seconds */
/* Restarts of one page's swap provider or pager a fault rides out before it gives up. */
#define PROVIDER_RESTARTS_MAX	4

/* A fatal fault ends the thread; the last thread out ends the process. */
_Noreturn static void fault_kill(uint64_t va, uint64_t pc, const char *why)
{
	struct proc *p = proc_current();

	if (proc_is_dying(p))
		thread_exit();	/* killed while it waited: not the pager's doing */
	log_warn("pid %lu (%s) thread %lu killed: %s at %#lx (pc %#lx)", (unsigned long)p->pid,
		 p->name, (unsigned long)current_thread()->tid, why, (unsigned long)va,
		 (unsigned long)pc);
	if (p->nthreads == 1)
		proc_kill(p, PROC_STATUS_FAULT);
	thread_exit();
}

uint64_t vm_alloc_user_frame(void)
{
	uint64_t deadline = clock_ns() + MEMORY_WAIT_NS;

	while (clock_ns() < deadline) {
		if (pmm_free_frames() > PMM_RESERVE_FRAMES) {
			paddr_t pa = zeropool_take();

			pageout_check_pressure();
			if (pa)
				return pa;
		}
		zeropool_drain(0);
		if (pmm_free_frames() > PMM_RESERVE_FRAMES)
			continue;
		if (!pageout_wait_for_memory())
			return 0;	/* nothing could be evicted: really out of memory */
	}
	return 0;
}

static long demand_zero(struct proc *p, struct vm_region *r, uint64_t va)
{
	paddr_t pa = vm_alloc_user_frame();
	pte_t *pte;

	if (!pa)
		return ERR_NOMEM;
	/* We may have slept for memory: the page may have changed meanwhile. */
	pte = arch_pt_leaf(p->vm.root, va, false);
	if (vm_find(&p->vm, va) != r || (pte && *pte)) {
		pmm_free(pa);
		return 0;
	}
	if (vm_install(&p->vm, r, va, pa)) {
		pmm_free(pa);
		return ERR_NOMEM;
	}
	return 0;
}

static long page_in(struct proc *p, struct vm_region *r, uint64_t va, uint64_t t_fault)
{
	struct fault_sample *sample;
	uint64_t handle;
	long err;

	uint64_t deadline = clock_ns() + MEMORY_WAIT_NS;

	for (;;) {
		err = request_page_in(p, r, va, fault_cluster_pages, t_fault, &handle);
		if (err == ERR_NOMEM && clock_ns() < deadline) {
			if (!pageout_wait_for_memory())	/* the daemon frees some */
				return ERR_NOMEM;
		} else if (err == ERR_BUSY || err == ERR_FULL) {
			request_wait_for_slot();	/* every request slot or grant in use */
		} else {
			break;
		}
		if (proc_is_dying(p))
			return ERR_DEAD;
		if (vm_find(&p->vm, va) != r)
			return 0;
	}
	if (err)
		return err;
	sample = request_get(handle)->sample;
	err = request_wait(handle);
	if (!err && sample) {
		sample->phase[PHASE_RESUMED] = arch_cycles() - t_fault;
		fault_stats_for(fill_mode_current)->phase_cycles[PHASE_RESUMED] +=
			sample->phase[PHASE_RESUMED];
	}
	return err;
}

static const char *page_in_failure(long err)
{
	switch (err) {
	case ERR_DEAD:
		return "page-in failed: pager or swap provider died";
	case ERR_TIMEOUT:
		return "page-in failed: pager overran its overtime";
	case ERR_IO:
		return "page-in failed: I/O error";
	case ERR_DMAFAULT:
		return "page-in failed: the device's DMA faulted in the IOMMU (the frame is not trusted)";
	case ERR_AGAIN:
		return "page-in failed: the pager's disk driver is gone or does not answer";
	case ERR_RANGE:
		return "page-in failed: beyond the end of the object (like SIGBUS)";
	case ERR_NOENT:
		return "page-in failed: the pager has no such object";
	case ERR_NOMEM:
		return "out of memory";
	default:
		return "page-in failed";
	}
}

/* => 0 when the access can be retried, or an error naming why not. */
static long resolve(struct proc *p, uint64_t va, bool write, bool exec, uint64_t t_fault,
		    const char **why)
{
	struct vm_region *r = vm_find(&p->vm, va);
	pte_t *pte;
	uint64_t sw;
	long err;

	*why = "no mapping";
	if (!r)
		return ERR_FAULT;
	*why = write ? "grant window: write to a read-only (page-out) grant, or no grant there"
		     : "grant window page not lent to this process";
	if (r->flags & VMR_GRANT)
		return ERR_FAULT;
	*why = "device registers the kernel keeps (an MSI-X table or its pending bits)";
	if (r->flags & VMR_MMIO)
		return ERR_FAULT;
	*why = write ? "write to read-only memory" : "execute of non-executable memory";
	if ((write && !(r->prot & PROT_WRITE)) || (exec && !(r->prot & PROT_EXEC)))
		return ERR_FAULT;
	*why = "out of memory for page tables";
	pte = arch_pt_leaf(p->vm.root, va, true);
	if (!pte)
		return ERR_NOMEM;
	*why = "protection fault on a present page";
	if (arch_pte_present(*pte))
		return ERR_FAULT;
	sw = arch_pte_payload(*pte);
	if (pte_is_inflight(sw)) {
		err = request_wait(pte_inflight_request(sw));
		*why = page_in_failure(err);
		return err;
	}
	if (sw == 0 && !(r->flags & VMR_PAGER)) {
		err = demand_zero(p, r, va);
		*why = page_in_failure(err);
		return err;
	}
	err = page_in(p, r, va, t_fault);
	*why = page_in_failure(err);
	return err;
}

/* The page is with its region's object pager, which died: wait for its successor. */
static bool pager_came_back(struct proc *p, uint64_t va, const char **why)
{
	struct vm_region *r = vm_find(&p->vm, va);

	if (!r)
		return true;	/* unmapped meanwhile: the retry says so */
	if (!(r->flags & VMR_PAGER) || r->pager_index == OBJPAGER_NONE ||
	    !objpager_kept(r->pager_index))
		return false;
	if (objpager_wait_live(r->pager_index) == 0)
		return true;
	*why = "page-in failed: its pager died and no pager of the same store came back";
	return false;
}

/*
 * A page-in failed with ERR_DEAD: did only its swap provider die, with the
 * area kept for a restarted one (swap.h)?  Then wait for that provider and
 * fault again, instead of ending the thread.  => true to retry.
 */
static bool provider_came_back(struct proc *p, uint64_t va, const char **why)
{
	pte_t *pte = arch_pt_leaf(p->vm.root, va, false);
	uint64_t sw;

	if (proc_is_dying(p) || !pte)
		return false;
	if (arch_pte_present(*pte))
		return true;	/* another thread's fault brought it in meanwhile */
	sw = arch_pte_payload(*pte);
	if (pte_is_inflight(sw))
		return true;	/* a new request is under way: wait for that one */
	if (!pte_is_swapped(sw))
		return pager_came_back(p, va, why);
	if (!swap_pages_kept(pte_swap_provider(sw)))
		return false;
	if (swap_wait_live(pte_swap_provider(sw)) == 0)
		return true;
	*why = "page-in failed: its swap provider died and did not come back (the page is lost)";
	return false;
}

/* resolve(), riding out restarts of the page's swap provider. */
static long resolve_restarts(struct proc *p, uint64_t va, bool write, bool exec,
			     uint64_t t_fault, const char **why)
{
	long err = resolve(p, va, write, exec, t_fault, why);

	for (int n = 0; err == ERR_DEAD && n < PROVIDER_RESTARTS_MAX; n++) {
		if (!provider_came_back(p, va, why))
			break;
		err = resolve(p, va, write, exec, t_fault, why);
	}
	return err;
}

void vm_fault(uint64_t va, bool write, bool exec, uint64_t pc, uint64_t t_fault)
{
	struct proc *p = proc_current();
	const char *why;

	if (!vm_range_ok(va, 1))
		fault_kill(va, pc, "address outside user space");
	if (resolve_restarts(p, PAGE_ALIGN_DOWN(va), write, exec, t_fault, &why))
		fault_kill(va, pc, why);
}

int vm_fault_in(struct proc *p, uint64_t va, bool write)
{
	const char *why;
	long err = resolve_restarts(p, PAGE_ALIGN_DOWN(va), write, false, arch_cycles(), &why);

	if (err == ERR_FAULT)
		return ERR_FAULT;
	if (err) {
		/* The system call cannot go on without the page: same fate as a fault. */
		fault_kill(va, 0, why);
	}
	return 0;
}

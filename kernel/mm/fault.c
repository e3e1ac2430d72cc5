// SPDX-License-Identifier: MIT
#include "fault.h"

#include <ferry/abi.h>
#include <ferry/err.h>
#include <fmt.h>
#include <string.h>

#include "../clock.h"
#include "../log.h"
#include "../panic.h"
#include "../proc/proc.h"
#include "../trace.h"
#include "memobj.h"
#include "pageout.h"
#include "pmm.h"
#include "pte.h"
#include "request.h"
#include "swap.h"
#include "tlb.h"
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

/*
 * What a page-in brings: p's swapped page at va of r, or page pg of object
 * obj; for a fault in r at va (r NULL: the kernel reads), and with `mark`
 * the faulting PTEs wait for the object's pages and get them mapped.
 */
struct pagein {
	struct proc *p;
	struct vm_region *r;
	uint64_t rid, va;
	struct memobj *obj;
	uint64_t pg;
	bool mark;
};

/* After a sleep: is the faulting region still there (same id)? */
static bool same_region(struct pagein *in)
{
	struct vm_region *r = vm_find(&in->p->vm, in->va);

	if (!r || r->id != in->rid)
		return false;
	in->r = r;
	return true;
}

/* => ERR_AGAIN when the page needs no request any more (someone else's came). */
static long pagein_start(const struct pagein *in, uint64_t t_fault, uint64_t *handle)
{
	pte_t *pte;
	int n = fault_cluster_pages;

	if (!in->obj) {
		pte = arch_pt_leaf(in->p->vm.root, in->va, false);
		if (!pte || !pte_is_swapped(arch_pte_payload(*pte)) || arch_pte_present(*pte))
			return ERR_AGAIN;
		return request_page_in(in->p, in->r, in->va, n, t_fault, handle);
	}
	if (in->r && (int)((in->r->obj_end - in->va) >> PAGE_SHIFT) < n)
		n = in->r->obj_end > in->va ? (int)((in->r->obj_end - in->va) >> PAGE_SHIFT) : 1;
	n = memobj_absent_run(in->obj, in->pg, n);
	if (n == 0)
		return ERR_AGAIN;
	return request_object_in(in->p, in->obj, in->pg, n, in->mark ? in->r : NULL, in->va,
				 t_fault, handle);
}

static long page_in(struct pagein *in, uint64_t t_fault)
{
	enum fill_mode mode;
	uint64_t handle;
	long err;

	uint64_t deadline = clock_ns() + MEMORY_WAIT_NS;

	for (;;) {
		err = pagein_start(in, t_fault, &handle);
		if (err == ERR_NOMEM && clock_ns() < deadline) {
			if (!pageout_wait_for_memory())	/* the daemon frees some */
				return ERR_NOMEM;
		} else if (err == ERR_BUSY || err == ERR_FULL) {
			request_wait_for_slot();	/* every request slot or grant in use */
		} else {
			break;
		}
		if (proc_is_dying(in->p))
			return ERR_DEAD;
		if (in->r && !same_region(in))
			return 0;
	}
	if (err == ERR_AGAIN)
		return 0;	/* the caller looks again */
	if (err)
		return err;
	mode = request_get(handle)->mode;
	err = request_wait(handle);
	if (!err)
		trace_emit(&(struct trace_event){ .kind = TRACE_FAULT_RESUMED, .mode = mode,
						  .request = handle,
						  .cycles = arch_cycles() - t_fault });
	return err;
}

/*
 * The page at va becomes a copy of its object page of the process's own:
 * the first write to a private mapping (copy-on-write), or the page
 * holding the region's zero_from, whose bytes from there on are zeroed (a
 * data segment's bss tail).  The frame is found first, which may sleep,
 * so everything is looked at again after.  => 0 (the access is retried,
 * and finds the copy or what changed meanwhile), or ERR_NOMEM.
 */
static long private_copy(struct proc *p, uint64_t va, uint64_t rid)
{
	paddr_t pa = vm_alloc_user_frame();
	struct memobj_page page;
	struct vm_region *r;
	bool tail;
	pte_t *pte;

	if (!pa)
		return ERR_NOMEM;
	r = vm_find(&p->vm, va);
	pte = arch_pt_leaf(p->vm.root, va, false);
	if (!r || r->id != rid || !pte || !memobj_lookup(r->obj, memobj_page_of(r, va), &page) ||
	    (arch_pte_present(*pte) ? arch_pte_frame(*pte) != page.frame
				    : *pte && !pte_is_pager(arch_pte_payload(*pte)))) {
		pmm_free(pa);
		return 0;
	}
	memcpy(phys_to_virt(pa), phys_to_virt(page.frame), PAGE_SIZE);
	tail = va < r->zero_from && r->zero_from < va + PAGE_SIZE;
	if (tail)
		memset((uint8_t *)phys_to_virt(pa) + (r->zero_from - va), 0,
		       va + PAGE_SIZE - r->zero_from);
	if (arch_pte_present(*pte)) {	/* the object's frame, read-only until now */
		struct tlb_batch b;

		/* The other threads' read-only translations go before the
		 * copy takes the page's place: else they read the old frame. */
		tlb_batch_init(&b, TLB_NO_MODE);
		memobj_unmapped(r, va, vm_unmap_page(&b, &p->vm, va, pte, 0));
		tlb_batch_flush(&b);
	}
	*pte = 0;
	if (vm_install(&p->vm, r, va, pa))
		panic("private_copy: the page table at %#lx went away", (unsigned long)va);
	memobj_count_copy(r->obj, tail);
	return 0;
}

#define OBJECT_FAULT_ROUNDS	8	/* then back to user mode, which faults again */

/*
 * A fault on a page of r from its object: mapped from the object's cache
 * if it has the page (read, or a write to a shared mapping), copied if the
 * process needs a copy of its own, and first brought in by a page-in if
 * the object does not have it, or waited for if it is on its way.
 */
static long object_fault(struct proc *p, struct vm_region *r, uint64_t va, bool write,
			 uint64_t t_fault)
{
	bool copy = va >= r->obj_end || (write && (r->flags & VMR_PRIVATE));
	struct pagein in = { .p = p, .r = r, .rid = r->id, .va = va, .obj = r->obj,
			     .pg = memobj_page_of(r, va), .mark = !copy };

	for (int round = 0; round < OBJECT_FAULT_ROUNDS; round++) {
		struct memobj_page page;
		pte_t *pte;
		long err;

		if (round && !same_region(&in))
			return 0;
		pte = arch_pt_leaf(p->vm.root, va, false);
		if (!pte || (*pte && (arch_pte_present(*pte) || !pte_is_pager(arch_pte_payload(*pte)))))
			return 0;	/* mapped, or on its way, meanwhile */
		if (memobj_lookup(in.obj, in.pg, &page)) {
			if (copy)
				return private_copy(p, va, in.rid);
			memobj_map(in.obj, in.pg, in.r, va, pte);
			memobj_count_hit(in.obj);
			return 0;
		}
		if (page.state == MEMOBJ_INFLIGHT) {
			if (in.mark)	/* its request maps it here too when it ends */
				*pte = arch_pte_absent(pte_inflight_make(page.request));
			err = request_wait(page.request);
		} else {
			err = page_in(&in, t_fault);
		}
		if (err)
			return err;
	}
	return 0;
}

#define OBJECT_READ_ROUNDS	64

long fault_read_object(struct proc *p, struct memobj *o, uint64_t off, void *buf, size_t len)
{
	uint8_t *to = buf;
	int rounds = 0, restarts = 0;

	while (len) {
		size_t n = PAGE_SIZE - (off & ~PAGE_MASK);
		struct pagein in = { .p = p, .obj = o, .pg = off >> PAGE_SHIFT };
		struct memobj_page page;
		long err;

		if (n > len)
			n = len;
		if (memobj_lookup(o, in.pg, &page)) {
			memcpy(to, (uint8_t *)phys_to_virt(page.frame) + (off & ~PAGE_MASK), n);
			to += n;
			off += n;
			len -= n;
			continue;
		}
		if (++rounds > OBJECT_READ_ROUNDS)
			return ERR_NOMEM;	/* dropped again each time before we could copy */
		if (proc_is_dying(p))
			return ERR_DEAD;
		if (page.state == MEMOBJ_INFLIGHT)
			err = request_wait(page.request);
		else
			err = page_in(&in, arch_cycles());
		if (err == ERR_DEAD && restarts++ < PROVIDER_RESTARTS_MAX && memobj_wait_pager(o))
			continue;	/* its pager was restarted: ask the new one */
		if (err)
			return err;
	}
	return 0;
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
	case ERR_PERM:
		return "page-in failed: the pager's disk driver refused it (not permitted)";
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

static bool pte_allows(pte_t pte, bool write, bool exec)
{
	unsigned f = arch_pte_vm_flags(pte);

	return (f & VM_USER) && (!write || (f & VM_WRITE)) && (!exec || (f & VM_EXEC));
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
	/* Another CPU may have brought the page in while this one waited for
	 * the kernel lock: then the access simply runs again. */
	if (arch_pte_present(*pte)) {
		if (pte_allows(*pte, write, exec))
			return 0;
		*why = "protection fault on a present page";
		if (!write || !(r->flags & VMR_PRIVATE) || !memobj_frame(arch_pte_frame(*pte)))
			return ERR_FAULT;
		*why = "out of memory";
		return private_copy(p, va, r->id);	/* copy-on-write */
	}
	sw = arch_pte_payload(*pte);
	if (pte_is_inflight(sw)) {
		err = request_wait(pte_inflight_request(sw));
	} else if (pte_is_swapped(sw)) {
		struct pagein in = { .p = p, .r = r, .rid = r->id, .va = va };

		err = page_in(&in, t_fault);
	} else if (r->obj && va < r->zero_from) {
		err = object_fault(p, r, va, write, t_fault);
	} else {
		err = demand_zero(p, r, va);
	}
	*why = page_in_failure(err);
	return err;
}

/* The page is with its region's object pager, which died: wait for its successor. */
static bool pager_came_back(struct proc *p, uint64_t va, const char **why)
{
	struct vm_region *r = vm_find(&p->vm, va);

	if (!r)
		return true;	/* unmapped meanwhile: the retry says so */
	if (!r->obj || !memobj_pager_kept(r->obj))
		return false;
	if (memobj_wait_pager(r->obj))
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

// SPDX-License-Identifier: MIT
#include "uaccess.h"

#include <ferry/err.h>
#include <string.h>

#include "mm/fault.h"
#include "mm/vm.h"
#include "ipc/port.h"

#define UACCESS_FAULT_TRIES	256
#include "proc/proc.h"

#define WALK_REMEMBER	(MSG_MAX_PAGES + 1)	/* frames kept from the check pass */

/*
 * Finds the frame of every page of [uaddr, uaddr+n): all of them, before
 * any copy, so a failing copy changes nothing.  A page that is valid but
 * not resident is brought in (the thread shows "pager-io" meanwhile), and
 * since that slept, the check starts over.  The first WALK_REMEMBER frames
 * are remembered so the copy does not walk the tables a second time.
 */
static int check_pages(struct proc *p, uint64_t uaddr, size_t n, bool write, paddr_t *frames)
{
	int tries = 0;

	for (uint64_t va = PAGE_ALIGN_DOWN(uaddr), i = 0; va < uaddr + n; va += PAGE_SIZE, i++) {
		paddr_t pa;
		int err = vm_user_frame(&p->vm, va, write, &pa);

		if (err == ERR_AGAIN && tries++ < UACCESS_FAULT_TRIES) {
			if (vm_fault_in(p, va, write))
				return ERR_FAULT;
			va = PAGE_ALIGN_DOWN(uaddr) - PAGE_SIZE;
			i = (uint64_t)-1;
			continue;
		}
		if (err)
			return ERR_FAULT;
		if (i < WALK_REMEMBER)
			frames[i] = PAGE_ALIGN_DOWN(pa);
	}
	return 0;
}

/* Calls fn on each page-sized piece of [uaddr, uaddr+n) after checking it. */
static int walk_user(struct proc *p, uint64_t uaddr, size_t n, bool write,
		     void (*fn)(void *kaddr, size_t len, size_t done, void *ctx), void *ctx)
{
	paddr_t frames[WALK_REMEMBER];
	size_t done = 0;

	if (n == 0)
		return 0;
	if (!vm_range_ok(uaddr, n))
		return ERR_FAULT;
	/* Inside one resident page (a message, a struct): one walk, no
	 * bookkeeping.  Anything else, a page to bring in included, below. */
	if ((uaddr & ~PAGE_MASK) + n <= PAGE_SIZE &&
	    vm_user_frame(&p->vm, uaddr, write, &frames[0]) == 0) {
		if (fn)
			fn(phys_to_virt(frames[0]), n, 0, ctx);
		return 0;
	}
	if (check_pages(p, uaddr, n, write, frames))
		return ERR_FAULT;
	for (uint64_t i = 0; done < n && fn; i++) {
		uint64_t va = uaddr + done;
		size_t chunk = PAGE_SIZE - (va & ~PAGE_MASK);
		paddr_t pa;

		if (chunk > n - done)
			chunk = n - done;
		if (i < WALK_REMEMBER)
			pa = frames[i] + (va & ~PAGE_MASK);
		else
			vm_user_frame(&p->vm, va, write, &pa);	/* checked above, nothing slept */
		fn(phys_to_virt(pa), chunk, done, ctx);
		done += chunk;
	}
	return 0;
}

static void copy_in(void *kaddr, size_t len, size_t done, void *ctx)
{
	memcpy((char *)ctx + done, kaddr, len);
}

static void copy_out(void *kaddr, size_t len, size_t done, void *ctx)
{
	memcpy(kaddr, (const char *)ctx + done, len);
}

/* A piece of the source may straddle two destination frames. */
static void copy_in_frames(void *kaddr, size_t len, size_t done, void *ctx)
{
	const uint64_t *frames = ctx;
	const char *from = kaddr;

	while (len) {
		size_t off = done & ~PAGE_MASK;
		size_t chunk = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;

		memcpy((char *)phys_to_virt(frames[done >> PAGE_SHIFT]) + off, from, chunk);
		from += chunk;
		done += chunk;
		len -= chunk;
	}
}

int copy_from_user_frames(struct proc *p, const uint64_t *frames, uint64_t src, size_t n)
{
	return walk_user(p, src, n, false, copy_in_frames, (void *)frames);
}

int copy_from_user(struct proc *p, void *dst, uint64_t src, size_t n)
{
	return walk_user(p, src, n, false, copy_in, dst);
}

int copy_from_user_writable(struct proc *p, void *dst, uint64_t src, size_t n)
{
	return walk_user(p, src, n, true, copy_in, dst);
}

int copy_to_user(struct proc *p, uint64_t dst, const void *src, size_t n)
{
	return walk_user(p, dst, n, true, copy_out, (void *)src);
}

int user_range_check(struct proc *p, uint64_t addr, size_t n, int write)
{
	return walk_user(p, addr, n, write, NULL, NULL);
}

/* Page by page, so a string ending just before an unmapped page is fine. */
int copy_string_from_user(struct proc *p, char *dst, uint64_t src, size_t max)
{
	size_t done = 0;

	while (done < max) {
		uint64_t va = src + done;
		size_t chunk = PAGE_SIZE - (va & ~PAGE_MASK);
		const char *k, *nul;
		paddr_t pa;

		if (chunk > max - done)
			chunk = max - done;
		int err;

		if (!vm_range_ok(va, chunk))
			return ERR_FAULT;
		err = vm_user_frame(&p->vm, va, false, &pa);
		if (err == ERR_AGAIN) {
			if (vm_fault_in(p, va, false))
				return ERR_FAULT;
			continue;
		}
		if (err)
			return ERR_FAULT;
		k = phys_to_virt(pa);
		nul = memchr(k, '\0', chunk);
		if (nul) {
			memcpy(dst + done, k, (size_t)(nul - k) + 1);
			return 0;
		}
		memcpy(dst + done, k, chunk);
		done += chunk;
	}
	dst[max - 1] = '\0';
	return ERR_RANGE;
}

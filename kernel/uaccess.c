// SPDX-License-Identifier: MIT
#include "uaccess.h"

#include <ferry/err.h>
#include <string.h>

#include "mm/fault.h"
#include "mm/vm.h"

#define UACCESS_FAULT_TRIES	256
#include "proc/proc.h"

/* Calls fn on each page-sized piece of [uaddr, uaddr+n) after checking it. */
static int walk_user(struct proc *p, uint64_t uaddr, size_t n, bool write,
		     void (*fn)(void *kaddr, size_t len, size_t done, void *ctx), void *ctx)
{
	size_t done = 0;

	int tries = 0;

	if (n == 0)
		return 0;
	if (!vm_range_ok(uaddr, n))
		return ERR_FAULT;
	/*
	 * Validate the whole range first, so a failing copy changes nothing.
	 * A page that is valid but not resident is brought in (this thread
	 * shows "pager-io" meanwhile), and since that slept, we start over.
	 */
	for (uint64_t va = PAGE_ALIGN_DOWN(uaddr); va < uaddr + n; va += PAGE_SIZE) {
		paddr_t pa;
		int err = vm_user_frame(&p->vm, va, write, &pa);

		if (err == ERR_AGAIN && tries++ < UACCESS_FAULT_TRIES) {
			if (vm_fault_in(p, va, write))
				return ERR_FAULT;
			va = PAGE_ALIGN_DOWN(uaddr) - PAGE_SIZE;
			continue;
		}
		if (err)
			return ERR_FAULT;
	}
	while (done < n) {
		uint64_t va = uaddr + done;
		size_t chunk = PAGE_SIZE - (va & ~PAGE_MASK);
		paddr_t pa;

		if (chunk > n - done)
			chunk = n - done;
		vm_user_frame(&p->vm, va, write, &pa);
		if (fn)
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

int copy_from_user(struct proc *p, void *dst, uint64_t src, size_t n)
{
	return walk_user(p, src, n, false, copy_in, dst);
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

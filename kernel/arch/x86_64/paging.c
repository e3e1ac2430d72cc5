// SPDX-License-Identifier: MIT
/*
 * 4-level x86-64 page tables.  Generic code sees only VM_* flags and the
 * arch_pt_* calls; PTE bits stay in this file.
 *
 * Intermediate entries are always present+writable(+user in the user half):
 * permissions are decided at the leaf alone, which keeps map/unmap to one
 * leaf write plus one invlpg.  The kernel half (PML4 slots 256-511) is
 * built once at boot; every address space copies those slots, so no new
 * kernel-half PML4 entry may appear after boot (asserted in map).
 */
#include <string.h>

#include "../../mm/pmm.h"
#include "../../panic.h"
#include "../arch.h"
#include "cpu.h"

#define CR4_PGE		(1UL << 7)

#define LARGE_PAGE	(2UL << 20)
#define PML4_KERNEL_FIRST 256

extern char __kernel_start[], __text_end[], __rodata_end[], __kernel_end[];

static paddr_t kernel_root;

static unsigned level_index(vaddr_t va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

static pte_t *table_at(paddr_t pa)
{
	return phys_to_virt(pa & PTE_ADDR);
}

static pte_t leaf_bits(unsigned f)
{
	pte_t bits = PTE_P;

	if (f & VM_WRITE)
		bits |= PTE_W;
	if (f & VM_USER)
		bits |= PTE_U;
	if (f & VM_GLOBAL)
		bits |= PTE_G;
	if (f & VM_UNCACHED)
		bits |= PTE_PCD | PTE_PWT;
	if (!(f & VM_EXEC))
		bits |= PTE_NX;
	return bits;
}

static unsigned leaf_flags(pte_t pte)
{
	unsigned f = VM_READ;

	if (pte & PTE_W)
		f |= VM_WRITE;
	if (pte & PTE_U)
		f |= VM_USER;
	if (pte & PTE_G)
		f |= VM_GLOBAL;
	if (pte & PTE_PCD)
		f |= VM_UNCACHED;
	if (!(pte & PTE_NX))
		f |= VM_EXEC;
	return f;
}

/*
 * The leaf PTE for va, creating intermediate tables when `create`.
 * NULL when a table is missing (and !create), memory ran out, or a large
 * page covers va.
 */
static pte_t *walk(paddr_t root, vaddr_t va, bool create)
{
	pte_t *table = table_at(root);

	for (int level = 4; level > 1; level--) {
		pte_t *e = &table[level_index(va, level)];

		if (!(*e & PTE_P)) {
			paddr_t pa;

			if (!create)
				return NULL;
			if (level == 4 && level_index(va, 4) >= PML4_KERNEL_FIRST &&
			    root != kernel_root)
				panic("walk: new kernel PML4 slot for %#lx", (unsigned long)va);
			pa = pmm_alloc_zeroed(FRAME_PAGETABLE);
			if (!pa)
				return NULL;
			*e = pa | PTE_P | PTE_W | (va < USER_TOP ? PTE_U : 0);
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = table_at(*e);
	}
	return &table[level_index(va, 1)];
}

int arch_pt_map(paddr_t root, vaddr_t va, paddr_t pa, unsigned vm_flags)
{
	pte_t *pte;

	if ((va | pa) & ~PAGE_MASK)
		return -1;
	pte = walk(root, va, true);
	if (!pte || (*pte & PTE_P))
		return -1;	/* a non-present entry's payload may be overwritten */
	*pte = pa | leaf_bits(vm_flags);
	return 0;
}

int arch_pt_unmap(paddr_t root, vaddr_t va, paddr_t *old_pa)
{
	pte_t *pte = walk(root, va, false);

	if (!pte || !(*pte & PTE_P))
		return -1;
	if (old_pa)
		*old_pa = *pte & PTE_ADDR;
	*pte = 0;
	return 0;
}

bool arch_pt_query(paddr_t root, vaddr_t va, paddr_t *pa, unsigned *vm_flags)
{
	pte_t *pte = walk(root, va, false);

	if (!pte || !(*pte & PTE_P))
		return false;
	if (pa)
		*pa = *pte & PTE_ADDR;
	if (vm_flags)
		*vm_flags = leaf_flags(*pte);
	return true;
}


pte_t *arch_pt_leaf(paddr_t root, vaddr_t va, bool create)
{
	return walk(root, PAGE_ALIGN_DOWN(va), create);
}

pte_t *arch_pt_leaf_next(paddr_t root, pte_t *pte, vaddr_t va)
{
	vaddr_t next = PAGE_ALIGN_DOWN(va) + PAGE_SIZE;

	/* Within one leaf table the next page's entry is the next entry. */
	return level_index(next, 1) ? pte + 1 : walk(root, next, false);
}

static void walk_level(pte_t *table, int level, vaddr_t base,
		       void (*fn)(vaddr_t va, pte_t pte, void *ctx), void *ctx)
{
	int limit = level == 4 ? PML4_KERNEL_FIRST : 512;

	for (int i = 0; i < limit; i++) {
		vaddr_t va = base + ((vaddr_t)i << (PAGE_SHIFT + 9 * (level - 1)));

		if (!table[i])
			continue;
		if (level == 1)
			fn(va, table[i], ctx);
		else if ((table[i] & PTE_P) && !(table[i] & PTE_PS))
			walk_level(table_at(table[i]), level - 1, va, fn, ctx);
	}
}

void arch_pt_walk_user(paddr_t root, void (*fn)(vaddr_t va, pte_t pte, void *ctx), void *ctx)
{
	walk_level(table_at(root), 4, 0, fn, ctx);
}

bool arch_pt_user_frame(paddr_t root, vaddr_t va, bool write, paddr_t *frame)
{
	pte_t *pte = walk(root, PAGE_ALIGN_DOWN(va), false);
	pte_t need = PTE_P | PTE_U | (write ? PTE_W : 0);

	if (!pte || (*pte & (need | PTE_PCD)) != need)
		return false;
	*frame = *pte & PTE_ADDR;
	return true;
}

unsigned arch_pte_vm_flags(pte_t pte)
{
	return leaf_flags(pte);
}

pte_t arch_pte_make(paddr_t pa, unsigned vm_flags)
{
	return pa | leaf_bits(vm_flags);
}

void arch_tlb_flush_page(vaddr_t va)
{
	invlpg(va);
}

/* Global pages (the kernel's) survive; every user entry goes. */
void arch_tlb_flush_all(void)
{
	write_cr3(read_cr3());
}

pte_t arch_pte_exchange(pte_t *p, pte_t v)
{
	return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}

void arch_pte_clear_accessed_atomic(pte_t *p)
{
	__atomic_fetch_and(p, ~PTE_A, __ATOMIC_SEQ_CST);
}

void arch_switch_root(paddr_t root)
{
	write_cr3(root);
}

paddr_t arch_current_root(void)
{
	return read_cr3() & PTE_ADDR;
}

paddr_t arch_kernel_root(void)
{
	return kernel_root;
}

/*
 * Physical ranges outside the direct map (device registers, firmware
 * tables above the top of RAM) are mapped once into a window below the
 * kernel image, in the PML4 slot the image already uses (so every address
 * space sees them), and never unmapped: what the kernel maps this way
 * (ACPI tables, the local and I/O APICs, the IOMMU) lives as long as it.
 */
#define PHYS_WINDOW_BASE	0xFFFFFFFF00000000UL
#define PHYS_WINDOW_SIZE	(1UL << 30)

static paddr_t direct_map_top;
static vaddr_t phys_window_next = PHYS_WINDOW_BASE;

void *arch_map_phys(paddr_t pa, size_t len, unsigned vm_flags)
{
	paddr_t first = PAGE_ALIGN_DOWN(pa), end = PAGE_ALIGN_UP(pa + len);
	vaddr_t va = phys_window_next;

	if (len == 0 || pa + len < pa)
		return NULL;
	if (end <= direct_map_top && !(vm_flags & VM_UNCACHED))
		return phys_to_virt(pa);
	if (end - first > PHYS_WINDOW_BASE + PHYS_WINDOW_SIZE - va)
		return NULL;
	for (paddr_t p = first; p < end; p += PAGE_SIZE)
		if (arch_pt_map(kernel_root, va + (p - first), p, (vm_flags & ~VM_USER) | VM_GLOBAL))
			return NULL;	/* out of page tables: the window slot stays used */
	phys_window_next += end - first;
	return (void *)(va + (pa - first));
}

paddr_t virt_to_phys(const void *p)
{
	vaddr_t va = (vaddr_t)p;

	if (va >= KERNEL_VMA)
		return va - KERNEL_VMA;
	if (va >= DIRECT_MAP_BASE && va < DIRECT_MAP_BASE + DIRECT_MAP_MAX)
		return va - DIRECT_MAP_BASE;
	panic("virt_to_phys: %p is neither kernel image nor direct map", p);
}

paddr_t arch_pt_create(void)
{
	paddr_t root = pmm_alloc_zeroed(FRAME_PAGETABLE);

	if (root)
		memcpy(table_at(root) + PML4_KERNEL_FIRST, table_at(kernel_root) + PML4_KERNEL_FIRST,
		       (512 - PML4_KERNEL_FIRST) * sizeof(pte_t));
	return root;
}

static void free_table(paddr_t table, int level)
{
	pte_t *t = table_at(table);

	if (level > 1)
		for (int i = 0; i < 512; i++)
			if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
				free_table(t[i] & PTE_ADDR, level - 1);
	pmm_free(table);
}

void arch_pt_destroy(paddr_t root)
{
	pte_t *pml4 = table_at(root);

	KASSERT(root != kernel_root && root != arch_current_root());
	for (int i = 0; i < PML4_KERNEL_FIRST; i++)
		if (pml4[i] & PTE_P)
			free_table(pml4[i] & PTE_ADDR, 3);
	pmm_free(root);
}

static paddr_t boot_table(void)
{
	paddr_t pa = pmm_alloc_zeroed(FRAME_PAGETABLE);

	if (!pa)
		panic("arch_paging_init: out of memory for page tables");
	return pa;
}

static void map_large(paddr_t root, vaddr_t va, paddr_t pa)
{
	pte_t *pdpt, *pd, *e;

	e = &table_at(root)[level_index(va, 4)];
	if (!(*e & PTE_P))
		*e = boot_table() | PTE_P | PTE_W;
	pdpt = table_at(*e);
	e = &pdpt[level_index(va, 3)];
	if (!(*e & PTE_P))
		*e = boot_table() | PTE_P | PTE_W;
	pd = table_at(*e);
	pd[level_index(va, 2)] = pa | PTE_P | PTE_W | PTE_PS | PTE_G | PTE_NX;
}

static void map_image_range(char *start, char *end, unsigned flags)
{
	for (char *p = start; p < end; p += PAGE_SIZE)
		if (arch_pt_map(kernel_root, (vaddr_t)p, virt_to_phys(p), flags | VM_GLOBAL))
			panic("arch_paging_init: cannot map kernel page %p", p);
}

/*
 * Builds the real kernel tables: the direct map of [0, ram_top) in 2 MiB
 * pages, then the image in 4 KiB pages with W^X.  The boot identity map is
 * gone once CR3 switches.
 */
void arch_paging_init(paddr_t ram_top)
{
	kernel_root = boot_table();
	__asm__ volatile("mov %%cr4, %%rax; or %0, %%rax; mov %%rax, %%cr4"
			 : : "i"(CR4_PGE) : "rax");
	for (paddr_t pa = 0; pa < ram_top; pa += LARGE_PAGE)
		map_large(kernel_root, DIRECT_MAP_BASE + pa, pa);
	direct_map_top = PAGE_ALIGN_UP(ram_top);
	map_image_range(__kernel_start, __text_end, VM_READ | VM_EXEC);
	map_image_range(__text_end, __rodata_end, VM_READ);
	map_image_range(__rodata_end, __kernel_end, VM_READ | VM_WRITE);
	write_cr3(kernel_root);
}

/* SPDX-License-Identifier: MIT */
/*
 * The bits of an x86-64 leaf page-table entry, and the one-line questions
 * asked of an entry several times per fault (arch.h declares the rest of
 * the paging calls; paging.c makes and walks the tables).  Included by
 * arch.h after pte_t, paddr_t and ARCH_PTE_PAYLOAD_BITS.
 */
#ifndef X86_64_PTE_BITS_H
#define X86_64_PTE_BITS_H

#define PTE_P		(1UL << 0)
#define PTE_W		(1UL << 1)
#define PTE_U		(1UL << 2)
#define PTE_PWT		(1UL << 3)
#define PTE_PCD		(1UL << 4)
#define PTE_A		(1UL << 5)
#define PTE_D		(1UL << 6)
#define PTE_PS		(1UL << 7)
#define PTE_G		(1UL << 8)
#define PTE_NX		(1UL << 63)
#define PTE_ADDR	0x000FFFFFFFFFF000UL

static inline bool arch_pte_present(pte_t pte)
{
	return pte & PTE_P;
}

static inline paddr_t arch_pte_frame(pte_t pte)
{
	return pte & PTE_ADDR;
}

static inline bool arch_pte_accessed(pte_t pte)
{
	return pte & PTE_A;
}

static inline bool arch_pte_dirty(pte_t pte)
{
	return pte & PTE_D;
}

/* Bit 0 (P) stays clear; bits 1..62 carry the payload; bit 63 stays clear. */
static inline pte_t arch_pte_absent(uint64_t payload)
{
	return (payload & ((1UL << ARCH_PTE_PAYLOAD_BITS) - 1)) << 1;
}

static inline uint64_t arch_pte_payload(pte_t pte)
{
	return (pte >> 1) & ((1UL << ARCH_PTE_PAYLOAD_BITS) - 1);
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * x86-64 virtual memory layout (4-level paging, 48-bit addresses):
 *
 *   0x0000000000000000 .. 0x00007fffffffffff  user half (per process)
 *   0xffff800000000000 .. +RAM                direct map of physical RAM
 *   0xffffffff80000000 .. +image              kernel image (-mcmodel=kernel)
 *
 * Both kernel ranges live in PML4 slots 256..511, which every address
 * space shares, so a kernel mapping made once is visible everywhere.
 */
#ifndef X86_64_MEMLAYOUT_H
#define X86_64_MEMLAYOUT_H

#define KERNEL_VMA		0xFFFFFFFF80000000UL
#define DIRECT_MAP_BASE		0xFFFF800000000000UL
#define DIRECT_MAP_MAX		(64UL << 40)	/* 64 TiB of RAM at most */
#define USER_TOP		0x0000800000000000UL

/* Where started CPUs begin in real mode (trampoline.S): a page the frame
 * allocator never hands out (the first MiB stays reserved, mm/pmm.c). */
#define AP_TRAMPOLINE_PHYS	0x8000

/* struct trap_frame (trap.h): the user registers at the top of a kernel stack */
#define ARCH_USER_FRAME_SIZE	176

#endif

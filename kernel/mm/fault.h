/* SPDX-License-Identifier: MIT */
/*
 * The page-fault path, from the trap to the page being mapped:
 *
 *   1. vm_fault() finds the region; no region or the wrong access kills
 *      the thread with a log line naming address and reason.
 *   2. The PTE says what to do (mm/pte.h):
 *        never touched, anonymous   -> a zeroed frame (zeropool), mapped now
 *        never touched, pager region, or PAGER -> page-in from the pager
 *        SWAPPED(provider, slot)    -> page-in from that swap provider
 *        INFLIGHT(request)          -> someone asked already: wait for it
 *   3. A page-in (mm/request.c) marks the cluster INFLIGHT, lends frames
 *      (kernel/grant) or asks for the bytes, sends one message, and the
 *      thread sleeps in "pager-io".
 *   4. On the answer the grant ends, the pages are re-validated and
 *      mapped, the sleepers wake and return to user mode, where the
 *      faulting instruction runs again.  A failed page-in ends the thread:
 *      a missing page is never replaced by zeros.
 */
#ifndef FAULT_H
#define FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proc;
struct memobj;

/* From the trap handler, user mode only.  Returns when the page is there
 * (or the instruction should simply be retried); kills the thread otherwise. */
void vm_fault(uint64_t va, bool write, bool exec, uint64_t pc, uint64_t t_fault);
/* For the kernel's own user accesses (uaccess): => 0 or ERR_FAULT. */
int vm_fault_in(struct proc *p, uint64_t va, bool write);
/* A user frame for the fault path, waiting for the page-out daemon if
 * memory is short; 0 when none can be had. */
uint64_t vm_alloc_user_frame(void);
/*
 * Copies [off, off + len) of memory object o into buf, bringing its pages
 * in through the object's pager as a fault would (the calling thread of p
 * sleeps in pager-io), riding out a restart of the pager.  For the kernel
 * (spawn reads a program's headers).  => 0, or the page-in's error.
 */
long fault_read_object(struct proc *p, struct memobj *o, uint64_t off, void *buf, size_t len);

#endif

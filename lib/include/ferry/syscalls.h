/* SPDX-License-Identifier: MIT */
/*
 * The one list of system calls.  It generates the user stubs (lib/, see
 * <ferry/sys.h>) and the kernel's dispatch table (kernel/syscall.c).
 *
 * ABI: `syscall` with the number in rax and arguments in rdi, rsi, rdx,
 * r10, r8, r9; the result comes back in rax: >= 0 success, < 0 a negated
 * enum ferry_err (<ferry/err.h>).  rcx and r11 are clobbered.
 *
 * X(number, name, nargs, (params), (args))
 */
#ifndef FERRY_SYSCALLS_H
#define FERRY_SYSCALLS_H

#define FERRY_SYSCALLS(X)                                                              \
	/* processes and threads */                                                    \
	X(0, null, 0, (void), ())                                                      \
	X(1, exit, 1, (long code), (code))                                             \
	X(2, spawn, 2, (const char *name, const char *args), (name, args))             \
	X(3, wait, 3, (long pid, long *status, long timeout_ns), (pid, status, timeout_ns)) \
	X(4, kill, 1, (long pid), (pid))                                               \
	X(5, getpid, 0, (void), ())                                                    \
	X(6, proc_info, 2, (long index, struct proc_info *out), (index, out))          \
	X(7, thread_create, 3, (void *entry, void *stack_top, long arg), (entry, stack_top, arg)) \
	X(8, thread_exit, 1, (long code), (code))                                      \
	X(9, yield, 0, (void), ())                                                     \
	X(10, sleep, 1, (long ns), (ns))                                               \
	X(11, clock_ns, 0, (void), ())                                                 \
	/* console (the kernel owns COM1) */                                           \
	X(12, console_write, 2, (const void *buf, long len), (buf, len))               \
	X(13, console_read, 2, (void *buf, long len), (buf, len))                      \
	/* memory */                                                                   \
	X(14, mem_map, 3, (void *hint, long len, long prot), (hint, len, prot))        \
	X(15, mem_unmap, 2, (void *addr, long len), (addr, len))                       \
	X(16, mem_pin, 2, (void *addr, long len), (addr, len))                         \
	X(17, dma_alloc, 2, (long len, unsigned long *phys), (len, phys))              \
	/* ports and messages */                                                       \
	X(18, port_create, 1, (long queue_len), (queue_len))                           \
	X(19, port_destroy, 1, (long port), (port))                                    \
	X(20, port_publish, 2, (const char *name, long port), (name, port))            \
	X(21, port_lookup, 1, (const char *name), (name))                              \
	X(22, send, 2, (long port, const struct msg *m), (port, m))                    \
	X(23, recv, 3, (long port, struct msg *m, long timeout_ns), (port, m, timeout_ns)) \
	X(24, call, 4, (long port, const struct msg *req, struct msg *rep, long timeout_ns), \
	  (port, req, rep, timeout_ns))                                                \
	X(25, reply, 2, (unsigned long token, const struct msg *m), (token, m))        \
	/* drivers: allowed only to programs the boot configuration names */           \
	X(26, irq_attach, 2, (long irq, long port), (irq, port))                       \
	X(27, irq_ack, 1, (long irq), (irq))                                           \
	X(28, pci_read, 3, (unsigned long bdf, long offset, long size), (bdf, offset, size)) \
	X(29, pci_write, 4, (unsigned long bdf, long offset, long size, unsigned long value), \
	  (bdf, offset, size, value))                                                  \
	/* system */                                                                   \
	X(30, stats, 1, (struct sys_stats *out), (out))                                \
	X(31, shutdown, 1, (long code), (code))                                        \
	/* paging: swap providers, pagers, grants (kernel/grant) */                    \
	X(32, swap_register, 4, (long port, long nslots, long modes, const void *area), \
	  (port, nslots, modes, area))                                                 \
	X(33, mem_map_pager, 5, (long port, unsigned long object, long offset, long len, \
	  long prot), (port, object, offset, len, prot))                               \
	X(34, grant_info, 2, (unsigned long grant, struct grant_info *out), (grant, out)) \
	X(35, grant_forward, 2, (unsigned long grant, long pid), (grant, pid))         \
	X(36, vm_ctl, 3, (long op, long arg, void *ptr), (op, arg, ptr))             \
	X(37, pager_modes, 2, (long port, long modes), (port, modes))                 \
	X(38, pager_register, 3, (long port, long modes, const void *store),           \
	  (port, modes, store))                                                        \
	/* drivers bound to a PCI function (device= in the boot configuration) */      \
	X(39, mmio_map, 3, (unsigned long bdf, long bar, unsigned long *len), (bdf, bar, len)) \
	/* the holder's device is done with a grant's frames (kernel/grant);        \
	 * flags: GRANT_DONE_WRITTEN, it wrote them (<ferry/abi.h>) */                 \
	X(40, grant_done, 2, (unsigned long grant, long flags), (grant, flags))        \
	/* programs from files, memory objects (kernel/mm/memobj.h) */                 \
	X(41, spawn_file, 4, (long port, unsigned long object, const char *path,       \
	  const char *args), (port, object, path, args))                               \
	X(42, mem_info, 3, (long pid, long index, struct mem_region_info *out),        \
	  (pid, index, out))                                                           \
	X(43, pager_object_busy, 2, (long port, unsigned long object), (port, object)) \
	/* allowances: who may have a driver touch which ranges (kernel/ipc/allow.h) */ \
	X(44, allow, 3, (long op, unsigned long id, void *ptr), (op, id, ptr)) \
	/* several CPUs: the one the caller runs on now (it may move at any time) */   \
	X(45, cpu_self, 0, (void), ())                                                 \
	/* a message interrupt of a bound PCI function, aimed at a CPU (kernel/msi.h): \
	 * => an IRQ number for sys_irq_ack, delivered as MSG_OP_IRQ on port */       \
	X(46, msi_attach, 4, (unsigned long bdf, long entry, long cpu, long port),     \
	  (bdf, entry, cpu, port))

#define SYS_COUNT 47

enum {
#define FERRY_SYSCALL_ENUM(num, name, nargs, params, args) SYS_##name = num,
	FERRY_SYSCALLS(FERRY_SYSCALL_ENUM)
#undef FERRY_SYSCALL_ENUM
};

#endif

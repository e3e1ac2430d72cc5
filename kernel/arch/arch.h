/* SPDX-License-Identifier: MIT */
/*
 * The seam between generic kernel code and the machine.  Everything generic
 * code may ask of the CPU, the page tables, the interrupt controller and the
 * boot console goes through these arch_* calls; their x86-64 bodies live in
 * kernel/arch/x86_64/.  Porting Ferry means reimplementing this header.
 */
#ifndef ARCH_H
#define ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ferry/costmark.h>

#include "x86_64/memlayout.h"

typedef uint64_t paddr_t;
typedef uint64_t vaddr_t;
typedef uint64_t pte_t;

#define PAGE_SIZE	4096UL
#define PAGE_SHIFT	12
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define PAGE_ALIGN_UP(x)   (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define PAGE_ALIGN_DOWN(x) ((x) & PAGE_MASK)

/* Direct map: all physical RAM is mapped at DIRECT_MAP_BASE + pa. */
static inline void *phys_to_virt(paddr_t pa)
{
	return (void *)(pa + DIRECT_MAP_BASE);
}

paddr_t virt_to_phys(const void *va);

struct cpu;
struct ioport_range;

/* --- boot and CPU --- */
void arch_init_cpu(void);		/* GDT, TSS, IDT, per-CPU state */
void arch_init_interrupts(void);	/* interrupt controller + timer */
void arch_set_cpu_local(struct cpu *c);	/* what this_cpu() finds */
void arch_irq_mask(unsigned irq);
void arch_irq_unmask(unsigned irq);
_Noreturn void arch_halt_forever(void);
void arch_wait_for_interrupt(void);	/* enables interrupts, halts once */
bool arch_irqs_enabled(void);
unsigned long arch_irq_save(void);	/* disable, return previous state */
void arch_irq_restore(unsigned long state);
uint64_t arch_cycles(void);		/* TSC */
/* Writes [p, p + n) back from the CPU caches to memory, for a device
 * that reads memory without snooping them (a non-coherent IOMMU). */
void arch_cache_writeback(const void *p, size_t n);
uint64_t arch_cycles_per_sec(void);	/* calibrated at boot */

/* --- several CPUs (x86-64: local APIC, I/O APIC, INIT-SIPI-SIPI) --- */
enum ipi_kind { IPI_RESCHEDULE, IPI_TLB, IPI_STOP, IPI_WAKE, IPI_NKINDS };
/* Hardware ids (x86: APIC ids) of the CPUs the firmware lists but the
 * boot CPU, in its order; 0 when only one CPU can run (no usable MADT). */
unsigned arch_cpu_ids(uint32_t *ids, unsigned max);
uint32_t arch_cpu_hw_id(void);		/* this CPU's, 0 without an APIC */
/* Starts c (c->apic_id) on a fresh stack; it loads its tables and calls
 * smp_ap_main().  => false when the start-up could not be sent. */
bool arch_start_cpu(struct cpu *c, uint64_t stack_top);
void arch_stop_cpu(const struct cpu *c);	/* a CPU given up: back to sleep */
void arch_send_ipi(const struct cpu *c, enum ipi_kind kind);
void arch_cpu_relax(void);		/* in spin loops (x86: pause) */
/* Halts until an IPI arrives; device interrupts and the tick stay pending
 * (x86: the APIC's task priority holds them back).  Interrupts are off
 * before and after.  Without an APIC, only relaxes. */
void arch_wait_for_ipi(void);
/* A message-signalled interrupt (kernel/msi.h): what a device writes to
 * raise Ferry IRQ irq (>= IRQ_LINES) on CPU c (x86: the local APIC
 * window's address naming c's APIC id, the IRQ's own vector as data).
 * => false without a local APIC (the 8259s cannot take messages) or for
 * an IRQ number the arch has no vector for. */
bool arch_msi_message(const struct cpu *c, unsigned irq, uint64_t *addr, uint32_t *data);
unsigned arch_irq_vector(unsigned irq);	/* the CPU vector IRQ irq arrives at */

/* Emulator and machine control. */
_Noreturn void arch_qemu_exit(int code);	/* isa-debug-exit, then halt */
_Noreturn void arch_reboot(void);
_Noreturn void arch_power_off(void);

/* --- threads and user mode --- */
/* Saves callee-saved state on this stack into *save_rsp, resumes load_rsp. */
void arch_context_switch(uint64_t *save_rsp, uint64_t load_rsp);
/* Prepares a fresh kernel stack whose first switch-in calls start(). */
uint64_t arch_thread_stack_init(uint64_t stack_top, void (*start)(void));
/* A user register frame just below frame_top: entry(arg0, arg1) on stack. */
void arch_user_frame_init(void *frame_top, uint64_t entry, uint64_t stack, uint64_t arg0,
			  uint64_t arg1);
_Noreturn void arch_enter_user(void *frame_top);
void arch_set_kernel_stack(uint64_t top);
/* Opens exactly these port ranges to user mode (NULL, 0: none). */
void arch_set_io_permissions(const struct ioport_range *r, int n);
/* Whether this CPU's I/O permissions open `port` to user mode now. */
bool arch_io_allowed(uint16_t port);
/* PCI configuration space; => 0, or -1 for a bad offset or size. */
int arch_pci_read(uint32_t bdf, uint32_t offset, uint32_t size, uint32_t *value);
int arch_pci_write(uint32_t bdf, uint32_t offset, uint32_t size, uint32_t value);
/* Does [pa, pa + len) touch the machine's own interrupt and remapping
 * hardware, which no driver may map whatever a BAR says? */
bool arch_mmio_reserved(paddr_t pa, uint64_t len);

/* --- boot console (COM1) --- */
void arch_serial_init(void);
void arch_serial_enable_rx_irq(void);
void arch_serial_write(const char *s, size_t n);
int arch_serial_getc(void);		/* -1 if no byte waiting */

/* --- backtrace --- */
/* Fills pcs[] with return addresses walking frame pointers from fp. */
int arch_backtrace(uint64_t fp, uint64_t *pcs, int max);

/*
 * A device wrote the frame at pa by DMA.  The cost-model plugin
 * (tools/costmodel/) cannot see DMA, so this tells it to drop the frame
 * from its simulated caches: a marker and a one-byte load through the
 * direct map (<ferry/costmark.h>), two instructions when nobody listens.
 */
static inline void arch_cost_device_wrote(paddr_t pa)
{
	cost_dma_written(phys_to_virt(pa));
}

/* --- page tables --- */
#define VM_READ		0x01u
#define VM_WRITE	0x02u
#define VM_EXEC		0x04u
#define VM_USER		0x08u
#define VM_GLOBAL	0x10u
#define VM_UNCACHED	0x20u

/* The kernel half of every address space shares one set of tables. */
paddr_t arch_kernel_root(void);
/* A new root sharing the kernel half; NULL (0) when out of memory. */
paddr_t arch_pt_create(void);
/* Frees the user half's tables and the root; the mapped frames are the caller's. */
void arch_pt_destroy(paddr_t root);
void arch_paging_init(paddr_t ram_top);
int arch_pt_map(paddr_t root, vaddr_t va, paddr_t pa, unsigned vm_flags);
int arch_pt_unmap(paddr_t root, vaddr_t va, paddr_t *old_pa);
bool arch_pt_query(paddr_t root, vaddr_t va, paddr_t *pa, unsigned *vm_flags);
void arch_tlb_flush_page(vaddr_t va);
void arch_tlb_flush_all(void);		/* this CPU's user entries (a CR3 reload) */
/* A user PTE another CPU's page walker may be updating (accessed, dirty):
 * replace it atomically and get the old value, or clear accessed alone. */
pte_t arch_pte_exchange(pte_t *p, pte_t v);
void arch_pte_clear_accessed_atomic(pte_t *p);
/*
 * A kernel address for [pa, pa + len): the direct map when it covers the
 * range and caching is wanted, else a new, permanent kernel mapping with
 * these VM_* flags (VM_UNCACHED for device registers).  NULL when the
 * range wraps or the window for such mappings is full.
 */
void *arch_map_phys(paddr_t pa, size_t len, unsigned vm_flags);

/*
 * Raw leaf entries, for the paging code that keeps state in them.  A
 * non-present entry carries ARCH_PTE_PAYLOAD_BITS bits of software payload
 * whose meaning belongs to kernel/mm/pte.h.
 */
#define ARCH_PTE_PAYLOAD_BITS 62
pte_t *arch_pt_leaf(paddr_t root, vaddr_t va, bool create);
/* The leaf entry of the page after va, pte being va's (no tables made):
 * the next entry when both share a leaf table, else a walk (NULL). */
pte_t *arch_pt_leaf_next(paddr_t root, pte_t *pte, vaddr_t va);
/* Calls fn for every non-zero leaf entry of the user half, in address order. */
void arch_pt_walk_user(paddr_t root, void (*fn)(vaddr_t va, pte_t pte, void *ctx), void *ctx);
/*
 * One walk for a user copy: *frame = the frame at va when its leaf is
 * present, user-accessible, ordinary memory (not VM_UNCACHED device
 * registers) and writable if `write`.  => false otherwise (the caller asks
 * the region why).
 */
bool arch_pt_user_frame(paddr_t root, vaddr_t va, bool write, paddr_t *frame);
unsigned arch_pte_vm_flags(pte_t pte);
pte_t arch_pte_make(paddr_t pa, unsigned vm_flags);
/* arch_pte_present, _frame, _accessed, _dirty, _absent, _payload: inline. */
#include "x86_64/pte_bits.h"
void arch_switch_root(paddr_t root);
paddr_t arch_current_root(void);

#endif

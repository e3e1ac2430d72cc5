// SPDX-License-Identifier: MIT
/*
 * One handler per entry of FERRY_SYSCALLS, each a thin decoder: it names
 * the arguments, checks rights, and calls the subsystem that validates and
 * acts.  The table below is generated from the same list, so a syscall
 * without a handler does not compile.
 */
#include "syscall.h"

#include <ferry/abi.h>
#include <ferry/err.h>
#include <ferry/syscalls.h>
#include <stddef.h>
#include <string.h>

#include "arch/arch.h"
#include "bootinfo.h"
#include "clock.h"
#include "console.h"
#include "debug/kdb.h"
#include "grant/grant.h"
#include "iommu/iommu.h"
#include "ipc/allow.h"
#include "ipc/port.h"
#include "mm/fault_stats.h"
#include "mm/pageout.h"
#include "mm/pte.h"
#include "mm/request.h"
#include "mm/swap.h"
#include "mm/tlb.h"
#include "irq.h"
#include "msi.h"
#include "log.h"
#include "mm/heap.h"
#include "mm/memobj.h"
#include "mm/objpager.h"
#include "mm/pmm.h"
#include "pci.h"
#include "proc/proc.h"
#include "uaccess.h"

#define QEMU_EXIT_PASS	0x10
#define QEMU_EXIT_FAIL	0x11

typedef long (*syscall_fn)(struct proc *p, const uint64_t *a);

static long sys_null(struct proc *p, const uint64_t *a)
{
	(void)p;
	(void)a;
	return 0;
}

/*
 * Shared writable file mappings keep what was written: write it back
 * before it goes, so it is in the file when the caller goes on.  Clean
 * pages stay for the other mappings.  (A process that dies any other way
 * leaves its dirty pages to its memory object, which sends them itself.)
 */
static void write_back_shared(struct proc *p, uint64_t start, uint64_t end)
{
	for (struct vm_region *r = p->vm.regions; r; r = r->next)
		if ((r->flags & VMR_PAGER) && !(r->flags & VMR_PRIVATE) &&
		    (r->prot & PROT_WRITE) && r->start < end && start < r->end)
			pageout_write_back_range(p, r->start, r->end - r->start);
}

static long sys_exit(struct proc *p, const uint64_t *a)
{
	write_back_shared(p, 0, USER_TOP);
	proc_kill(p, (long)a[0]);
	thread_exit();
}

static long sys_spawn(struct proc *p, const uint64_t *a)
{
	char name[BOOT_NAME_MAX], args[SPAWN_ARGS_MAX];
	int err;

	if (!proc_has_right(p, RIGHT_SPAWN))
		return ERR_PERM;
	err = copy_string_from_user(p, name, a[0], sizeof(name));
	if (err)
		return err == ERR_RANGE ? ERR_NOENT : err;
	args[0] = '\0';
	if (a[1]) {
		err = copy_string_from_user(p, args, a[1], sizeof(args));
		if (err)
			return err == ERR_RANGE ? ERR_INVAL : err;
	}
	return proc_spawn(name, args, p->pid);
}

static long sys_wait(struct proc *p, const uint64_t *a)
{
	long status = 0, pid;

	if (a[1] && user_range_check(p, a[1], sizeof(long), 1))
		return ERR_FAULT;
	pid = proc_wait(p, a[0], &status, (int64_t)a[2]);
	if (pid > 0 && a[1] && copy_to_user(p, a[1], &status, sizeof(status)))
		return ERR_FAULT;
	return pid;
}

static long sys_kill(struct proc *p, const uint64_t *a)
{
	struct proc *target = proc_lookup(a[0]);

	if (!target)
		return ERR_NOENT;
	if (target->parent == 0 && target != p)
		return ERR_PERM;	/* the first process keeps the system alive */
	if (target != p && target->parent != p->pid && !proc_has_right(p, RIGHT_KILL))
		return ERR_PERM;
	proc_kill(target, PROC_STATUS_KILLED);
	return 0;
}

static long sys_getpid(struct proc *p, const uint64_t *a)
{
	(void)a;
	return (long)p->pid;
}

static long sys_proc_info(struct proc *p, const uint64_t *a)
{
	struct proc_info info;
	int err;

	if (user_range_check(p, a[1], sizeof(info), 1))
		return ERR_FAULT;
	err = proc_info((long)a[0], &info);
	if (err)
		return err;
	return copy_to_user(p, a[1], &info, sizeof(info));
}

static long sys_thread_create(struct proc *p, const uint64_t *a)
{
	struct thread *t;

	if (!vm_range_ok(a[0], 1) || (a[1] & 15) || !vm_range_ok(a[1] - 8, 8))
		return ERR_INVAL;
	if (p->nthreads >= PROC_THREADS_MAX)
		return ERR_NOMEM;
	t = thread_create_user(p, a[0], a[1], a[2], 0, p->config->priority);
	return t ? (long)t->tid : ERR_NOMEM;
}

static long sys_thread_exit(struct proc *p, const uint64_t *a)
{
	(void)p;
	(void)a;
	thread_exit();
}

static long sys_yield(struct proc *p, const uint64_t *a)
{
	(void)p;
	(void)a;
	sched_yield();
	return 0;
}

static long sys_sleep(struct proc *p, const uint64_t *a)
{
	long err;

	(void)p;
	if ((int64_t)a[0] < 0)
		return ERR_INVAL;
	err = thread_block(NULL, THREAD_BLOCKED_SLEEP, 0, (int64_t)a[0]);
	return err == ERR_TIMEOUT ? 0 : err;
}

static long sys_clock_ns(struct proc *p, const uint64_t *a)
{
	(void)p;
	(void)a;
	return (long)clock_ns();
}

static long sys_console_write(struct proc *p, const uint64_t *a)
{
	return console_user_write(p, a[0], (long)a[1]);
}

static long sys_console_read(struct proc *p, const uint64_t *a)
{
	return console_user_read(p, a[0], (long)a[1]);
}

static long sys_mem_map(struct proc *p, const uint64_t *a)
{
	uint64_t addr;
	int err = vm_map_anon(&p->vm, a[0], a[1], (uint32_t)a[2], 0, &addr);

	return err ? err : (long)addr;
}

static long sys_mem_unmap(struct proc *p, const uint64_t *a)
{
	struct vm_region *r = vm_find(&p->vm, a[0]);

	/* DMA buffers stay for the process's life: its device may use them. */
	if (r && (r->flags & (VMR_IMAGE | VMR_STACK | VMR_GRANT | VMR_DMA)))
		return ERR_PERM;
	if (r && r->start == a[0])
		write_back_shared(p, r->start, r->end);
	return vm_unmap(&p->vm, a[0], a[1]);
}

static long sys_mem_pin(struct proc *p, const uint64_t *a)
{
	if (!proc_has_right(p, RIGHT_PIN))
		return ERR_PERM;
	return vm_pin(&p->vm, a[0], a[1]);
}

static long sys_dma_alloc(struct proc *p, const uint64_t *a)
{
	uint64_t va, dev;
	paddr_t pa;
	int err;

	if (!proc_has_right(p, RIGHT_DMA))
		return ERR_PERM;
	if (user_range_check(p, a[1], sizeof(uint64_t), 1))
		return ERR_FAULT;
	err = vm_map_dma(&p->vm, a[0], &va, &pa);
	if (err)
		return err;
	/* With an IOMMU the device sees the buffer at an address of the
	 * driver's domain, never at its physical one. */
	dev = iommu_dma_map(p, va, pa, PAGE_ALIGN_UP(a[0]) >> PAGE_SHIFT);
	if (dev == IOMMU_NO_ROOM) {
		vm_unmap(&p->vm, va, a[0]);
		return ERR_NOMEM;
	}
	copy_to_user(p, a[1], &dev, sizeof(dev));
	return (long)va;
}

static long sys_port_create(struct proc *p, const uint64_t *a)
{
	return port_create(p, (long)a[0]);
}

static long sys_port_destroy(struct proc *p, const uint64_t *a)
{
	return port_destroy(p, a[0]);
}

static long sys_port_publish(struct proc *p, const uint64_t *a)
{
	char name[PORT_NAME_MAX];
	int err = copy_string_from_user(p, name, a[0], sizeof(name));

	return err ? (err == ERR_RANGE ? ERR_INVAL : err) : port_publish(p, name, a[1]);
}

static long sys_port_lookup(struct proc *p, const uint64_t *a)
{
	char name[PORT_NAME_MAX];
	int err = copy_string_from_user(p, name, a[0], sizeof(name));

	return err ? (err == ERR_RANGE ? ERR_NOENT : err) : port_lookup(name);
}

static long sys_send(struct proc *p, const uint64_t *a)
{
	return ipc_send(p, a[0], a[1]);
}

static long sys_recv(struct proc *p, const uint64_t *a)
{
	return ipc_recv(p, a[0], a[1], (int64_t)a[2]);
}

static long sys_call(struct proc *p, const uint64_t *a)
{
	return ipc_call(p, a[0], a[1], a[2], (int64_t)a[3]);
}

static long sys_reply(struct proc *p, const uint64_t *a)
{
	return ipc_reply(p, a[0], a[1]);
}

static long sys_irq_attach(struct proc *p, const uint64_t *a)
{
	return irq_attach(p, (long)a[0], a[1]);
}

static long sys_irq_ack(struct proc *p, const uint64_t *a)
{
	return irq_ack(p, (long)a[0]);
}

static long sys_pci_read(struct proc *p, const uint64_t *a)
{
	uint32_t v;

	if (!proc_has_right(p, RIGHT_PCI))
		return ERR_PERM;
	if (arch_pci_read((uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], &v) || a[0] > 0xFFFF)
		return ERR_INVAL;
	return (long)v;
}

static long sys_pci_write(struct proc *p, const uint64_t *a)
{
	const char *why;

	if (!proc_has_right(p, RIGHT_PCI))
		return ERR_PERM;
	why = a[0] <= 0xFFFF ? pci_config_write_refused((uint32_t)a[0], (uint32_t)a[1],
							 (uint32_t)a[2]) : NULL;
	if (why) {
		log_warn("%s (pid %lu): pci_write of %02lx:%02lx.%lx at %#lx refused: %s", p->name,
			 (unsigned long)p->pid, (unsigned long)(a[0] >> 8),
			 (unsigned long)((a[0] >> 3) & 31), (unsigned long)(a[0] & 7),
			 (unsigned long)a[1], why);
		return ERR_PERM;
	}
	if (a[0] <= 0xFFFF && !pci_bus_master_allowed(p, (uint32_t)a[0], (uint32_t)a[1],
						       (uint32_t)a[2], (uint32_t)a[3]))
		return ERR_PERM;	/* bus mastering of a function it was not given */
	if (a[0] > 0xFFFF || arch_pci_write((uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2],
					    (uint32_t)a[3]))
		return ERR_INVAL;
	return 0;
}

/* A memory BAR of a PCI function p is bound to (pci.h). */
static long sys_mmio_map(struct proc *p, const uint64_t *a)
{
	uint64_t va, len;
	long err;

	if (a[2] && user_range_check(p, a[2], sizeof(len), 1))
		return ERR_FAULT;
	if (a[0] > 0xFFFF)
		return ERR_NOENT;
	err = pci_mmio_map(p, (uint32_t)a[0], (unsigned)a[1] < PCI_BARS ? (unsigned)a[1] : PCI_BARS,
			   &va, &len);
	if (err)
		return err;
	if (a[2])
		copy_to_user(p, a[2], &len, sizeof(len));
	return (long)va;
}

/* A message interrupt (MSI-X entry, or MSI) of a function p is bound to (msi.h). */
static long sys_msi_attach(struct proc *p, const uint64_t *a)
{
	if (a[0] > 0xFFFF)
		return ERR_NOENT;
	return msi_attach(p, (uint32_t)a[0], (long)a[1], (long)a[2], a[3]);
}

static long sys_stats(struct proc *p, const uint64_t *a)
{
	struct iommu_counts ic;
	struct sys_stats st;
	struct pmm_stats ps;
	struct tlb_totals tlb;
	struct memobj_totals mt;

	memset(&st, 0, sizeof(st));
	pmm_get_stats(&ps);
	st.frames_total = ps.total;
	/* Heap core and the pre-zeroed pool are free memory held in reserve. */
	st.frames_free = ps.count[FRAME_FREE] + ps.count[FRAME_HEAP] + ps.count[FRAME_ZEROED];
	st.ports_live = port_count();
	st.procs_live = proc_count();
	st.threads_live = thread_count();
	st.heap_bytes = heap_bytes_in_use();
	for (unsigned i = 0; i < cpu_count; i++) {
		st.syscalls += cpus[i].syscalls;
		st.context_switches += cpus[i].context_switches;
		st.halted_cycles += sched_halted_cycles(&cpus[i]);
		st.cpus_online += cpu_online(i);
		st.ipis_sent += cpus[i].ipis_sent;
		st.ipis_lock_wake += cpus[i].ipis_sent_kind[IPI_WAKE];
		st.irqs_message += cpus[i].irqs_message;
		st.irqs_message_kernel += cpus[i].irqs_message_kernel;
	}
	tlb_get_totals(&tlb);
	st.tlb_ipis = tlb.ipis;
	st.cycles_per_sec = arch_cycles_per_sec();
	st.swap_slots_used = swap_slots_used();
	st.grants_live = (uint64_t)grant_live_count();
	st.requests_live = (uint64_t)request_live_count();
	st.late_replies = ipc_late_replies()->count;
	iommu_counts(&ic);
	st.frames_parked = ic.parked;
	/* Parked frames are FRAME_QUARANTINE too, but only until their driver is done. */
	st.frames_quarantined = ps.count[FRAME_QUARANTINE];
	memobj_get_totals(&mt);
	st.memobjs_live = mt.live;
	st.memobj_pages = mt.pages;
	return copy_to_user(p, a[0], &st, sizeof(st));
}

static long sys_shutdown(struct proc *p, const uint64_t *a)
{
	if (!proc_has_right(p, RIGHT_SHUTDOWN))
		return ERR_PERM;
	log_info("shutdown requested by %s (code %ld)", p->name, (long)a[0]);
	kdb_run_line("check");	/* every orderly end leaves a consistency verdict */
	arch_qemu_exit(a[0] == 0 ? QEMU_EXIT_PASS : QEMU_EXIT_FAIL);
}

static long sys_swap_register(struct proc *p, const uint64_t *a)
{
	struct swap_area area;

	if (a[3] && copy_from_user(p, &area, a[3], sizeof(area)))
		return ERR_FAULT;
	area.sa_where[SWAP_WHERE_MAX - 1] = '\0';
	return swap_register(p, a[0], a[1], (uint32_t)a[2], a[3] ? &area : NULL);
}

/* A right missing: refused, and the kernel log says which and for whom. */
static long refused(const struct proc *p, const char *what, const char *right)
{
	log_warn("%s (pid %lu): %s refused: no `%s` right", p->name, (unsigned long)p->pid, what,
		 right);
	return ERR_PERM;
}

static long sys_pager_modes(struct proc *p, const uint64_t *a)
{
	if (!proc_has_right(p, RIGHT_PAGER))
		return refused(p, "pager_modes", "pager");
	return port_set_pager_modes(p, a[0], a[1]);
}

/* The pager of a named store, whose mappings a restarted one takes over (objpager.h). */
static long sys_pager_register(struct proc *p, const uint64_t *a)
{
	uint8_t store[OBJPAGER_STORE_ID_SIZE];

	if (!proc_has_right(p, RIGHT_PAGER))
		return refused(p, "pager_register", "pager");
	if (copy_from_user(p, store, a[2], sizeof(store)))
		return ERR_FAULT;
	return objpager_register(p, a[0], (uint32_t)a[1], store);
}

/*
 * A region's pager is the owner of its port: the kernel lends that process
 * the faulting process's frames on every fault.  Only a program the boot
 * configuration names a pager may be one, whoever maps the region (or
 * runs a program from it).  => 0, or the error, logged.
 */
static long pager_port_ok(struct proc *p, uint64_t port, const char *what)
{
	struct proc *pager = port_owner(port);

	if (!pager)
		return ERR_BADHANDLE;
	if (swap_port_is_provider(port))
		return ERR_PERM;	/* swap slots are the kernel's to ask for */
	if (!proc_has_right(pager, RIGHT_PAGER)) {
		log_warn("%s (pid %lu): %s refused: port %#lx's owner %s (pid %lu) has no `pager`"
			 " right", p->name, (unsigned long)p->pid, what, (unsigned long)port,
			 pager->name, (unsigned long)pager->pid);
		return ERR_PERM;
	}
	return 0;
}

static long sys_mem_map_pager(struct proc *p, const uint64_t *a)
{
	uint64_t addr;
	long err = pager_port_ok(p, a[0], "mem_map_pager");

	if (!err)
		err = vm_map_pager(&p->vm, a[0], a[1], a[2], a[3], (uint32_t)a[4], &addr);
	if (err == ERR_BUSY)
		log_warn("%s (pid %lu): mem_map_pager refused: object %#lx runs as a program, and a"
			 " shared writable mapping would change it under it", p->name,
			 (unsigned long)p->pid, (unsigned long)a[1]);
	return err ? err : (long)addr;
}

static long sys_spawn_file(struct proc *p, const uint64_t *a)
{
	char path[SPAWN_PATH_MAX], args[SPAWN_ARGS_MAX];
	long err;

	if (!proc_has_right(p, RIGHT_SPAWN))
		return ERR_PERM;
	err = pager_port_ok(p, a[0], "spawn_file");
	if (err)
		return err;
	err = copy_string_from_user(p, path, a[2], sizeof(path));
	if (err)
		return err == ERR_RANGE ? ERR_INVAL : err;
	args[0] = '\0';
	if (a[3]) {
		err = copy_string_from_user(p, args, a[3], sizeof(args));
		if (err)
			return err == ERR_RANGE ? ERR_INVAL : err;
	}
	return proc_spawn_file(a[0], a[1], path, args, p->pid);
}

static uint32_t mem_kind(const struct vm_region *r)
{
	if (r->flags & VMR_GRANT)
		return MEM_KIND_GRANT;
	if (r->flags & VMR_DMA)
		return MEM_KIND_DMA;
	if (r->flags & VMR_PAGER)
		return (r->flags & VMR_IMAGE) ? MEM_KIND_PROGRAM : MEM_KIND_FILE;
	if (r->flags & VMR_IMAGE)
		return MEM_KIND_IMAGE;
	return (r->flags & VMR_STACK) ? MEM_KIND_STACK : MEM_KIND_ANON;
}

static long sys_mem_info(struct proc *p, const uint64_t *a)
{
	struct proc *who = a[0] ? proc_lookup(a[0]) : p;
	struct mem_region_info info;
	struct vm_region *r;
	struct vm_census c;
	uint64_t i = 0;

	if (!who)
		return ERR_NOENT;
	for (r = who->vm.regions; r && i < a[1]; r = r->next)
		i++;
	if (!r)
		return ERR_NOENT;
	vm_region_census(&who->vm, r, &c);
	info = (struct mem_region_info){
		.start = r->start, .end = r->end, .prot = r->prot, .kind = mem_kind(r),
		.flags = ((r->flags & VMR_PRIVATE) ? MEM_F_PRIVATE : 0) |
			 ((r->flags & VMR_PINNED) ? MEM_F_PINNED : 0),
		.resident = c.resident, .shared = c.shared, .shared_others = c.shared_others,
		.private_pages = c.private_pages, .swapped = c.swapped,
	};
	if (r->obj) {
		info.object = r->pager_object;
		info.memobj = memobj_id(r->obj);
		info.obj_mappings = r->obj->nmappings;
		info.obj_pages = (uint32_t)r->obj->pages;
	}
	return copy_to_user(p, a[2], &info, sizeof(info));
}

/* A pager asks whether a program runs from one of its objects (fs, before a write). */
static long sys_pager_object_busy(struct proc *p, const uint64_t *a)
{
	struct memobj *o;

	if (!port_owned_by(a[0], p))
		return ERR_BADHANDLE;
	o = memobj_find(a[0], a[1]);
	return o && memobj_busy(o);
}

static long sys_grant_info(struct proc *p, const uint64_t *a)
{
	struct grant_info info;
	long err;

	if (user_range_check(p, a[1], sizeof(info), 1))
		return ERR_FAULT;
	err = grant_info_for(p, a[0], &info);
	return err ? err : copy_to_user(p, a[1], &info, sizeof(info));
}

static long sys_grant_forward(struct proc *p, const uint64_t *a)
{
	return grant_forward(p, a[0], a[1]);
}

static long sys_cpu_self(struct proc *p, const uint64_t *a)
{
	(void)p;
	(void)a;
	return (long)this_cpu()->id;
}

static long sys_grant_done(struct proc *p, const uint64_t *a)
{
	return grant_done(p, a[0], a[1]);
}

/* The user's struct allow_info: its header, and as many ranges as it says. */
static long allow_in(struct proc *p, uint64_t uptr, struct allow_info *in)
{
	if (copy_from_user(p, in, uptr, ALLOW_INFO_HEADER))
		return ERR_FAULT;
	if (in->ai_nranges > ALLOW_RANGES_MAX)
		return ERR_INVAL;
	if (copy_from_user(p, in->ai_ranges, uptr + ALLOW_INFO_HEADER,
			   (size_t)in->ai_nranges * sizeof(in->ai_ranges[0])))
		return ERR_FAULT;
	return 0;
}

static long allow_out(struct proc *p, uint64_t uptr, const struct allow_info *out, uint32_t room)
{
	uint32_t n = out->ai_nranges < room ? out->ai_nranges : room;

	return copy_to_user(p, uptr, out, ALLOW_INFO_HEADER + (size_t)n * sizeof(out->ai_ranges[0]));
}

static long sys_allow(struct proc *p, const uint64_t *a)
{
	struct allow_info info;
	uint32_t room;
	long ret;

	if (a[0] == ALLOW_LIVE)
		return allow_live(p, a[1]);
	if (a[0] == ALLOW_REVOKE)
		return allow_revoke(p, a[1]);
	if (a[0] == ALLOW_CREATE) {
		if (!proc_has_right(p, RIGHT_ALLOW))
			return refused(p, "allow_create", "allow");
		ret = allow_in(p, a[2], &info);
		return ret ? ret : allow_create(p, &info);
	}
	if (a[0] != ALLOW_INFO && a[0] != ALLOW_LIST)
		return ERR_INVAL;
	if (copy_from_user(p, &room, a[2] + offsetof(struct allow_info, ai_nranges), sizeof(room)))
		return ERR_FAULT;
	if (room > ALLOW_RANGES_MAX)
		room = ALLOW_RANGES_MAX;
	ret = a[0] == ALLOW_INFO ? allow_info(p, a[1], &info, room)
				 : allow_list(p, a[1], &info, room);
	if (ret < 0)
		return ret;
	return allow_out(p, a[2], &info, room) ? ERR_FAULT : ret;
}

static long page_state(struct proc *p, uint64_t va)
{
	struct vm_region *r = vm_find(&p->vm, va);
	pte_t *pte;
	uint64_t sw;

	if (!r)
		return ERR_FAULT;
	pte = arch_pt_leaf(p->vm.root, va, false);
	if (!pte || !*pte)
		return r->obj && va < r->zero_from ? PAGE_WITH_PAGER : PAGE_ABSENT;
	if (arch_pte_present(*pte))
		return PAGE_RESIDENT;
	sw = arch_pte_payload(*pte);
	if (pte_is_inflight(sw))
		return PAGE_INFLIGHT;
	return pte_is_swapped(sw) ? PAGE_SWAPPED : PAGE_WITH_PAGER;
}

/* The mappings of `object` of the pager behind port, in all processes
 * (its memory object's regions: plain mappings and running programs). */
static long object_mappings(struct proc *p, uint64_t port, uint64_t uobject)
{
	const struct memobj *o;
	uint64_t object;

	if (!port_owned_by(port, p))
		return ERR_BADHANDLE;
	if (copy_from_user(p, &object, uobject, sizeof(object)))
		return ERR_FAULT;
	o = memobj_find(port, object);
	return o ? (long)o->nmappings : 0;
}

static long memobj_stats_to_user(struct proc *p, uint64_t to)
{
	struct memobj_totals t;
	struct memobj_stats st;

	memobj_get_totals(&t);
	st = (struct memobj_stats){ .live = t.live, .pages = t.pages, .hits = t.hits,
				    .cows = t.cows, .zero_tails = t.zero_tails, .drops = t.drops,
				    .writebacks = t.writebacks };
	return copy_to_user(p, to, &st, sizeof(st));
}

static long sys_vm_ctl(struct proc *p, const uint64_t *a)
{
	uint8_t area[SWAP_AREA_ID_SIZE];
	struct fault_stats st[FILL_NMODES];

	switch (a[0]) {
	case VM_CTL_FAULTPATH_GET:
		return fill_mode_current;
	case VM_CTL_FAULTPATH_SET:
		if (!proc_has_right(p, RIGHT_FAULTPATH))
			return refused(p, "switching the fault path", "faultpath");
		if (a[1] >= FILL_NMODES)
			return ERR_INVAL;
		fill_mode_current = (enum fill_mode)a[1];
		log_info("fault path switched to %s by %s", fill_mode_name(fill_mode_current),
			 p->name);
		return 0;
	case VM_CTL_CLUSTER:
		if (!proc_has_right(p, RIGHT_FAULTPATH))
			return refused(p, "setting the cluster size", "faultpath");
		if (a[1] < 1 || a[1] > GRANT_MAX_PAGES)
			return ERR_INVAL;
		fault_cluster_pages = (int)a[1];
		return 0;
	case VM_CTL_PAGE_STATE:
		return page_state(p, a[1]);
	case VM_CTL_EVICT:
		return pageout_evict_range(p, (uint64_t)a[2], a[1]);
	case VM_CTL_SYNC: {
		struct vm_region *r = vm_find(&p->vm, (uint64_t)a[2]);

		if (!r || !(r->flags & VMR_PAGER) || (r->flags & VMR_PRIVATE))
			return ERR_INVAL;
		/* Written back and dropped: the next touch reads it again. */
		return pageout_evict_range(p, (uint64_t)a[2], a[1]);
	}
	case VM_CTL_DMA_RING:
		return vm_set_dma_ring(&p->vm, (uint64_t)a[2], a[1]);
	case VM_CTL_MEMOBJ_STATS:
		return memobj_stats_to_user(p, a[2]);
	case VM_CTL_FRAME: {
		paddr_t pa;
		long err;

		if (!proc_has_right(p, RIGHT_DMA))
			return refused(p, "asking for a physical frame", "dma");
		err = vm_user_frame(&p->vm, PAGE_ALIGN_DOWN((uint64_t)a[2]), false, &pa);
		return err ? err : (long)pa;
	}
	case VM_CTL_DMA_QUIET:
		if (!proc_has_right(p, RIGHT_DMA))
			return refused(p, "declaring its device quiet", "dma");
		return iommu_quiet(p);
	case VM_CTL_STATS:
		for (int m = 0; m < FILL_NMODES; m++)
			st[m] = *fault_stats_for((enum fill_mode)m);
		return copy_to_user(p, a[2], st, sizeof(st));
	case VM_CTL_OBJECT_MAPPED:
		return object_mappings(p, a[1], a[2]);
	case VM_CTL_SWAP_AREA:
		if (copy_from_user(p, area, a[2], sizeof(area)))
			return ERR_FAULT;
		return swap_area_kept(area);
	default:
		return ERR_INVAL;
	}
}

static const struct {
	syscall_fn fn;
	const char *name;
} syscall_table[SYS_COUNT] = {
#define FERRY_SYSCALL_ENTRY(num, name, nargs, params, args) [num] = { sys_##name, #name },
	FERRY_SYSCALLS(FERRY_SYSCALL_ENTRY)
#undef FERRY_SYSCALL_ENTRY
};

const char *syscall_name(uint64_t num)
{
	return num < SYS_COUNT && syscall_table[num].name ? syscall_table[num].name : "?";
}

long syscall_dispatch(uint64_t num, const uint64_t args[6])
{
	struct proc *p = proc_current();

	this_cpu()->syscalls++;
	if (num >= SYS_COUNT || !syscall_table[num].fn)
		return ERR_NOSYS;
	return syscall_table[num].fn(p, args);
}

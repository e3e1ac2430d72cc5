/* SPDX-License-Identifier: MIT */
/*
 * Types shared by the kernel and user programs across system calls.
 * Every struct here is copied with checked accessors; sizes are fixed and
 * asserted so the ABI cannot drift silently.
 */
#ifndef FERRY_ABI_H
#define FERRY_ABI_H

#include <stdint.h>

#define PROC_NAME_MAX	16
#define PROC_IMAGE_MAX	32	/* a program's file path as ps shows it, NUL included */
#define SPAWN_PATH_MAX	256	/* sys_spawn_file's path, NUL included */
#define SPAWN_ARGS_MAX	256	/* bytes of argument string, NUL included */
#define PORT_NAME_MAX	32
#define CONSOLE_IO_MAX	4096	/* longest console_write/read in one call */
/*
 * Ctrl-R, a terminal's "reprint" key: the reader draws its prompt and the
 * line being edited again.  The kernel sends it too, to a reader waiting
 * for input when the debug console has written over the screen.
 */
#define CONSOLE_KEY_REPRINT	0x12
#define PORT_QUEUE_MAX	256

/* sys_wait status of a process the kernel ended (otherwise its exit code) */
#define PROC_STATUS_FAULT	(-256)	/* a CPU exception in user mode */
#define PROC_STATUS_KILLED	(-257)	/* sys_kill */

/* mem_map protection */
#define PROT_READ	0x1
#define PROT_WRITE	0x2
#define PROT_EXEC	0x4
/*
 * mem_map_pager: with MAP_PRIVATE (or'ed into prot) written pages stay
 * private to the process: they are never written back to the pager (under
 * pressure they go to swap).  Without it the mapping is shared: dirty pages
 * go back to the pager on VM_CTL_SYNC, munmap, sys_exit and eviction, and
 * the kernel sends those of a process that died without sys_exit itself.
 */
#define MAP_PRIVATE	0x100

/* Thread states, as shown by ps and the debug console. */
#define FERRY_THREAD_STATES(X)                                     \
	X(THREAD_RUNNING, "running")                                \
	X(THREAD_READY, "ready")                                    \
	X(THREAD_BLOCKED_RECV, "recv")		/* waiting for a message */ \
	X(THREAD_BLOCKED_CALL, "call")		/* waiting for a reply */  \
	X(THREAD_BLOCKED_PAGER, "pager-io")	/* waiting for pager/disk I/O */ \
	X(THREAD_BLOCKED_WAIT, "wait")		/* waiting for a child */  \
	X(THREAD_BLOCKED_SLEEP, "sleep")                            \
	X(THREAD_BLOCKED_CONSOLE, "console")	/* waiting for input */ \
	X(THREAD_DEAD, "dead")

enum thread_state {
#define FERRY_STATE_ENUM(name, text) name,
	FERRY_THREAD_STATES(FERRY_STATE_ENUM)
#undef FERRY_STATE_ENUM
	THREAD_NSTATES
};

/* One process, as sys_proc_info reports it (state of its first live thread). */
struct proc_info {
	int64_t pid;		/* handle: index + generation */
	int64_t parent;
	char name[PROC_NAME_MAX];
	uint32_t state;		/* enum thread_state */
	uint32_t priority;
	uint32_t nthreads;
	uint32_t grants_held;	/* live grants lent to it, or forwarded by it (kernel/grant) */
	uint64_t wait_object;	/* port, pid or request the thread waits on */
	uint64_t resident_pages;
	uint64_t cpu_ns;
	uint32_t flags;		/* PROC_INFO_* */
	uint32_t reserved;
	/* The file it runs from (sys_spawn_file), cut to fit; "" for a boot module. */
	char image[PROC_IMAGE_MAX];
};

/* A service started by a process without the `restart` right (a copy typed
 * at the shell), or any program run from a file: it may have a service's
 * name but none of its rights, and servers that trust a program by name
 * must not trust it. */
#define PROC_INFO_STRIPPED	0x1
/* It has the `swap` right: it may register as a swap provider. */
#define PROC_INFO_SWAP		0x2

_Static_assert(sizeof(struct proc_info) == 112, "struct proc_info ABI");

/*
 * sys_spawn_file(port, object, path, args): runs the ELF executable that
 * is object `object` of the pager behind `port` (fs: a file handle,
 * <proto/fs.h>; lib's file_spawn() opens a path and calls it), named
 * `path`: ps shows the path's last part, and the process gets the rights
 * of the boot configuration's line for the path.  Needs the spawn right;
 * the port's owner must have the pager right.  The calling thread reads
 * the headers through the file's pager (pager-io); the segments are
 * mapped from the file and paged in when touched.  => pid, or
 * ERR_NOEXEC (the kernel log says why), ERR_BUSY (the file is mapped
 * shared and writable), ERR_PERM, ERR_BADHANDLE, ERR_NOMEM, or the error
 * of the page-in of its first page.
 *
 * sys_mem_info(pid, index, out): region `index` of process pid (0 for
 * the caller), in address order; ERR_NOENT past the last.  Any process
 * may look.
 *
 * sys_pager_object_busy(port, object): 1 if a program runs from object
 * `object` of the pager owning `port` (the caller must own it), else 0.
 * fs asks before it changes a file's contents or removes it.
 */
#define MEM_KIND_ANON		0	/* demand-zero */
#define MEM_KIND_STACK		1
#define MEM_KIND_IMAGE		2	/* a boot module's segment, copied at spawn */
#define MEM_KIND_FILE		3	/* a file mapping (sys_mem_map_pager) */
#define MEM_KIND_PROGRAM	4	/* a segment of a program from a file */
#define MEM_KIND_DMA		5
#define MEM_KIND_GRANT		6	/* the grant window */

#define MEM_F_PRIVATE		0x1	/* a pager region whose writes stay private */
#define MEM_F_PINNED		0x2

struct mem_region_info {
	uint64_t start, end;
	uint32_t prot;			/* PROT_* */
	uint32_t kind;			/* MEM_KIND_* */
	uint32_t flags;			/* MEM_F_* */
	uint32_t resident;		/* present pages */
	uint32_t shared;		/* of them, the memory object's frames */
	uint32_t shared_others;		/* of those, frames mapped elsewhere too */
	uint32_t private_pages;		/* of them, the process's own frames */
	uint32_t swapped;
	uint64_t object;		/* the pager's object id (file regions) */
	uint64_t memobj;		/* the memory object's id; 0: none */
	uint32_t obj_mappings;		/* regions mapping it, in all processes */
	uint32_t obj_pages;		/* its resident pages */
};

_Static_assert(sizeof(struct mem_region_info) == 72, "struct mem_region_info ABI");

/* VM_CTL_MEMOBJ_STATS: the memory objects, system-wide. */
struct memobj_stats {
	uint64_t live, pages;		/* objects, and the pages they cache */
	uint64_t hits;			/* faults served from an object's cache, no I/O */
	uint64_t cows;			/* private copies made at a first write */
	uint64_t zero_tails;		/* copies of a segment's last file page, tail zeroed */
	uint64_t drops;			/* clean pages dropped from every mapping */
	uint64_t writebacks;		/* dirty pages written back to their pager */
	uint64_t reserved;
};

_Static_assert(sizeof(struct memobj_stats) == 64, "struct memobj_stats ABI");

/* System-wide counters, for leak checks and tests. */
struct sys_stats {
	uint64_t frames_total, frames_free;
	uint64_t ports_live, procs_live, threads_live;
	uint64_t heap_bytes;
	uint64_t syscalls, context_switches;
	uint64_t cycles_per_sec;
	uint64_t swap_slots_used;	/* over all live providers */
	uint64_t grants_live, requests_live;
	uint64_t halted_cycles;		/* CPUs idle in hlt since boot, summed over them */
	uint64_t late_replies;		/* answers to calls whose caller had given up */
	uint64_t frames_quarantined;	/* never reused: a device may still write them */
	uint64_t memobjs_live;		/* memory objects (kernel/mm/memobj.h) */
	uint64_t memobj_pages;		/* the pages they cache */
	/* Frames the IOMMU's take-back parked until their driver said its
	 * device was done (kernel/iommu), since boot: the same safety, ended. */
	uint64_t frames_parked;
	uint64_t cpus_online;
	uint64_t tlb_ipis;		/* TLB shootdown IPIs sent, since boot */
	uint64_t ipis_sent;		/* IPIs of every kind, since boot: shootdowns,
					   reschedules, kdb stops, lock wake-ups */
	uint64_t ipis_lock_wake;	/* of them, to CPUs halted waiting for the kernel lock */
	/* Message-signalled interrupts (MSI-X, MSI: kernel/msi.h) taken, since
	 * boot: by drivers' IRQs, and by the kernel's own (the IOMMU's faults). */
	uint64_t irqs_message;
	uint64_t irqs_message_kernel;
};

_Static_assert(sizeof(struct sys_stats) == 192, "struct sys_stats ABI");

/* --- paging --- */

/* How a page that must come from a pager is filled (faultpath=, VM_CTL_FAULTPATH). */
#define FERRY_FILL_MODES(X)                                           \
	X(FILL_COPY, "copy")	/* pager sends the bytes; kernel copies */ \
	X(FILL_GRANT_MAP, "grant")	/* frame lent, mapped in a window */ \
	X(FILL_GRANT_DMA, "dma")	/* frame lent by physical address only */

enum fill_mode {
#define FERRY_FILL_ENUM(name, text) name,
	FERRY_FILL_MODES(FERRY_FILL_ENUM)
#undef FERRY_FILL_ENUM
	FILL_NMODES
};

/*
 * sys_swap_register's `area`: what the provider serves.  A non-zero UUID
 * names a swap area that outlives the provider (its mkswap header's): the
 * kernel keeps the pages for a restarted provider of the same area.  `where`
 * is for people (kdb `swap`): "disk0 part1", "file /swapfile", "RAM".
 */
#define SWAP_WHERE_MAX	32

struct swap_area {
	uint8_t sa_uuid[16];
	char sa_where[SWAP_WHERE_MAX];	/* NUL-terminated */
};

/* sys_swap_register and sys_pager_modes `modes`: the fill modes a provider
 * or pager can serve, as bits.  Copy is the one every one of them must. */
#define FILL_MODE_BIT(m)	(1u << (m))
#define FILL_ALL_MODES		((1u << FILL_NMODES) - 1)

/* The mode the kernel uses when `wanted` is not among `modes`: a DMA grant
 * becomes a mapped one (the pager can still fill it with the CPU), and
 * anything else becomes copy. */
static inline enum fill_mode fill_mode_served(uint32_t modes, enum fill_mode wanted)
{
	if (modes & FILL_MODE_BIT(wanted))
		return wanted;
	if (wanted == FILL_GRANT_DMA && (modes & FILL_MODE_BIT(FILL_GRANT_MAP)))
		return FILL_GRANT_MAP;
	return FILL_COPY;
}

#define GRANT_MAX_PAGES	32	/* largest cluster one request or grant covers */

/* sys_grant_info: what the current holder may do with a grant. */
struct grant_info {
	uint32_t mode;		/* FILL_GRANT_MAP or FILL_GRANT_DMA */
	uint32_t npages;
	uint32_t writable;	/* page-in: fill it; page-out: read only */
	uint32_t device;	/* 1: phys[] are device addresses in your IOMMU domain,
				   valid while you hold the grant */
	uint64_t window;	/* FILL_GRANT_MAP: where the pages are mapped for you */
	uint64_t forwarded_from;	/* pid that forwarded it to you; 0 if the kernel lent it */
	/* Where your device reaches the frames (both modes): physical
	 * addresses without an IOMMU, device addresses with one (0: no
	 * device of yours may reach them). */
	uint64_t phys[GRANT_MAX_PAGES];
};

_Static_assert(sizeof(struct grant_info) == 32 + 8 * GRANT_MAX_PAGES, "struct grant_info ABI");

/* sys_grant_done flags.  WRITTEN: the device wrote the frames (a page-in by
 * DMA); the kernel tells the cost-model plugin, which cannot see DMA
 * (<ferry/costmark.h>).  It changes nothing else. */
#define GRANT_DONE_WRITTEN	1u

/*
 * sys_allow: allowances (kernel/ipc/allow.h).  One process (the creator,
 * fs) states that another (the grantee, swapd) may have a driver (ata)
 * touch some ranges of something the creator may use itself (the tag:
 * ata's BLOCK_PART() of a partition).  The kernel stamps the creator,
 * keeps the statement until the creator's program revokes it or the
 * grantee dies, and shows it to whoever must check it.  One that names a
 * swap area (ai_area: fs, for a swap file) is only suspended by its
 * grantee's death while the kernel keeps that area's pages for a
 * successor: no longer live, but still listed to its creator.
 *   ALLOW_CREATE  ptr: struct allow_info in (grantee, tag, object, ranges)
 *                 => id; needs the `allow` right
 *   ALLOW_INFO    id, ptr: struct allow_info out, ai_nranges in = room for
 *                 ranges; the grantee, the creator's program (with `allow`)
 *                 or a driver (`dma`) may read it
 *   ALLOW_REVOKE  id; the creator's program, with `allow`
 *   ALLOW_LIST    id = index, ptr as ALLOW_INFO: the index-th live or
 *                 suspended (ai_flags) one the caller's program created (a
 *                 restarted creator finds its own) => its id, ERR_NOENT
 *                 past the end
 *   ALLOW_LIVE    id => 0 if it still lives (for a reader), nothing copied:
 *                 one who kept what ALLOW_INFO gave checks it still holds
 * Ids are index + generation: a dead allowance is ERR_BADHANDLE for good.
 */
#define ALLOW_CREATE		1
#define ALLOW_INFO		2
#define ALLOW_REVOKE		3
#define ALLOW_LIST		4
#define ALLOW_LIVE		5
#define ALLOW_RANGES_MAX	128

struct allow_range {
	uint64_t ar_start;	/* first unit (ata: sector of the partition) */
	uint64_t ar_count;	/* >= 1 */
};

struct allow_info {
	uint64_t ai_grantee;	/* the pid it is for */
	uint64_t ai_tag;	/* what the ranges are in, in the creator's and checker's terms */
	uint64_t ai_object;	/* the creator's own name for it (fs: the file's handle) */
	uint64_t ai_creator;	/* stamped: the creator's pid (it may have died since) */
	char ai_creator_name[PROC_NAME_MAX];	/* stamped: its program */
	uint32_t ai_nranges;	/* create: given; info: in, room; out, how many there are */
	uint32_t ai_flags;	/* stamped: ALLOW_SUSPENDED */
	uint8_t ai_area[16];	/* the swap area (mkswap UUID) the ranges hold, or zeros */
	struct allow_range ai_ranges[ALLOW_RANGES_MAX];
};

/* Its grantee died; kept while the kernel keeps ai_area for a successor. */
#define ALLOW_SUSPENDED		0x1

#define ALLOW_INFO_HEADER	\
	(sizeof(struct allow_info) - sizeof(((struct allow_info *)0)->ai_ranges))

_Static_assert(ALLOW_INFO_HEADER == 72, "struct allow_info ABI");

/* sys_vm_ctl operations */
#define VM_CTL_FAULTPATH_GET	1	/* => enum fill_mode */
#define VM_CTL_FAULTPATH_SET	2	/* arg = enum fill_mode; needs the kill right */
#define VM_CTL_PAGE_STATE	3	/* arg = address => enum page_state */
#define VM_CTL_EVICT		4	/* ptr = address, arg = length: page out now, wait */
#define VM_CTL_STATS		5	/* ptr = struct fault_stats[FILL_NMODES] */
#define VM_CTL_CLUSTER		6	/* arg = pages per page-in request (1..32) */
#define VM_CTL_SYNC		7	/* ptr = address, arg = length: write dirty pager pages
					   back (and drop them) => pages written back */
#define VM_CTL_MEMOBJ_STATS	8	/* ptr = struct memobj_stats */
#define VM_CTL_OBJECT_MAPPED	9	/* arg = a port of yours, ptr = &object (uint64_t)
					   => mappings of that object on it, in all processes */
#define VM_CTL_SWAP_AREA	10	/* ptr = a swap area's UUID (16 bytes) => 1 if a
					   provider serves it or its pages wait for one, else 0 */
#define VM_CTL_FRAME		11	/* ptr = address of a resident page of yours => its
					   physical frame; needs the dma right (drivers; the
					   IOMMU's tests aim a rogue transfer at it) */
#define VM_CTL_DMA_QUIET	12	/* every DMA transfer your devices started before now
					   has ended (drivers: the dma right) => frames freed
					   that waited for it (kernel/iommu/iommu.h) */
#define VM_CTL_DMA_RING		13	/* ptr = an NVMe submission ring in your DMA memory
					   (or several, one after the other), arg = its
					   entries (2..4096): kdb's `grant ID` shows
					   which frames its commands name (the PRP view) */

enum page_state { PAGE_ABSENT, PAGE_RESIDENT, PAGE_SWAPPED, PAGE_INFLIGHT, PAGE_WITH_PAGER };

/* Phases of one fault that went to a pager, in TSC cycles from the fault. */
#define FERRY_FAULT_PHASES(X)                                   \
	X(PHASE_SENT, "sent")		/* request queued to the pager */ \
	X(PHASE_RECEIVED, "received")	/* pager took it from its port */ \
	X(PHASE_REPLIED, "replied")	/* pager's answer entered the kernel */ \
	X(PHASE_TAKEN_BACK, "taken-back")	/* grant ended, window unmapped */ \
	X(PHASE_MAPPED, "mapped")	/* frame mapped at the fault */ \
	X(PHASE_RESUMED, "resumed")	/* faulting thread running again */

enum fault_phase {
#define FERRY_PHASE_ENUM(name, text) name,
	FERRY_FAULT_PHASES(FERRY_PHASE_ENUM)
#undef FERRY_PHASE_ENUM
	NPHASES
};

struct fault_stats {
	uint64_t faults;		/* page-in requests sent */
	uint64_t pages_in, pages_out;
	uint64_t bytes_copied;
	uint64_t tlb_flushes;		/* pages invalidated on the CPU that unmapped */
	uint64_t grants_created, grants_forwarded, grants_completed;
	uint64_t grants_failed, grants_revoked, grants_overtime;
	uint64_t failures;		/* requests that ended in error */
	uint64_t phase_cycles[NPHASES];	/* sums over all faults */
	uint64_t zero_touch;		/* page-in frames lent for DMA without zeroing */
	/* TLB shootdowns (kernel/mm/tlb.h) of grant take-backs and page-outs: */
	uint64_t tlb_ipis;		/* IPIs sent: one per other CPU per batch */
	uint64_t tlb_remote_pages;	/* pages invalidated on other CPUs, summed */
	uint64_t tlb_acks;		/* acknowledgements waited for */
	uint64_t tlb_wait_cycles;	/* cycles spent waiting for them */
	uint64_t reserved[3];
};

#endif

/* SPDX-License-Identifier: MIT */
/*
 * nvme: the NVMe disk driver, a pinned user process bound by the boot
 * configuration to PCI class 01:08:02 (iso/ferry.conf: device=01:08:02).
 * It serves the block protocol (<proto/block.h>) exactly as ata does, on
 * its own port "nvme".  This header is the interface between its files:
 *
 *   main.c   the server: options, start-up, and the handlers the shared
 *            request loop calls (<blkserve.h>, the same as ata's)
 *   hw.c     the machine: the controller's registers (its BAR mapped by
 *            sys_mmio_map), DMA memory, PCI discovery, the IRQ port, the clock
 *   queue.c  one queue pair: the submission ring, the completion ring and
 *            its phase, command slots and their ids
 *   ctrl.c   the controller: reset, enable, identify, queue creation, admin
 *            commands, a batch of I/O commands with timeouts, retries and
 *            controller resets, status codes in words
 *   prp.c    PRP1/PRP2 and PRP lists from a list of pages
 *   req.c    requests: runs (checked by <blkserve.h>) cut into commands,
 *            issued as one batch
 *
 * queue.c, ctrl.c, prp.c and req.c are pure: they reach the hardware only
 * through the seam below, which the host test (tests/host/test_nvme.c)
 * implements with a fake controller.
 *
 * The model
 * ---------
 * The controller has an admin queue pair and I/O queue pairs (qid 1..n):
 * one per CPU with MSI-X (queue k + 1's completions on MSI-X vector k + 1,
 * which the kernel aims at CPU k), one with INTx or polling; each a
 * submission ring and a completion ring in DMA memory.  A request goes to
 * the queue of the CPU the driver runs on when it submits it
 * (nvme_ctrl_queue: io[cpu % n]): a call's receiver runs on its caller's
 * CPU, so that is the client's CPU.  A command
 * is 64 bytes written at the submission tail, made visible by one MMIO
 * write of the new tail to its doorbell; its completion is 16 bytes the
 * controller writes at the completion ring's next slot with the phase bit
 * flipped from what the slot held the last time round, so a slot whose
 * phase is not the current one is not new.  The driver takes completions
 * from the head while their phase is current, then writes the new head to
 * the completion doorbell, which also lowers the controller's INTx line.
 *
 * A completion is never trusted: its command id must name a slot that is
 * waiting, with the slot's generation (a command lost in a reset carries
 * an older one); its submission queue id must be the ring's; its sq_head
 * must lie in the ring.  One that fails is consumed, ignored and counted
 * (each logged with the count so far: `nvme: queue 1: completion with
 * unknown command id 0x2a ignored (1 so far)`).  An interrupt that finds
 * no new completion is counted as spurious.
 *
 * One command: a slot (id = generation << 6 | slot), the 64
 * bytes, PRP1/PRP2 naming the data: the first page (with the offset), then
 * the second page, or a PRP list (a 256-byte piece of DMA memory owned by
 * the slot) naming every page after the first.  The pages are the lent
 * frames of a grant, as sys_grant_info gives their device addresses
 * (grant-DMA: no copy, no mapping), or the driver's own buffer (copy mode,
 * FILL_GRANT_MAP grants are served the same way: by DMA).
 *
 * One request: its runs are checked against the namespace and the data
 * area before any command goes out (validate, then commit), cut into
 * commands of at most the controller's transfer limit, and submitted
 * together; the driver waits for all of them.  A command that fails with
 * a status whose DNR bit is clear is retried (NVME_TRIES attempts); a
 * command that misses its deadline makes the driver reset the controller
 * (CC.EN 0 then 1, every queue made again, commands in flight aborted and
 * issued again), at most NVME_TIMEOUT_TRIES times, all within the
 * request's budget (BLOCK_DRIVER_BUDGET_NS).  A request succeeds whole or
 * fails whole (ERR_IO).  The server serves one client request at a time,
 * as ata does.
 *
 * Completion is by interrupt (the queue's MSI-X vector, or INTx: the line
 * the firmware put in config 0x3C; a message per interrupt, acknowledged
 * after the completion doorbell is written) or, with the option `poll`, by
 * polling the ring.  With MSI-X, INTMS/INTMC are never written.
 *
 * Memory: everything is pinned (boot configuration `pin`).  One
 * sys_dma_alloc region holds the rings, the identify page, the PRP lists
 * and the 128 KiB copy buffer, which is also where requests' message pages
 * land.  Device addresses are whatever sys_dma_alloc and sys_grant_info
 * say (with an IOMMU they are not physical addresses).
 */
#ifndef NVME_H
#define NVME_H

#include <ferry/abi.h>
#include <blkserve.h>
#include <ferry/err.h>
#include <part.h>
#include <proto/block.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NVME_PAGE		4096
#define NVME_SECTOR		512
#define NVME_ADMIN_DEPTH	16	/* entries of the admin rings */
#define NVME_IO_DEPTH		64	/* entries of the I/O rings */
#define NVME_SLOTS		32	/* commands in flight per queue (< depth) */
#define NVME_SLOT_BITS		6	/* command id = generation << 6 | slot */
#define NVME_PRP_LIST_BYTES	256	/* one slot's PRP list: 32 entries */
#define NVME_PRP_LIST_MAX	(NVME_PRP_LIST_BYTES / 8)
#define NVME_NS_MAX		BLOCK_DISKS_MAX
#define NVME_QUEUES_MAX		8	/* I/O queue pairs: one per CPU, CPU_MAX of them */
#define NVME_TRIES		3	/* attempts of one command after device errors */
#define NVME_TIMEOUT_TRIES	2	/* ... of which at most this many time out */
/* Two timed-out attempts and their resets fit the request budget
 * (BLOCK_DRIVER_BUDGET_NS, <proto/block.h>): 4 x 2 s = 8 s. */
#define NVME_DEFAULT_TIMEOUT_MS	2000
#define NVME_POLICY_NAMES	4
/* Commands of one request: a run is cut at the transfer limit (at least 8
 * sectors: MDTS counts 4 KiB pages), so 64 runs of 256 sectors in all
 * make at most 64 + 256 / 8 commands. */
#define NVME_BATCH_MAX		(BLOCK_RUNS_MAX + BLOCK_MAX_SECTORS / 8)

_Static_assert(NVME_SLOTS < NVME_IO_DEPTH && NVME_SLOTS <= (1 << NVME_SLOT_BITS),
	       "a full set of slots fits the ring with one entry to spare");
_Static_assert(NVME_PRP_LIST_MAX >= GRANT_MAX_PAGES, "one PRP list page covers a request");

/* --- the hardware seam: hw.c on Ferry, a fake controller in host tests --- */

uint32_t nvme_read32(uint32_t reg);
uint64_t nvme_read64(uint32_t reg);
void nvme_write32(uint32_t reg, uint32_t v);
void nvme_write64(uint32_t reg, uint64_t v);
uint64_t nvme_now_ns(void);
void nvme_sleep_ns(uint64_t ns);
/* Waits for interrupt irq (a queue's: its MSI-X IRQ, or the INTx line)
 * until deadline, leaving it unacknowledged.  => 0, ERR_TIMEOUT. */
long nvme_irq_wait(int irq, uint64_t deadline_ns);
/* The interrupt is handled (the completion doorbell written): acknowledge it. */
void nvme_irq_done(int irq);
/* The CPU the driver runs on now (sys_cpu_self): which queue a request takes. */
unsigned nvme_cpu(void);
/* One log line, without the "nvme: " prefix or the newline. */
void nvme_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The controller is stopped: no transfer it started before now can land
 * any more (the kernel may reuse frames it parked for them: VM_CTL_DMA_QUIET). */
void nvme_quiet(void);

/* --- the NVMe formats (NVM Express Base Specification 1.4) --- */

/* Controller registers */
#define NVME_REG_CAP	0x00
#define NVME_REG_VS	0x08
#define NVME_REG_INTMS	0x0C
#define NVME_REG_INTMC	0x10
#define NVME_REG_CC	0x14
#define NVME_REG_CSTS	0x1C
#define NVME_REG_AQA	0x24
#define NVME_REG_ASQ	0x28
#define NVME_REG_ACQ	0x30
#define NVME_REG_DB	0x1000	/* doorbells: SQ y tail at 0x1000 + 2y * stride, CQ head after */

#define NVME_CAP_MQES(c)	((uint32_t)((c) & 0xFFFF))	/* entries - 1 */
#define NVME_CAP_TO(c)		((uint32_t)(((c) >> 24) & 0xFF))	/* 500 ms units */
#define NVME_CAP_DSTRD(c)	((uint32_t)(((c) >> 32) & 0xF))
#define NVME_CAP_CSS_NVM(c)	(((c) >> 37) & 1)
#define NVME_CAP_MPSMIN(c)	((uint32_t)(((c) >> 48) & 0xF))

#define NVME_CC_EN		0x1
#define NVME_CC_IOSQES		(6u << 16)	/* 64-byte submissions */
#define NVME_CC_IOCQES		(4u << 20)	/* 16-byte completions */
#define NVME_CSTS_RDY		0x1
#define NVME_CSTS_CFS		0x2

/* Admin opcodes */
#define NVME_ADMIN_DELETE_SQ	0x00
#define NVME_ADMIN_CREATE_SQ	0x01
#define NVME_ADMIN_DELETE_CQ	0x04
#define NVME_ADMIN_CREATE_CQ	0x05
#define NVME_ADMIN_IDENTIFY	0x06
#define NVME_ADMIN_SET_FEATURES	0x09
/* NVM opcodes */
#define NVME_CMD_FLUSH		0x00
#define NVME_CMD_WRITE		0x01
#define NVME_CMD_READ		0x02

#define NVME_CNS_NS		0x00
#define NVME_CNS_CTRL		0x01
#define NVME_CNS_NS_LIST	0x02
#define NVME_FEAT_NQUEUES	0x07

/* Completion status (the 16-bit word less the phase bit, shifted down). */
#define NVME_SC(s)		((s) & 0xFF)
#define NVME_SCT(s)		(((s) >> 8) & 0x7)
#define NVME_DNR		0x4000
/* Not the controller's: what the driver puts in a slot it gave up on. */
#define NVME_ST_ABORTED		0xFFFF

struct nvme_sqe {
	uint8_t opcode, flags;
	uint16_t cid;
	uint32_t nsid;
	uint64_t rsvd;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	uint32_t result;	/* command specific (dword 0) */
	uint32_t rsvd;
	uint16_t sq_head, sq_id;
	uint16_t cid;
	uint16_t status;	/* bit 0: phase */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "submission entry layout");
_Static_assert(sizeof(struct nvme_cqe) == 16, "completion entry layout");

/* --- queue.c: one queue pair --- */

struct nvme_slot {
	bool busy, done;
	uint8_t gen;		/* bumped at each use: an old id never matches */
	uint16_t status;	/* the completion's status, phase bit dropped */
	uint32_t result;
	uint64_t deadline;	/* ns */
	uint64_t *prp_list;	/* this slot's PRP list and its device address */
	uint64_t prp_list_dev;
	struct nvme_sqe sqe;	/* as submitted: retried as it is */
};

struct nvme_queue {
	uint16_t qid, depth;
	volatile struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	uint64_t sq_dev, cq_dev;
	uint32_t sq_db, cq_db;	/* doorbell registers */
	uint16_t sq_tail, sq_head, cq_head;
	uint8_t phase;
	int nslots;
	struct nvme_slot slot[NVME_SLOTS];
	int irq;		/* its interrupt (Ferry IRQ number), -1: none */
	unsigned cpu;		/* the CPU its MSI-X vector targets */
	/* Counters */
	uint64_t submitted, completed, irqs;
	uint64_t bad_cid, bad_sqid, bad_head, spurious;
};

/* Rings (zeroed) and slots; prp_lists: nslots * NVME_PRP_LIST_BYTES, or NULL. */
void nvme_queue_init(struct nvme_queue *q, uint16_t qid, uint16_t depth, int nslots,
		     void *sq, uint64_t sq_dev, void *cq, uint64_t cq_dev, uint32_t dstrd,
		     void *prp_lists, uint64_t prp_lists_dev);
/* Empties the rings and gives every slot up (NVME_ST_ABORTED): after a reset. */
void nvme_queue_reset(struct nvme_queue *q);
/* A free slot, or -1. */
int nvme_queue_slot(struct nvme_queue *q);
/* Submits slot s's sqe (its cid set here) with a deadline; rings the doorbell. */
void nvme_queue_submit(struct nvme_queue *q, int s, uint64_t deadline);
/* Takes every new completion, checking each; => how many were taken. */
int nvme_queue_reap(struct nvme_queue *q);
/* Frees a finished slot. */
void nvme_queue_release(struct nvme_queue *q, int s);

/* --- namespaces and the controller (ctrl.c) --- */

struct nvme_ns {
	uint32_t nsid;
	int index;		/* disk number clients use */
	uint64_t sectors;
	struct part_table pt;	/* disk 0: its table (<part.h>); others: only pt.part[0] */
	uint64_t commands, errors, retries, timeouts;
};

struct nvme_ctrl {
	uint64_t cap;
	uint32_t vs, dstrd;	/* doorbell stride in bytes */
	uint64_t ready_ns;	/* CAP.TO: how long enable and disable may take */
	uint64_t timeout_ns;	/* one command's deadline */
	uint64_t budget_end;	/* the request being served ends by then; 0: none */
	bool irq_on;		/* completion by interrupt; else polled */
	bool msix;		/* ... by MSI-X, one vector per I/O queue; else INTx */
	bool log_queues;	/* option queuelog: each queue's first command logged */
	uint32_t max_sectors;	/* per command: MDTS, at most BLOCK_MAX_SECTORS */
	char model[41], serial[21], firmware[9];
	uint32_t nn;		/* namespaces the controller may have */
	struct nvme_ns ns[NVME_NS_MAX];
	int nns;
	struct nvme_queue admin, io[NVME_QUEUES_MAX];
	int nio_wanted;		/* I/O pairs asked for (set before the start) */
	int nio;		/* ... and made: Set Features may allow fewer */
	bool nio_logged;
	/* DMA memory (the driver's): identify page, rings, PRP lists. */
	uint8_t *mem;
	uint64_t mem_dev;
	uint8_t *ident;
	uint64_t ident_dev;
	uint64_t resets;
	/* A reset could not stop the controller: it may still write into the
	 * pages of commands it had; the server must not answer them (it exits,
	 * and the kernel treats their frames as a dead DMA holder's). */
	bool stuck;
};

/* The DMA memory the controller needs, in bytes (one region, page aligned). */
size_t nvme_ctrl_mem_size(void);
/* Hands the controller its DMA memory: mem (zeroed) at device address dev. */
void nvme_ctrl_mem(struct nvme_ctrl *c, void *mem, uint64_t dev);
/*
 * Brings the controller up from whatever state it is in (a dead
 * predecessor's included): disable, admin queue, enable, identify,
 * I/O queue pair, namespaces.  Polled (before the IRQ is attached).
 * => 0, ERR_NOSYS (a controller we cannot drive), ERR_IO, ERR_TIMEOUT.
 */
long nvme_ctrl_start(struct nvme_ctrl *c);
/* Disable and enable again, every queue made anew; slots in flight aborted. */
long nvme_ctrl_reset(struct nvme_ctrl *c, const char *why);
/* Interrupts on or off for the I/O completions (before the first request). */
void nvme_ctrl_irq(struct nvme_ctrl *c, bool on);
/* The I/O queue of the CPU the driver runs on: io[cpu % nio]. */
struct nvme_queue *nvme_ctrl_queue(struct nvme_ctrl *c);
/* Parses an identify-controller page into c. => 0, ERR_NOSYS. */
long nvme_identify_ctrl_parse(struct nvme_ctrl *c, const uint8_t *page);
/* Parses an identify-namespace page.  => 0 (ns->sectors set), ERR_NOSYS. */
long nvme_identify_ns_parse(struct nvme_ns *ns, const uint8_t *page, const char **why);
/* "media error: unrecovered read error" for a status (phase bit dropped). */
const char *nvme_status_str(uint16_t status, char *buf, size_t size);

/* One I/O command of a batch: the command as built, what became of it. */
struct nvme_io {
	struct nvme_sqe sqe;	/* opcode, nsid, slba, nlb; PRPs filled by req.c */
	const uint64_t *list;	/* PRP list entries to copy into the slot's list */
	int nlist;
	uint16_t status;
	int tries, timeouts;
	bool done;
};
/* Runs a batch on the I/O queue of the CPU the driver runs on
 * (nvme_ctrl_queue): submit, wait, retry, reset.  => 0 (all succeeded)
 * or ERR_IO (logged). */
long nvme_io_batch(struct nvme_ctrl *c, struct nvme_ns *ns, struct nvme_io *io, int n);
/* Flush of one namespace.  => 0 or ERR_IO. */
long nvme_flush(struct nvme_ctrl *c, struct nvme_ns *ns);

/* --- prp.c --- */

/* Where a request's bytes are: pages of device memory. */
struct nvme_area {
	uint32_t npages;
	const uint64_t *dev;	/* device address of each page */
};

/*
 * PRP1 and PRP2 for bytes [offset, offset + len) of a: PRP1 names the
 * first page (with the offset into it); PRP2 the second page when the
 * transfer ends there, else the list, whose entries (every page after the
 * first) go to list[0..].  => entries put in the list (0 when none);
 * ERR_RANGE (outside a, a page not page aligned), ERR_NOMEM (> list_max).
 */
int nvme_prp_build(const struct nvme_area *a, uint32_t offset, uint32_t len, uint64_t *prp1,
		   uint64_t *prp2, uint64_t *list, int list_max);

/* --- req.c --- */

struct nvme_req {
	bool write;
	struct blkserve_runs runs;	/* checked: blkserve_runs_check */
};

/* Runs rq on ns over area a, every command in one batch.  => 0, ERR_IO, or
 * the PRP builder's error. */
long nvme_req_exec(struct nvme_ctrl *c, struct nvme_ns *ns, const struct nvme_req *rq,
		   const struct nvme_area *a);

/* --- hw.c (Ferry only) --- */

struct nvme_pci {
	uint32_t bdf;
	uint16_t vendor, device;
	uint8_t irq_line;
	uint16_t msix_entries;	/* MSI-X table size, 0: no MSI-X */
};
/* Finds the first NVMe controller (class 01:08:02), maps its registers
 * (BAR0) and enables bus mastering.  => 0, ERR_NOENT, or the map's error. */
long nvme_pci_find(struct nvme_pci *out);
/* The IRQ port, and the line attached to it.  => 0 or an error. */
long nvme_hw_irq_attach(int irq);
/* MSI-X table entry `entry` aimed at cpu, on the IRQ port (the kernel
 * programs it).  => the IRQ number, or an error. */
long nvme_hw_msix_attach(uint32_t bdf, int entry, unsigned cpu);
/* Acknowledges and drops every interrupt message waiting (those the polled
 * start-up raised). */
void nvme_hw_irq_drain(void);
/* DMA memory: => its address, *dev its device address; 0 on failure. */
void *nvme_dma_alloc(size_t len, uint64_t *dev);
/* The controller wrote these bytes of our own buffer: announced page by
 * page to the cost model (cost_dma_written in <ferry/costmark.h>), which
 * cannot see DMA.  A grant's frames the kernel announces (GRANT_DONE_WRITTEN). */
void nvme_dma_landed(const uint8_t *virt, uint32_t bytes);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * ata: the IDE disk driver, a pinned user process and the only one that
 * touches the disk.  This header is the interface between its files:
 *
 *   main.c  the server: boot configuration, start-up, and the handlers
 *           the shared request loop calls (<blkserve.h>: receive ->
 *           stamped sender -> dispatch table -> reply, for ata and nvme)
 *   hw.c    the machine: port I/O, the IRQ port, the clock, PCI discovery
 *   cmd.c   the ATA command engine: IDENTIFY, PIO and bus-master DMA
 *           transfers, timeouts, device reset, error decoding, retries
 *   access.c  who may use what: the partition policy (<part.h>) and the
 *           kernel-stamped sender, in one place
 *   req.c   requests: runs (checked by <blkserve.h>) on a data area,
 *           PRD tables from a list of frames, execution run by run
 *   rogue.c a test mode (`rogue`): transfers aimed where no grant reaches,
 *           as a compromised driver would, for the IOMMU's tests
 *
 * cmd.c, access.c and req.c are pure: they reach the hardware and the
 * kernel only through the seam below, which host tests
 * (tests/host/test_ata*.c) implement with a fake controller and disk.
 * Partition tables and what is on each partition come from the library
 * every disk driver shares (<part.h>, lib/user/part.c).
 *
 * The model
 * ---------
 * A channel (primary, secondary) is a command block, a control block, an
 * IRQ line and a slice of the bus-master registers; it runs one command at
 * a time, and so does ata: one thread, one request after another, each
 * answered before the next is received.  A disk is an ATA (not ATAPI)
 * device on a channel; disk 0 is the first one found and the only one
 * whose partition table is read (and each partition's signature probed);
 * the others are served whole (raw).
 *
 * One command (an xfer: LBA, count, direction, PIO buffer or DMA table):
 *   1. wait until the channel is idle, select the drive;
 *   2. drop stale IRQ messages, write the task file and the command;
 *   3. PIO: per DRQ block (the drive's multiple mode, else a sector) wait
 *      for the IRQ (or DRQ), move it by insw/outsw.  DMA: start the bus
 *      master, wait for the IRQ; QEMU keeps BSY clear during DMA and sets
 *      no bus-master error bit, so completion is the bus master's INT bit
 *      (or Active clear), and the verdict is the drive's status register,
 *      read after it;
 *   4. a set ERR or DF bit is a device error (error register decoded:
 *      ABRT, UNC, IDNF, ...); no answer before the deadline is a timeout,
 *      after which the channel is reset (SRST) before anything else.
 * A channel remembers what the last command left in its registers (the
 * drive selected and idle, the bus master stopped and clean, the PRD
 * address, no IRQ unclaimed): steps 1 and 2 then skip the polls, selects
 * and writes whose outcome is known, so a DMA command costs 11 register
 * accesses (cmd.c).  Any failure forgets it all.
 * ata_rw() retries a failed command a bounded number of times, and
 * reports a failure only as a whole: a request is done entirely or
 * fails; no partial transfer is ever reported as success.
 *
 * Memory: everything is pinned (boot configuration `pin`), so ata never
 * faults on its own pages.  One dma_alloc'ed region holds the PRD table
 * and the 128 KiB copy-mode buffer, which is also where requests' message
 * pages are received.
 */
#ifndef ATA_H
#define ATA_H

#include <ferry/abi.h>
#include <blkserve.h>
#include <ferry/err.h>
#include <part.h>
#include <proto/block.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATA_SECTOR		512
#define ATA_PAGE		4096
#define ATA_LBA28_END		(1ULL << 28)	/* first sector LBA28 cannot reach */
#define ATA_PRD_MAX		(ATA_PAGE / 8)	/* one page of descriptors */
#define ATA_TRIES		3	/* attempts of one command, device errors */
#define ATA_TIMEOUT_TRIES	2	/* ... of which at most this many time out */
/* Two timed-out attempts and their resets fit the request budget
 * (BLOCK_DRIVER_BUDGET_NS, <proto/block.h>): 4 x 2 s = 8 s. */
#define ATA_DEFAULT_TIMEOUT_MS	2000
#define ATA_CTL_NIEN		0x02	/* device control: no interrupts (probing polls) */

/* --- the hardware seam: hw.c on Ferry, a fake controller in host tests --- */

uint8_t ata_inb(uint16_t port);
void ata_outb(uint16_t port, uint8_t v);
void ata_outl(uint16_t port, uint32_t v);
void ata_insw(uint16_t port, void *buf, size_t words);
void ata_outsw(uint16_t port, const void *buf, size_t words);
uint64_t ata_now_ns(void);
void ata_sleep_ns(uint64_t ns);
/* Waits for an IRQ on `irq` until deadline (set from an ata_now_ns() just
 * before: the first wait may count from that read), acknowledging it.
 * => 0, ERR_TIMEOUT. */
long ata_irq_wait(int irq, uint64_t deadline_ns);
/* Drops (and acknowledges) IRQs nobody waited for: after a reset or a timeout. */
void ata_irq_drain(int irq);
/*
 * A bus-master read has just written [virt, virt + bytes) of ata's own
 * buffer: hw.c tells the cost model, which cannot see DMA
 * (cost_dma_written() in <ferry/costmark.h>), page by page.  A grant's
 * frames ata announces through the kernel instead (sys_grant_done with
 * GRANT_DONE_WRITTEN): a grant-map window can vanish under it.
 */
void ata_dma_landed(const uint8_t *virt, uint32_t bytes);
/* One log line, without the "ata: " prefix or the newline. */
void ata_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- channels, disks, partitions --- */

/* One bus-master Physical Region Descriptor. */
struct ata_prd {
	uint32_t prd_addr;	/* physical, below 4 GiB */
	uint16_t prd_bytes;	/* 0 means 64 KiB */
	uint16_t prd_flags;	/* ATA_PRD_EOT on the last entry */
};

#define ATA_PRD_EOT	0x8000

_Static_assert(sizeof(struct ata_prd) == 8, "PRD entry layout");
_Static_assert(PART_MAX == BLOCK_PARTS_MAX, "a partition number means the same to both");

struct ata_channel {
	const char *name;	/* "primary", "secondary" */
	uint16_t cmd, ctl;	/* command block; control block (alt status, device control) */
	uint16_t bm;		/* this channel's bus-master registers; 0: no DMA */
	int irq;
	bool irq_on;		/* completion by IRQ message; else polled */
	int selected;		/* drive whose select was last written, -1: unknown */
	/*
	 * What ata knows the channel's registers hold, so that a command
	 * writes only what changed and polls for nothing the last status read
	 * already said.  Each is false (unknown) at start, and every failed
	 * attempt, timeout and reset forgets them all (ata_forget):
	 *   idle       the selected drive's last status showed BSY and DRQ
	 *              clear, and no command was written since;
	 *   irq_clean  no IRQ message can be waiting that no command claimed
	 *              (every IRQ since the last drain was waited for);
	 *   bm_clean   the bus master is stopped, INT and ERR clear, its
	 *              direction bit bm_dir;
	 *   prd_set    its PRD address register holds prd_phys.
	 */
	bool idle, irq_clean, bm_clean, prd_set;
	uint8_t bm_dir;
	/* Each drive's DRQ block as SET MULTIPLE MODE set it (sectors per
	 * interrupt of READ/WRITE MULTIPLE); 0: not set, or reset since. */
	uint8_t multiple[2];
	uint64_t timeout_ns;	/* one command's deadline, and a reset's */
	/* The client request being served must be answered by then
	 * (BLOCK_DRIVER_BUDGET_NS): no retry starts that could end later.
	 * 0: no budget (start-up, host tests).  A request sets budget_ns,
	 * and its first command's look at the clock starts it. */
	uint64_t budget_end, budget_ns;
	struct ata_prd *prd;	/* the PRD table (DMA memory) and its address */
	uint32_t prd_phys;
	uint64_t resets;
};

struct ata_disk {
	struct ata_channel *ch;
	int slave;
	int index;		/* disk number clients use */
	char model[41];
	uint64_t sectors;
	bool lba48, dma;
	/* Its READ/WRITE MULTIPLE block (IDENTIFY word 47, a power of two):
	 * sectors per interrupt for PIO; 1: single-sector commands only. */
	uint8_t multi_max;
	struct part_table pt;	/* disk 0: its table; others: only pt.part[0] */
	uint64_t commands, errors, retries, timeouts;
	bool media_error;	/* ata_rw's last failure was the drive's (ERR or DF) */
};

/* One ATA command's worth of data. */
struct ata_xfer {
	bool write, dma, lba48;
	uint64_t lba;
	uint32_t count;		/* 1..256 sectors */
	void *buf;		/* PIO: count * 512 bytes; DMA: the channel's PRD table */
};

/* cmd.c */
enum ata_kind { ATA_KIND_NONE, ATA_KIND_DISK, ATA_KIND_PACKET };
/* Probes one drive (polled; run before IRQs are attached).  => its kind;
 * for a disk, d's identity (model, size, lba48, dma capability) is set. */
enum ata_kind ata_identify(struct ata_channel *ch, int slave, struct ata_disk *d);
/* Fills d's identity from IDENTIFY DEVICE data; => 0, ERR_NOSYS without LBA. */
long ata_identify_parse(const uint16_t id[256], struct ata_disk *d);
/* One transfer, retried, reset after a timeout.  => 0 or ERR_IO (logged;
 * d->media_error says whether the drive itself reported it). */
long ata_rw(struct ata_disk *d, const struct ata_xfer *x);
/* One attempt, not logged, reset after a timeout.  => 0, ERR_IO (the
 * drive's error, or a protocol one), ERR_TIMEOUT, ERR_INVAL. */
long ata_rw_once(struct ata_disk *d, const struct ata_xfer *x);
/* Does another command (and a reset, should it time out) fit the
 * request's budget? */
bool ata_time_left(const struct ata_disk *d);
/* FLUSH CACHE (EXT).  => 0 or ERR_IO. */
long ata_flush(struct ata_disk *d);
/* Software reset of the channel (both drives), then interrupts as before. */
void ata_reset(struct ata_channel *ch, const char *why);
/* Forgets what ata knew of the channel's registers (struct ata_channel):
 * the next command selects, polls, drains and sets up the bus master in full. */
void ata_forget(struct ata_channel *ch);
/* Reset a channel a dead predecessor left busy (before probing). */
void ata_settle_channel(struct ata_channel *ch);
/* "ABRT UNC" for an error register value; into buf. */
const char *ata_error_str(uint8_t error, char *buf, size_t size);

/* access.c */

/*
 * Who may do what, the one place ata decides it.  The client must run with
 * its configuration's rights, and either the policy gives its program the
 * partition (any partition of the disk, for BLOCK_INFO: `info`), or the
 * request names an allowance (BLOCK_PART_ALLOW) that is live, is for this
 * client, names this partition, and was made by a program the policy gives
 * the partition: then only the allowance's ranges (blkserve_runs_allowed).
 * Rights are checked before existence, so a stranger learns nothing.
 * => 0 with *acc set; ERR_PERM (*why says why, for the log), ERR_NOENT.
 */
long ata_access_resolve(const struct part_policy *pol, const struct ata_disk *disks, int ndisks,
			const struct blkserve_client *c, uint64_t part_arg, bool info,
			struct part_access *acc, const char **why);
/* The seam to the kernel's allowances (hw.c: blkserve_allowance; host
 * tests fake it): the live allowance `id` as the kernel shows it, or NULL. */
const struct allow_info *ata_allowance(uint64_t id);
/* Bit n: partition n of disk exists and is c's to use (BLOCK_REPLY_MINE). */
uint64_t ata_access_mine(const struct part_policy *pol, const struct ata_disk *d,
			 const struct blkserve_client *c);

/* hw.c (Ferry only: host tests supply the seam above instead) */

/* The IDE controller's PCI function, as ata_pci_find found it. */
struct ata_pci {
	uint32_t bdf;		/* bus << 8 | device << 3 | function */
	uint16_t vendor, device;
	uint8_t progif;		/* bit 0/2: primary/secondary in native mode */
	uint8_t irq_line;	/* native mode's IRQ */
	uint32_t bar[5];
};
/* Finds the first IDE controller (class 01:01) and enables its I/O decoding
 * and bus mastering.  => 0 or ERR_NOENT. */
long ata_pci_find(struct ata_pci *out);
/* Creates the port IRQ messages arrive on.  => 0 or an error. */
long ata_hw_init(void);
/* Routes irq to that port.  => 0 or sys_irq_attach's error. */
long ata_hw_attach(int irq);

/* req.c */

/* Where a request's bytes are: frames (a grant, or ata's own buffer). */
struct ata_area {
	uint32_t npages;
	const uint64_t *phys;	/* physical address of each page */
	uint8_t *virt;		/* the pages mapped contiguously, or NULL (DMA grant) */
	bool own;		/* ata's own buffer, mapped for good (a grant's window
				 * goes when the grant ends, even during a request) */
};

struct ata_req {
	bool write, pio, lba48;
	struct blkserve_runs runs;	/* checked: blkserve_runs_check */
};

/* Whether every page of a can be reached by 32-bit bus-master DMA. */
bool ata_area_dma_ok(const struct ata_area *a);
/*
 * The PRD table for bytes [offset, offset + len) of a: one entry per
 * physically contiguous piece, none crossing a 64 KiB boundary.
 * => entries used; ERR_RANGE (outside a, or above 4 GiB); ERR_NOMEM (> max).
 */
int ata_prd_build(const struct ata_area *a, uint32_t offset, uint32_t len, struct ata_prd *prd,
		  int max);
/*
 * Runs rq on d, run after run.  => 0, or the first failure (ERR_IO).  A
 * run the drive failed on the medium is then searched for its first bad
 * sector (halving it, one attempt each, within the budget), which the
 * log line names: "disk0: read failed on the medium at lba N".
 */
long ata_req_exec(struct ata_disk *d, const struct ata_req *rq, const struct ata_area *a);

/* rogue.c (Ferry only) */

/* The page ata's STRAY transfers aim at, filled with a pattern.  => 0 or an error. */
long ata_rogue_init(void);
/*
 * Reads rq's first page worth of sectors (its first run, at most 8) to the
 * place `kind` (BLOCK_F_ROGUE_*) names instead of the grant gi: ata's own
 * page, last_dev (an ended grant's device address), or the page past gi's
 * window; logs where and, for STRAY, whether its page changed.
 * => 0 whatever the device did (a rogue answers as if all went well), or
 * ERR_INVAL when there is no such place.
 */
long ata_rogue_transfer(struct ata_disk *d, const struct ata_req *rq, const struct grant_info *gi,
			uint32_t kind, uint64_t last_dev);

#endif

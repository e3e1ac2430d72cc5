// SPDX-License-Identifier: MIT
/*
 * The ATA command engine (model in ata.h): one command at a time on one
 * channel, through the hardware seam only, so host tests run it against a
 * fake controller.
 *
 * Register-level rules followed here (ATA/ATAPI-6, and QEMU's PIIX):
 *   - the command block is written only while BSY and DRQ are clear (QEMU
 *     ignores it otherwise), and a newly selected drive's status is valid
 *     400 ns later (four reads of the alternate status);
 *   - the drive rewrites the task file as it transfers (LBA and, for
 *     LBA28, the device register's head bits end where the transfer did;
 *     the count at 0), so every command writes all of it again;
 *   - reading the status register acknowledges the device's interrupt,
 *     reading the alternate status does not: polls use the latter;
 *   - PIO: one interrupt per DRQ block, before the data for a read, after
 *     it for a write (the first write block goes on DRQ alone); a block is
 *     the drive's multiple mode (READ/WRITE MULTIPLE, set by SET MULTIPLE
 *     MODE once after start-up and each reset), else one sector;
 *   - DMA: the bus master is stopped and its INT/ERR bits cleared, the PRD
 *     address and direction set, the command written, then Start; QEMU
 *     keeps BSY clear while it transfers, so the wait is on INT (or Active
 *     clear), and the drive's status register gives the verdict.
 */
#include <string.h>

#include "ata.h"

/* Command block registers (offsets from ch->cmd) */
#define REG_DATA	0
#define REG_ERROR	1	/* read */
#define REG_FEATURES	1	/* write */
#define REG_COUNT	2
#define REG_LBA0	3
#define REG_LBA1	4
#define REG_LBA2	5
#define REG_DEVICE	6
#define REG_STATUS	7	/* read */
#define REG_COMMAND	7	/* write */

/* Status bits */
#define ST_ERR		0x01
#define ST_DRQ		0x08
#define ST_DF		0x20
#define ST_DRDY		0x40
#define ST_BSY		0x80

/* Device register */
#define DEV_LBA		0x40
#define DEV_OBS		0xA0	/* bits 7 and 5: obsolete, set by tradition */
#define DEV_SLAVE	0x10

/* Device control (written at ch->ctl) */
#define CTL_NIEN	ATA_CTL_NIEN
#define CTL_SRST	0x04

/* Bus-master registers (offsets from ch->bm) */
#define BM_CMD		0
#define BM_STATUS	2
#define BM_PRD		4
#define BM_CMD_START	0x01
#define BM_CMD_TOMEM	0x08	/* the bus master writes memory: a device read */
#define BM_ST_ACTIVE	0x01
#define BM_ST_ERR	0x02
#define BM_ST_INT	0x04
#define BM_ST_KEEP	0x60	/* "drive n can DMA" bits, set by firmware: preserve */

/*
 * What a command costs in register accesses, when the channel's state is
 * known (struct ata_channel: the same drive, idle, the bus master stopped
 * and clean, its PRD address set): a DMA command 11 (the device register
 * and three LBA bytes and the count, the command, Start, the bus master's
 * status, Stop, its INT cleared, the drive's status), a PIO command 7 plus
 * one status read per DRQ block (a page is one block in multiple mode).  Nothing that decides whether a transfer
 * succeeded is skipped: only writes of what a register already holds and
 * polls for what the last status read said.  tests/host/test_ata_cmd.c
 * holds a request to these budgets.
 */

/* Commands */
#define CMD_READ_PIO		0x20
#define CMD_READ_PIO_EXT	0x24
#define CMD_READ_DMA_EXT	0x25
#define CMD_WRITE_PIO		0x30
#define CMD_WRITE_PIO_EXT	0x34
#define CMD_WRITE_DMA_EXT	0x35
#define CMD_READ_MULTI_EXT	0x29
#define CMD_WRITE_MULTI_EXT	0x39
#define CMD_READ_MULTI		0xC4
#define CMD_WRITE_MULTI		0xC5
#define CMD_SET_MULTIPLE	0xC6
#define CMD_READ_DMA		0xC8
#define CMD_WRITE_DMA		0xCA
#define CMD_FLUSH		0xE7
#define CMD_FLUSH_EXT		0xEA
#define CMD_IDENTIFY		0xEC

#define POLL_SPINS	64		/* fast polls before sleeping between them */
#define POLL_SLEEP_NS	1000000ULL

/* Why one attempt failed, for the log line. */
enum fail_kind { FAIL_NONE, FAIL_DEVICE, FAIL_BUSMASTER, FAIL_PROTOCOL, FAIL_TIMEOUT };

struct attempt {
	enum fail_kind kind;
	uint8_t status, error, bm_status;
	const char *phase;	/* where it went wrong */
};

static const char *const error_bits[8] = {
	"AMNF", "TK0NF", "ABRT", "MCR", "IDNF", "MC", "UNC", "ICRC",
};

const char *ata_error_str(uint8_t error, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int bit = 7; bit >= 0; bit--) {
		const char *name = error_bits[bit];
		size_t n = strlen(name);

		if (!(error & (1u << bit)) || len + n + 2 > size)
			continue;
		if (len)
			buf[len++] = ' ';
		memcpy(buf + len, name, n + 1);
		len += n;
	}
	return len ? buf : "no error bits";
}

static uint8_t alt_status(const struct ata_channel *ch)
{
	return ata_inb(ch->ctl);
}

static void delay_400ns(const struct ata_channel *ch)
{
	for (int i = 0; i < 4; i++)
		alt_status(ch);
}

/* A command's start: the clock, which also starts a request's budget. */
static uint64_t command_clock(struct ata_channel *ch)
{
	uint64_t now = ata_now_ns();

	if (ch->budget_ns) {
		ch->budget_end = now + ch->budget_ns;
		ch->budget_ns = 0;
	}
	return now;
}

/* Polls the alternate status until (status & mask) == want.  => status, or ERR_TIMEOUT. */
static long poll_status(const struct ata_channel *ch, uint8_t mask, uint8_t want,
			uint64_t deadline)
{
	for (int spins = 0;; spins++) {
		uint8_t st = alt_status(ch);

		if ((st & mask) == want)
			return st;
		if (ata_now_ns() >= deadline)
			return ERR_TIMEOUT;
		if (spins >= POLL_SPINS)
			ata_sleep_ns(POLL_SLEEP_NS);	/* a stuck drive must not starve the rest */
	}
}

void ata_forget(struct ata_channel *ch)
{
	ch->selected = -1;
	ch->idle = ch->irq_clean = ch->bm_clean = ch->prd_set = false;
}

static uint8_t read_status(const struct ata_channel *ch)
{
	return ata_inb(ch->cmd + REG_STATUS);
}

/* Interrupts on or off for the channel (nIEN), as the channel wants them. */
static void set_ctl(const struct ata_channel *ch)
{
	ata_outb(ch->ctl, ch->irq_on ? 0 : CTL_NIEN);
}

/*
 * Idle channel, drive selected (with LBA bits 24..27 for LBA28), idle
 * again.  The device register is written for every command (the head
 * bits); only a change of drive needs the 400 ns and a new status, and a
 * drive known idle is not polled first.
 */
static long select_drive(struct ata_channel *ch, int slave, uint8_t extra, uint64_t deadline)
{
	if (!ch->idle) {
		if (poll_status(ch, ST_BSY | ST_DRQ, 0, deadline) < 0)
			return ERR_TIMEOUT;
		ch->idle = true;
	}
	ata_outb(ch->cmd + REG_DEVICE, DEV_OBS | DEV_LBA | (slave ? DEV_SLAVE : 0) | extra);
	if (ch->selected == slave)
		return 0;
	delay_400ns(ch);
	ch->selected = slave;
	ch->idle = false;
	if (poll_status(ch, ST_BSY | ST_DRQ, 0, deadline) < 0)
		return ERR_TIMEOUT;
	ch->idle = true;
	return 0;
}

/* IRQ messages no command waited for are dropped before the next command. */
static void drain_stale_irqs(struct ata_channel *ch)
{
	if (ch->irq_clean)
		return;
	ata_irq_drain(ch->irq);
	ch->irq_clean = true;
}

/* The command for x; PIO in DRQ blocks of `block` sectors. */
static uint8_t pick_command(const struct ata_xfer *x, uint32_t block)
{
	static const uint8_t cmds[2][3][2] = {
		/* [write][pio, pio multiple, dma][lba48] */
		{ { CMD_READ_PIO, CMD_READ_PIO_EXT }, { CMD_READ_MULTI, CMD_READ_MULTI_EXT },
		  { CMD_READ_DMA, CMD_READ_DMA_EXT } },
		{ { CMD_WRITE_PIO, CMD_WRITE_PIO_EXT }, { CMD_WRITE_MULTI, CMD_WRITE_MULTI_EXT },
		  { CMD_WRITE_DMA, CMD_WRITE_DMA_EXT } },
	};

	return cmds[x->write][x->dma ? 2 : block > 1][x->lba48];
}

/* Task file and command; the drive is selected with its LBA28 head bits. */
static long issue(struct ata_disk *d, const struct ata_xfer *x, uint32_t block,
		  uint64_t deadline)
{
	struct ata_channel *ch = d->ch;
	uint16_t cmd = ch->cmd;
	uint8_t head = x->lba48 ? 0 : (uint8_t)((x->lba >> 24) & 0x0F);

	if (select_drive(ch, d->slave, head, deadline))
		return ERR_TIMEOUT;
	drain_stale_irqs(ch);
	if (x->lba48) {
		/* High-order bytes first: each register is a two-deep FIFO. */
		ata_outb(cmd + REG_COUNT, (uint8_t)(x->count >> 8));
		ata_outb(cmd + REG_LBA0, (uint8_t)(x->lba >> 24));
		ata_outb(cmd + REG_LBA1, (uint8_t)(x->lba >> 32));
		ata_outb(cmd + REG_LBA2, (uint8_t)(x->lba >> 40));
	}
	ata_outb(cmd + REG_COUNT, (uint8_t)x->count);	/* 256 is 0 for LBA28 */
	ata_outb(cmd + REG_LBA0, (uint8_t)x->lba);
	ata_outb(cmd + REG_LBA1, (uint8_t)(x->lba >> 8));
	ata_outb(cmd + REG_LBA2, (uint8_t)(x->lba >> 16));
	ata_outb(cmd + REG_COMMAND, pick_command(x, block));
	ch->idle = false;
	return 0;
}

/*
 * Waits for the drive to finish a phase and reads its status register,
 * which acknowledges its interrupt: with IRQs, an IRQ message and then BSY
 * clear (an IRQ that finds the drive still busy was someone else's: the
 * drive raises its own only as BSY clears, so that read acknowledged
 * nothing); polled, BSY clear.  => the status, or ERR_TIMEOUT.
 */
static long wait_pio(const struct ata_channel *ch, uint64_t deadline)
{
	if (!ch->irq_on)
		return poll_status(ch, ST_BSY, 0, deadline) < 0 ? ERR_TIMEOUT : read_status(ch);
	for (;;) {
		uint8_t st;

		if (ata_irq_wait(ch->irq, deadline))
			return ERR_TIMEOUT;
		st = read_status(ch);
		if (!(st & ST_BSY))
			return st;
	}
}

/* The status once the drive has left BSY: one read when it has already. */
static long settled_status(const struct ata_channel *ch, uint64_t deadline)
{
	uint8_t st = read_status(ch);

	if (!(st & ST_BSY))
		return st;
	return poll_status(ch, ST_BSY, 0, deadline) < 0 ? ERR_TIMEOUT : read_status(ch);
}

/* The device's verdict on a phase, from the status it ended with. */
static bool device_failed(const struct ata_channel *ch, struct attempt *a, uint8_t status,
			  const char *phase)
{
	a->status = status;
	if (!(a->status & (ST_ERR | ST_DF)))
		return false;
	a->kind = FAIL_DEVICE;
	a->error = ata_inb(ch->cmd + REG_ERROR);
	a->phase = phase;
	return true;
}

static long fail(struct attempt *a, enum fail_kind kind, const char *phase)
{
	a->kind = kind;
	a->phase = phase;
	return kind == FAIL_TIMEOUT ? ERR_TIMEOUT : ERR_IO;
}

/* A deadline passed: what the drive shows now goes into the log line. */
static long timed_out(const struct ata_channel *ch, struct attempt *a, const char *phase)
{
	a->status = alt_status(ch);
	return fail(a, FAIL_TIMEOUT, phase);
}

/*
 * d's PIO commands move DRQ blocks of d->multi_max sectors: the drive is
 * told so (SET MULTIPLE MODE) before the first after start-up or a reset.
 * A drive that refuses gets single-sector commands from then on.
 * => 0, or ERR_TIMEOUT.
 */
static long set_multiple(struct ata_disk *d, uint64_t deadline)
{
	struct ata_channel *ch = d->ch;
	long st;

	if (d->multi_max <= 1 || ch->multiple[d->slave] == d->multi_max)
		return 0;
	if (select_drive(ch, d->slave, 0, deadline))
		return ERR_TIMEOUT;
	drain_stale_irqs(ch);
	ata_outb(ch->cmd + REG_COUNT, d->multi_max);
	ata_outb(ch->cmd + REG_COMMAND, CMD_SET_MULTIPLE);
	ch->idle = false;
	st = wait_pio(ch, deadline);
	if (st < 0)
		return ERR_TIMEOUT;
	ch->idle = !(st & ST_DRQ);
	if (st & (ST_ERR | ST_DF | ST_DRQ)) {
		ata_log("disk%d: SET MULTIPLE MODE %u refused (status %#lx): one sector per"
			" interrupt", d->index, d->multi_max, (unsigned long)st);
		d->multi_max = 1;
		return 0;
	}
	ch->multiple[d->slave] = d->multi_max;
	return 0;
}

/* Sectors per DRQ block of d's PIO commands, once set_multiple has run. */
static uint32_t pio_block(const struct ata_disk *d)
{
	return d->multi_max > 1 ? d->multi_max : 1;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static long pio_read(struct ata_disk *d, const struct ata_xfer *x, struct attempt *a)
{
	struct ata_channel *ch = d->ch;
	uint64_t deadline = command_clock(ch) + ch->timeout_ns;
	uint8_t *buf = x->buf;
	uint32_t block, n;
	long st;

	if (set_multiple(d, deadline))
		return timed_out(ch, a, "setting the multiple mode");
	block = pio_block(d);
	if (issue(d, x, block, deadline))
		return timed_out(ch, a, "busy before the command");
	for (uint32_t done = 0; done < x->count; done += n) {
		n = min_u32(block, x->count - done);
		st = wait_pio(ch, ata_now_ns() + ch->timeout_ns);
		if (st < 0)
			return timed_out(ch, a, "waiting for data");
		if (device_failed(ch, a, (uint8_t)st, "reading"))
			return ERR_IO;
		if (!(st & ST_DRQ))
			return fail(a, FAIL_PROTOCOL, "no data ready");
		ata_insw(ch->cmd + REG_DATA, buf + (size_t)done * ATA_SECTOR, n * ATA_SECTOR / 2);
	}
	/* The last sector taken, the drive must be idle with nothing left. */
	st = settled_status(ch, ata_now_ns() + ch->timeout_ns);
	if (st < 0)
		return timed_out(ch, a, "busy after the data");
	if (device_failed(ch, a, (uint8_t)st, "after reading"))
		return ERR_IO;
	if (st & ST_DRQ)
		return fail(a, FAIL_PROTOCOL, "more data than asked");
	ch->idle = true;
	return 0;
}

static long pio_write(struct ata_disk *d, const struct ata_xfer *x, struct attempt *a)
{
	struct ata_channel *ch = d->ch;
	uint64_t deadline = command_clock(ch) + ch->timeout_ns;
	const uint8_t *buf = x->buf;
	uint32_t block, n;
	long st;

	if (set_multiple(d, deadline))
		return timed_out(ch, a, "setting the multiple mode");
	block = pio_block(d);
	if (issue(d, x, block, deadline))
		return timed_out(ch, a, "busy before the command");
	/* No interrupt before the first block: BSY clear, then DRQ (or ERR) says go. */
	st = poll_status(ch, ST_BSY, 0, ata_now_ns() + ch->timeout_ns);
	if (st < 0)
		return timed_out(ch, a, "waiting to take data");
	for (uint32_t done = 0; done < x->count; done += n) {
		n = min_u32(block, x->count - done);
		if (device_failed(ch, a, (uint8_t)st, "writing"))
			return ERR_IO;
		if (!(st & ST_DRQ))
			return fail(a, FAIL_PROTOCOL, "not ready for data");
		ata_outsw(ch->cmd + REG_DATA, buf + (size_t)done * ATA_SECTOR, n * ATA_SECTOR / 2);
		st = wait_pio(ch, ata_now_ns() + ch->timeout_ns);
		if (st < 0)
			return timed_out(ch, a, "waiting for the write");
	}
	if (device_failed(ch, a, (uint8_t)st, "after writing"))
		return ERR_IO;
	if (st & ST_DRQ)
		return fail(a, FAIL_PROTOCOL, "wants more data");
	ch->idle = true;
	return 0;
}

/* => the bus master's status once its transfer has ended (INT set, or
 * Active clear), or ERR_TIMEOUT. */
static long wait_dma(const struct ata_channel *ch, uint64_t deadline)
{
	for (int spins = 0;; spins++) {
		uint8_t bst;

		if (ch->irq_on) {
			if (ata_irq_wait(ch->irq, deadline))
				return ERR_TIMEOUT;
		} else if (ata_now_ns() >= deadline) {
			return ERR_TIMEOUT;
		} else if (spins >= POLL_SPINS) {
			ata_sleep_ns(POLL_SLEEP_NS);
		}
		bst = ata_inb(ch->bm + BM_STATUS);
		if ((bst & BM_ST_INT) || !(bst & BM_ST_ACTIVE))
			return bst;
	}
}

/* Stops the bus master, direction dir, and clears INT and ERR; bst, its
 * status as last read, gives the firmware's bits to keep. */
static void bm_stop(struct ata_channel *ch, uint8_t dir, uint8_t bst)
{
	ata_outb(ch->bm + BM_CMD, dir);
	ata_outb(ch->bm + BM_STATUS, (uint8_t)((bst & BM_ST_KEEP) | BM_ST_INT | BM_ST_ERR));
	ch->bm_clean = true;
	ch->bm_dir = dir;
}

/* The bus master stopped and clean, direction dir, PRD address set: what
 * the last command's end left so is not written again.  Start and a new
 * direction are separate writes (the direction must not change as Start
 * is set, PIIX datasheet). */
static void bm_setup(struct ata_channel *ch, uint8_t dir)
{
	if (!ch->bm_clean) {
		bm_stop(ch, dir, ata_inb(ch->bm + BM_STATUS));
	} else if (ch->bm_dir != dir) {
		ata_outb(ch->bm + BM_CMD, dir);
		ch->bm_dir = dir;
	}
	if (!ch->prd_set) {
		ata_outl(ch->bm + BM_PRD, ch->prd_phys);
		ch->prd_set = true;
	}
}

/* One deadline for the whole command: the select, the drive's and the bus
 * master's work. */
static long dma_transfer(struct ata_disk *d, const struct ata_xfer *x, struct attempt *a)
{
	struct ata_channel *ch = d->ch;
	uint8_t dir = x->write ? 0 : BM_CMD_TOMEM;
	uint64_t deadline = command_clock(ch) + ch->timeout_ns;
	long bst;

	bm_setup(ch, dir);
	if (issue(d, x, 1, deadline))
		return timed_out(ch, a, "busy before the command");
	ch->bm_clean = false;
	ata_outb(ch->bm + BM_CMD, dir | BM_CMD_START);
	bst = wait_dma(ch, deadline);
	if (bst < 0) {
		ata_outb(ch->bm + BM_CMD, dir);	/* stop it before anything else */
		a->bm_status = ata_inb(ch->bm + BM_STATUS);
		return timed_out(ch, a, "waiting for DMA");
	}
	a->bm_status = (uint8_t)bst;
	bm_stop(ch, dir, a->bm_status);
	if (device_failed(ch, a, read_status(ch), "DMA"))
		return ERR_IO;
	if (a->bm_status & BM_ST_ERR)
		return fail(a, FAIL_BUSMASTER, "DMA");
	if (a->status & (ST_BSY | ST_DRQ))
		return fail(a, FAIL_PROTOCOL, "drive not done after DMA");
	if (a->bm_status & BM_ST_ACTIVE)
		return fail(a, FAIL_PROTOCOL, "PRD table longer than the transfer");
	ch->idle = true;
	return 0;
}

/* A failed attempt leaves the channel's state unknown: IRQs may arrive
 * late, the drive and the bus master be anywhere. */
static long attempt_once(struct ata_disk *d, const struct ata_xfer *x, struct attempt *a)
{
	long err;

	memset(a, 0, sizeof(*a));
	if (x->dma)
		err = dma_transfer(d, x, a);
	else
		err = x->write ? pio_write(d, x, a) : pio_read(d, x, a);
	if (err)
		ata_forget(d->ch);
	return err;
}

static void log_attempt(const struct ata_disk *d, const struct ata_xfer *x,
			const struct attempt *a, int try)
{
	char bits[48];
	const char *what = x->write ? "write" : "read";

	switch (a->kind) {
	case FAIL_DEVICE:
		ata_log("disk%d: %s of %u sectors at lba %llu (%s): device error %s (status %#x,"
			" error %#x) %s, try %d of %d", d->index, what, x->count,
			(unsigned long long)x->lba, x->dma ? "dma" : "pio",
			ata_error_str(a->error, bits, sizeof(bits)), a->status, a->error, a->phase,
			try, ATA_TRIES);
		break;
	case FAIL_TIMEOUT:
		ata_log("disk%d: %s of %u sectors at lba %llu (%s): timeout %s after %llu ms"
			" (status %#x), try %d of %d", d->index, what, x->count,
			(unsigned long long)x->lba, x->dma ? "dma" : "pio", a->phase,
			(unsigned long long)(d->ch->timeout_ns / 1000000), a->status, try, ATA_TRIES);
		break;
	default:
		ata_log("disk%d: %s of %u sectors at lba %llu (%s): %s %s (status %#x, bus master"
			" %#x), try %d of %d", d->index, what, x->count, (unsigned long long)x->lba,
			x->dma ? "dma" : "pio",
			a->kind == FAIL_BUSMASTER ? "bus-master error" : "protocol error", a->phase,
			a->status, a->bm_status, try, ATA_TRIES);
	}
}

static bool xfer_ok(const struct ata_disk *d, const struct ata_xfer *x)
{
	return x->count >= 1 && x->count <= 256 && (!x->dma || d->ch->bm) &&
	       (!x->lba48 || d->lba48) && (x->lba48 || x->lba + x->count <= ATA_LBA28_END);
}

long ata_rw(struct ata_disk *d, const struct ata_xfer *x)
{
	struct attempt a;
	int timeouts = 0, try;

	if (!xfer_ok(d, x))
		return ERR_INVAL;
	for (try = 1; try <= ATA_TRIES; try++) {
		long err = attempt_once(d, x, &a);

		d->commands++;
		d->media_error = false;
		if (!err) {
			if (try > 1)
				ata_log("disk%d: %s at lba %llu succeeded on try %d", d->index,
					x->write ? "write" : "read", (unsigned long long)x->lba, try);
			return 0;
		}
		d->errors++;
		d->media_error = a.kind == FAIL_DEVICE;
		log_attempt(d, x, &a, try);
		if (err == ERR_TIMEOUT) {
			d->timeouts++;
			ata_reset(d->ch, "command timed out");
			if (++timeouts >= ATA_TIMEOUT_TRIES)
				break;
		}
		/* Another attempt and the reset a timeout would cost must fit. */
		if (!ata_time_left(d)) {
			ata_log("disk%d: no time left in the request's budget for another try",
				d->index);
			break;
		}
		if (try < ATA_TRIES)
			d->retries++;
	}
	ata_log("disk%d: %s of %u sectors at lba %llu failed: I/O error", d->index,
		x->write ? "write" : "read", x->count, (unsigned long long)x->lba);
	return ERR_IO;
}

long ata_rw_once(struct ata_disk *d, const struct ata_xfer *x)
{
	struct attempt a;
	long err;

	if (!xfer_ok(d, x))
		return ERR_INVAL;
	err = attempt_once(d, x, &a);
	d->commands++;
	if (err == ERR_TIMEOUT) {
		d->timeouts++;
		ata_reset(d->ch, "command timed out");
	}
	return err;
}

bool ata_time_left(const struct ata_disk *d)
{
	return !d->ch->budget_end || ata_now_ns() + 2 * d->ch->timeout_ns <= d->ch->budget_end;
}

long ata_flush(struct ata_disk *d)
{
	struct ata_channel *ch = d->ch;
	uint64_t deadline = ata_now_ns() + ch->timeout_ns;
	struct attempt a = { 0 };
	long st;

	if (select_drive(ch, d->slave, 0, deadline)) {
		ata_reset(ch, "busy before flush");
		return ERR_IO;
	}
	drain_stale_irqs(ch);
	ata_outb(ch->cmd + REG_COMMAND, d->lba48 ? CMD_FLUSH_EXT : CMD_FLUSH);
	ch->idle = false;
	st = wait_pio(ch, deadline);
	if (st < 0) {
		ata_log("disk%d: flush: timeout", d->index);
		ata_reset(ch, "flush timed out");
		return ERR_IO;
	}
	if (device_failed(ch, &a, (uint8_t)st, "flush")) {
		char bits[48];

		ata_log("disk%d: flush: device error %s (status %#x, error %#x)", d->index,
			ata_error_str(a.error, bits, sizeof(bits)), a.status, a.error);
		ata_forget(ch);
		return ERR_IO;
	}
	ch->idle = !(st & ST_DRQ);
	return 0;
}

void ata_reset(struct ata_channel *ch, const char *why)
{
	long st;

	if (ch->bm)
		ata_outb(ch->bm + BM_CMD, 0);
	ata_outb(ch->ctl, CTL_SRST | CTL_NIEN);
	ata_sleep_ns(POLL_SLEEP_NS);	/* SRST wants >= 5 us */
	ata_outb(ch->ctl, CTL_NIEN);
	ata_sleep_ns(2 * POLL_SLEEP_NS);	/* and BSY is valid 2 ms later */
	/*
	 * ATA allows a drive 31 s to come back; we wait one command timeout.
	 * A whole request must end well inside the kernel's page-request
	 * overtime: a grant it ends is unmapped from our window, and its
	 * frames may be reused, while we would still be transferring.
	 */
	st = poll_status(ch, ST_BSY, 0, ata_now_ns() + ch->timeout_ns);
	set_ctl(ch);
	ata_forget(ch);
	ch->multiple[0] = ch->multiple[1] = 0;	/* a drive may go back to one sector */
	ch->resets++;
	ata_irq_drain(ch->irq);
	ata_log("%s channel reset (%s): %s", ch->name, why,
		st < 0 ? "drives still busy" : "drives ready");
}

/*
 * A driver restarted after its predecessor died may find the channel in
 * the middle of that one's command: a drive busy or wanting data, a bus
 * master still running into frames the kernel has since handed back.
 * IDENTIFY then reads garbage, and the old transfer could still land.
 * Reset such a channel before probing it; an idle one is left alone.
 */
void ata_settle_channel(struct ata_channel *ch)
{
	uint8_t st = alt_status(ch);
	bool bm_on = ch->bm && (ata_inb(ch->bm + BM_STATUS) & BM_ST_ACTIVE);

	if (st == 0xFF)
		return;		/* floating bus: nothing there */
	if ((st & (ST_BSY | ST_DRQ)) || bm_on)
		ata_reset(ch, bm_on ? "found a DMA transfer running at start-up"
				    : "found a command running at start-up");
}

/* --- IDENTIFY --- */

/* ATA strings are big-endian 16-bit words, space padded. */
static void copy_ata_string(char *out, const uint16_t *words, int nwords)
{
	int len = 0;

	for (int i = 0; i < nwords; i++) {
		out[len++] = (char)(words[i] >> 8);
		out[len++] = (char)(words[i] & 0xFF);
	}
	while (len > 0 && (out[len - 1] == ' ' || out[len - 1] == '\0'))
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++)
		if (out[i] < 0x20 || out[i] > 0x7E)
			out[i] = '?';
}

long ata_identify_parse(const uint16_t id[256], struct ata_disk *d)
{
	uint64_t lba28 = (uint64_t)id[60] | (uint64_t)id[61] << 16;
	uint64_t lba48 = (uint64_t)id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 |
			 (uint64_t)id[103] << 48;

	copy_ata_string(d->model, &id[27], 20);
	if (!(id[49] & (1u << 9)))
		return ERR_NOSYS;	/* CHS only: not served */
	/* The most sectors per interrupt READ/WRITE MULTIPLE take; the block
	 * set must be a power of two (QEMU refuses others). */
	d->multi_max = 1;
	while ((uint32_t)d->multi_max * 2 <= (id[47] & 0xFFu))
		d->multi_max *= 2;
	d->dma = (id[49] & (1u << 8)) != 0;
	d->lba48 = (id[83] & (1u << 10)) && (id[86] & (1u << 10)) && lba48 > 0;
	d->sectors = d->lba48 ? lba48 : lba28;
	return d->sectors ? 0 : ERR_NOSYS;
}

/* Packet devices answer IDENTIFY DEVICE with ABRT and leave a signature. */
static bool packet_signature(const struct ata_channel *ch)
{
	uint8_t mid = ata_inb(ch->cmd + REG_LBA1), high = ata_inb(ch->cmd + REG_LBA2);

	return (mid == 0x14 && high == 0xEB) || (mid == 0x69 && high == 0x96);
}

enum ata_kind ata_identify(struct ata_channel *ch, int slave, struct ata_disk *d)
{
	uint64_t deadline = ata_now_ns() + ch->timeout_ns;
	uint16_t id[256];
	long st;

	ata_forget(ch);
	if (alt_status(ch) == 0xFF)
		return ATA_KIND_NONE;	/* floating bus: nothing on this channel */
	ata_outb(ch->cmd + REG_DEVICE, DEV_OBS | (slave ? DEV_SLAVE : 0));
	delay_400ns(ch);
	ch->selected = slave;
	/* Status 0 is an absent drive, or a packet device after a reset: ask. */
	if (poll_status(ch, ST_BSY, 0, deadline) < 0)
		return ATA_KIND_NONE;
	for (int r = REG_COUNT; r <= REG_LBA2; r++)
		ata_outb(ch->cmd + r, 0);
	ata_outb(ch->cmd + REG_COMMAND, CMD_IDENTIFY);
	if (alt_status(ch) == 0)
		return ATA_KIND_NONE;	/* nobody took the command */
	if (poll_status(ch, ST_BSY, 0, deadline) < 0)
		return ATA_KIND_NONE;
	if (packet_signature(ch)) {
		ata_inb(ch->cmd + REG_STATUS);
		return ATA_KIND_PACKET;
	}
	st = poll_status(ch, ST_DRQ | ST_ERR, ST_DRQ, deadline);
	ata_inb(ch->cmd + REG_STATUS);	/* acknowledge */
	if (st < 0)
		return packet_signature(ch) ? ATA_KIND_PACKET : ATA_KIND_NONE;
	ata_insw(ch->cmd + REG_DATA, id, 256);
	memset(d, 0, sizeof(*d));
	d->ch = ch;
	d->slave = slave;
	if (ata_identify_parse(id, d)) {
		ata_log("%s %s: %s: no LBA, not served", ch->name, slave ? "slave" : "master",
			d->model);
		return ATA_KIND_NONE;
	}
	return ATA_KIND_DISK;
}

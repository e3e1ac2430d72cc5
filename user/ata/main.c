// SPDX-License-Identifier: MIT
/*
 * ata: the IDE disk driver's server (model in ata.h, protocol in
 * <proto/block.h>).
 *
 *   ata [swap=|ext2=|fat=prog[,prog...]] [partN=prog[,...]] [raw=prog[,...]]
 *       [timeout=MS] [dma=off] [rogue]
 *
 * Its arguments are its boot configuration: the GRUB module line (built
 * from USER_ARGS_ata in user/build.mk).  Without any, each partition of
 * disk 0 goes to the program its contents call for (<part.h>): a swap area
 * to swapd, an ext2 file system to fs, anything else to nobody.
 *   swap= ext2= fat=  who gets partitions holding that
 *   partN=   programs that may use partition N (1..16) of disk 0, whatever
 *            it holds: an override of the signature
 *   raw=     programs that may use whole disks (any disk, any sector)
 *   timeout= one command's deadline in ms (10..2000, default 2000); a
 *            command that misses it is retried once after a device reset,
 *            all within the request's budget (BLOCK_DRIVER_BUDGET_NS)
 *   dma=off  PIO only (DMA grants are then refused)
 *   rogue    test boots only: honour BLOCK_F_ROGUE_* (rogue.c)
 * A program is known by the name the kernel gives its process, looked up
 * from the kernel-stamped sender of each request, and only when it runs
 * with its configuration's rights (access.c); everybody else is refused
 * (ERR_PERM).  A malformed option is logged and grants nothing.
 * The kernel's own boot configuration (iso/ferry.conf) gives ata its
 * rights: pin, dma, pci, its IRQs and I/O ports.
 *
 * Start-up: find the IDE controller on PCI, probe the four drive
 * positions (polled), attach the IRQs of the channels that have disks,
 * read disk 0's partition table and probe what each partition holds,
 * publish "ata", serve.
 */
#include <blkserve.h>
#include <ferry/sys.h>
#include <ipc.h>
#include <stdio.h>
#include <string.h>

#include "ata.h"

#define ATA_QUEUE	32
#define BUF_PAGES	BLKSERVE_BUF_PAGES
#define BUF_BYTES	(BUF_PAGES * ATA_PAGE)

/* Legacy ("compatibility mode") ports and lines of the two channels. */
static const struct {
	const char *name;
	uint16_t cmd, ctl;
	int irq;
	uint8_t native_bit;
} legacy[2] = {
	{ "primary", 0x1F0, 0x3F6, 14, 0x01 },
	{ "secondary", 0x170, 0x376, 15, 0x04 },
};

struct ata {
	struct blkserve srv;	/* the request loop (<blkserve.h>) */
	struct part_policy policy;
	struct ata_channel ch[2];
	struct ata_disk disk[BLOCK_DISKS_MAX];
	int ndisks;
	bool dma_off;
	bool rogue;
	uint64_t last_dev;	/* device address of the last grant served (rogue.c) */
	uint64_t timeout_ns;
	struct ata_prd *prd;	/* DMA memory: the PRD table page, */
	uint64_t prd_phys;
	uint8_t *buf;		/* then the buffer, where requests' pages land */
	uint64_t buf_phys[BUF_PAGES];
};

/* --- rights --- */

static long resolve(void *drv, struct blkserve_call *c, bool info)
{
	struct ata *a = drv;

	return ata_access_resolve(&a->policy, a->disk, a->ndisks, c->client,
				  c->m->arg[BLOCK_ARG_PART], info, &c->acc, &c->why);
}

/* The disk a resolved call names. */
static struct ata_disk *disk_of(struct ata *a, const struct blkserve_call *c)
{
	return &a->disk[c->acc.disk];
}

static uint32_t disk_modes(const struct ata_disk *d)
{
	uint32_t m = FILL_MODE_BIT(FILL_COPY) | FILL_MODE_BIT(FILL_GRANT_MAP);

	return d->dma ? m | FILL_MODE_BIT(FILL_GRANT_DMA) : m;
}

/* --- handlers: each answers into ans, or returns the error to send --- */

static long serve_info(void *drv, struct blkserve_call *c, struct msg *ans)
{
	struct ata *a = drv;
	const struct part *p = c->acc.part;

	ans->op = BLOCK_OK;
	ans->arg[BLOCK_REPLY_SECTORS] = p->sectors;
	ans->arg[BLOCK_REPLY_MODES] = disk_modes(disk_of(a, c));
	ans->arg[BLOCK_REPLY_TYPE] = BLOCK_TYPE_MAKE(p->type, p->content);
	ans->arg[BLOCK_REPLY_START] = p->start;
	ans->arg[BLOCK_REPLY_MINE] = ata_access_mine(&a->policy, disk_of(a, c), c->client);
	return 0;
}

/*
 * Where the request's bytes are: ata's buffer (copy) or the grant it names,
 * the sender's to name (blkserve_grant): one client cannot read into or
 * write out a grant another client forwarded.
 */
static long locate(struct ata *a, const struct msg *m, uint32_t mode, bool write,
		   struct grant_info *gi, struct ata_area *area)
{
	long err;

	if (mode == FILL_COPY) {
		*area = (struct ata_area){ BUF_PAGES, a->buf_phys, a->buf, true };
		return 0;
	}
	err = blkserve_grant(m, mode, write, gi);
	if (err)
		return err;
	*area = (struct ata_area){ gi->npages, gi->phys,
				   gi->mode == FILL_GRANT_MAP ? (uint8_t *)gi->window : NULL, false };
	return 0;
}

/*
 * A copy-mode read answers with whole pages of ata's buffer: the bytes no
 * sector will land on are cleared first, never another client's.  A
 * failed read sends nothing.  (Copy mode has one run; a list is cleared
 * whole.)
 */
static void clear_uncovered(uint8_t *buf, const struct ata_req *rq, uint32_t pages)
{
	size_t end = (size_t)pages * ATA_PAGE;

	if (rq->runs.nruns != 1) {
		memset(buf, 0, end);
		return;
	}
	memset(buf, 0, rq->runs.run[0].offset);
	memset(buf + rq->runs.end, 0, end - rq->runs.end);
}

/* The transfer itself, once the data area is located. */
static long transfer(struct ata *a, struct blkserve_call *c, struct msg *ans, uint32_t mode,
		     uint32_t flags, const struct ata_area *area, struct ata_req *rq)
{
	const struct msg *m = c->m;
	struct ata_disk *d = disk_of(a, c);
	bool write = rq->write;
	uint32_t pages;
	long err = blkserve_runs_of(c->m, flags, a->buf, c->acc.part, area->npages * ATA_PAGE,
				    &rq->runs);

	if (!err)
		err = blkserve_runs_allowed(&c->acc, &rq->runs, &c->why);
	if (err)
		return err;
	pages = (rq->runs.end + ATA_PAGE - 1) / ATA_PAGE;
	if (mode == FILL_COPY && write && (!(m->flags & MSG_PAGE) || MSG_NPAGES(m->flags) < pages))
		return ERR_INVAL;	/* the data did not come along */
	/* DMA where the drive and every frame allow it, else through the mapping. */
	if (!rq->pio && (!d->dma || !ata_area_dma_ok(area)))
		rq->pio = true;
	if (rq->pio && !area->virt)
		return ERR_INVAL;
	if (mode == FILL_COPY && !write)
		clear_uncovered(a->buf, rq, pages);
	err = ata_req_exec(d, rq, area);
	if (err)
		return err;
	ans->op = BLOCK_OK;
	ans->arg[BLOCK_REPLY_COUNT] = rq->runs.sectors;
	if (mode == FILL_COPY && !write) {
		ans->flags = MSG_WITH_PAGES(pages);
		ans->page = a->buf;
	}
	return 0;
}

/* A test boot's rogue request (rogue.c): the transfer aimed astray, and
 * the answer as if the grant had been filled. */
static long rogue_transfer(struct ata *a, struct blkserve_call *c, struct msg *ans,
			   uint32_t flags, const struct grant_info *gi,
			   const struct ata_area *area, struct ata_req *rq)
{
	long err = blkserve_runs_of(c->m, flags, a->buf, c->acc.part, area->npages * ATA_PAGE,
				    &rq->runs);

	if (!err)
		err = ata_rogue_transfer(disk_of(a, c), rq, gi, flags & BLOCK_F_ROGUE_MASK, a->last_dev);
	if (err)
		return err;
	ans->op = BLOCK_OK;
	ans->arg[BLOCK_REPLY_COUNT] = rq->runs.sectors;
	return 0;
}

static long serve_rw(void *drv, struct blkserve_call *c, struct msg *ans, bool write)
{
	struct ata *a = drv;
	const struct msg *m = c->m;
	const struct ata_disk *d = disk_of(a, c);
	uint32_t mode = (uint32_t)(m->arg[BLOCK_ARG_MODE] & BLOCK_MODE_MASK);
	uint32_t flags = (uint32_t)(m->arg[BLOCK_ARG_MODE] & ~(uint64_t)BLOCK_MODE_MASK);
	uint32_t rogue = flags & BLOCK_F_ROGUE_MASK;
	struct grant_info gi;
	struct ata_area area;
	struct ata_req rq;	/* 1.5 KiB of runs: blkserve_runs_check fills what it uses */
	long err;

	rq.write = write;
	rq.pio = flags & BLOCK_F_PIO;
	rq.lba48 = flags & BLOCK_F_LBA48;

	if ((m->arg[BLOCK_ARG_MODE] & ~(uint64_t)(BLOCK_MODE_MASK | BLOCK_F_ALL)) ||
	    mode >= FILL_NMODES || (rq.lba48 && !d->lba48) ||
	    (mode == FILL_COPY && (flags & (BLOCK_F_RUNS | BLOCK_F_ROGUE_MASK))) ||
	    (mode == FILL_GRANT_DMA && (rq.pio || !d->dma)) ||
	    (rogue && (!a->rogue || write || rq.pio || !d->dma)))
		return ERR_INVAL;
	err = locate(a, m, mode, write, &gi, &area);
	if (err)
		return err;
	err = rogue ? rogue_transfer(a, c, ans, flags, &gi, &area, &rq)
		    : transfer(a, c, ans, mode, flags, &area, &rq);
	if (mode != FILL_COPY)
		a->last_dev = gi.phys[0];
	/*
	 * Knowing the grant's frames, we may have had the device transfer into
	 * them; ata_req_exec returns only once it no longer can (done, failed,
	 * or stopped and the channel reset).  The kernel frees the frames of
	 * a failed page-in only after this (kernel/grant/grant.c).
	 */
	if (mode != FILL_COPY)
		sys_grant_done(m->arg[BLOCK_ARG_GRANT],
			       !err && !write && !rq.pio ? GRANT_DONE_WRITTEN : 0);
	return err;
}

static long serve_flush(void *drv, struct blkserve_call *c, struct msg *ans)
{
	long err = ata_flush(disk_of(drv, c));

	if (err)
		return err;
	ans->op = BLOCK_OK;
	return 0;
}

static const struct blkserve_driver ata_driver = {
	.log = ata_log, .resolve = resolve, .info = serve_info, .rw = serve_rw, .flush = serve_flush,
};

/* --- start-up --- */

static void parse_args(struct ata *a, int argc, char **argv)
{
	a->timeout_ns = ATA_DEFAULT_TIMEOUT_MS * 1000000ULL;
	part_policy_init(&a->policy);
	for (int i = 1; i < argc; i++) {
		const char *why = NULL;
		long err = blkserve_option(&a->policy, &a->timeout_ns, argv[i], &why);

		if (err == ERR_NOENT && strcmp(argv[i], "dma=off") == 0) {
			a->dma_off = true;
		} else if (err == ERR_NOENT && strcmp(argv[i], "rogue") == 0) {
			a->rogue = true;
		} else if (err == ERR_NOENT) {
			why = "unknown option";
		}
		if (why)
			ata_log("option '%s' ignored: %s", argv[i], why);
	}
}

static long setup_memory(struct ata *a)
{
	unsigned long phys;
	long va = sys_dma_alloc((1 + BUF_PAGES) * ATA_PAGE, &phys);

	if (va < 0)
		return va;
	a->prd = (struct ata_prd *)va;
	a->prd_phys = phys;
	a->buf = (uint8_t *)va + ATA_PAGE;
	for (int i = 0; i < BUF_PAGES; i++)
		a->buf_phys[i] = phys + (uint64_t)(1 + i) * ATA_PAGE;
	return 0;
}

static void setup_channels(struct ata *a, const struct ata_pci *pci)
{
	uint16_t bm = (pci->bar[4] & 1) ? (uint16_t)(pci->bar[4] & ~3u) : 0;

	for (int i = 0; i < 2; i++) {
		struct ata_channel *ch = &a->ch[i];
		bool native = pci->progif & legacy[i].native_bit;

		*ch = (struct ata_channel){
			.name = legacy[i].name, .cmd = legacy[i].cmd, .ctl = legacy[i].ctl,
			.irq = legacy[i].irq, .selected = -1, .timeout_ns = a->timeout_ns,
			.prd = a->prd, .prd_phys = (uint32_t)a->prd_phys,
			.bm = a->dma_off || !bm ? 0 : (uint16_t)(bm + 8 * i),
		};
		if (native) {	/* ports from BARs 0/1 (2/3); control at BAR + 2 */
			ch->cmd = (uint16_t)(pci->bar[2 * i] & ~3u);
			ch->ctl = (uint16_t)((pci->bar[2 * i + 1] & ~3u) + 2);
			ch->irq = pci->irq_line;
		}
		ata_outb(ch->ctl, ATA_CTL_NIEN);	/* probing polls */
	}
	ata_log("IDE controller %04x:%04x at %02x:%02x.%x, %s mode, bus master %s%#x",
		pci->vendor, pci->device, pci->bdf >> 8, (pci->bdf >> 3) & 31, pci->bdf & 7,
		(pci->progif & 0x05) ? "native" : "compatibility", bm ? "at " : "none ", bm);
}

static void probe(struct ata *a)
{
	static const char *const pos[2] = { "master", "slave" };

	for (int i = 0; i < 4 && a->ndisks < BLOCK_DISKS_MAX; i++) {
		struct ata_channel *ch = &a->ch[i / 2];
		struct ata_disk *d = &a->disk[a->ndisks];

		switch (ata_identify(ch, i % 2, d)) {
		case ATA_KIND_DISK:
			d->index = a->ndisks++;
			d->dma = d->dma && ch->bm;
			ata_log("disk%d (%s %s): %s, %llu sectors (%llu MiB), %s, %s", d->index,
				ch->name, pos[i % 2], d->model, (unsigned long long)d->sectors,
				(unsigned long long)(d->sectors >> 11), d->lba48 ? "LBA48" : "LBA28",
				d->dma ? "DMA" : "PIO");
			break;
		case ATA_KIND_PACKET:
			ata_log("%s %s: packet device (ATAPI, e.g. CD-ROM): not served", ch->name,
				pos[i % 2]);
			break;
		case ATA_KIND_NONE:
			break;
		}
	}
}

/* IRQs for the channels with disks; a channel whose IRQ fails is polled. */
static void attach_irqs(struct ata *a)
{
	for (int i = 0; i < 2; i++) {
		struct ata_channel *ch = &a->ch[i];
		bool used = false;
		long err;

		for (int k = 0; k < a->ndisks; k++)
			used |= a->disk[k].ch == ch;
		if (!used)
			continue;
		err = ata_hw_attach(ch->irq);
		if (err)
			ata_log("%s channel: irq %d: %s: polling instead", ch->name, ch->irq,
				err_str(err));
		ch->irq_on = err == 0;
		ata_outb(ch->ctl, ch->irq_on ? 0 : ATA_CTL_NIEN);
		ata_irq_drain(ch->irq);
	}
}

static long scan_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
	struct ata_disk *d = ctx;
	struct ata_xfer x = { .lba = lba, .count = count, .buf = buf,
			      .lba48 = lba + count > ATA_LBA28_END };

	return ata_rw(d, &x);
}

static void scan_log(void *ctx, const char *line)
{
	(void)ctx;
	ata_log("%s", line);
}

static void scan_partitions(struct ata *a)
{
	struct ata_disk *d = &a->disk[0];
	struct part_disk pd = { .name = "disk0", .sectors = d->sectors, .read = scan_read,
				.log = scan_log, .ctx = d };
	long err;

	for (int k = 1; k < a->ndisks; k++)
		a->disk[k].pt.part[0] = (struct part){ .present = true,
						       .sectors = a->disk[k].sectors };
	err = part_scan(&d->pt, &pd, a->buf);
	if (err)
		ata_log("disk0: cannot read the partition table: %s", err_str(err));
	part_probe_all(&d->pt, &pd, a->buf);
	part_policy_report(&a->policy, &d->pt, &pd);
}

static long start(struct ata *a)
{
	struct ata_pci pci;
	long err = a->rogue ? ata_rogue_init() : 0;

	if (!err)
		err = ata_hw_init();
	if (err)
		return err;
	if (ata_pci_find(&pci)) {
		ata_log("no IDE controller (PCI class 01:01)");
		return ERR_NOENT;
	}
	setup_channels(a, &pci);
	for (int i = 0; i < 2; i++)
		ata_settle_channel(&a->ch[i]);
	/* A dead predecessor's transfers have ended: frames the kernel parked
	 * for them (grants it gave up on) may be reused (kernel/iommu). */
	sys_vm_ctl(VM_CTL_DMA_QUIET, 0, NULL);
	probe(a);
	if (!a->ndisks) {
		ata_log("no ATA disk found");
		return ERR_NOENT;
	}
	/* DMA memory only now (probing polls by PIO): a driver that found
	 * nothing to drive leaves no buffer behind, where the kernel would
	 * park it for a successor that never comes (kernel/iommu). */
	err = setup_memory(a);
	if (err)
		return err;
	for (int i = 0; i < 2; i++) {
		a->ch[i].prd = a->prd;
		a->ch[i].prd_phys = (uint32_t)a->prd_phys;
	}
	attach_irqs(a);
	scan_partitions(a);
	a->srv = (struct blkserve){ .drv = &ata_driver, .ctx = a, .buf = a->buf };
	a->srv.port = ipc_publish(BLOCK_PORT_NAME, ATA_QUEUE);
	if (a->srv.port < 0)
		return a->srv.port;
	ata_log("ready: %d disk%s, %s, command timeout %llu ms", a->ndisks, a->ndisks > 1 ? "s" : "",
		a->disk[0].dma ? "bus-master DMA and PIO" : "PIO only",
		(unsigned long long)(a->timeout_ns / 1000000));
	return 0;
}

int main(int argc, char **argv)
{
	static struct ata a;
	long err;

	parse_args(&a, argc, argv);
	err = start(&a);
	if (err) {
		ata_log("not started: %s", err_str(err));
		return 1;
	}
	blkserve_loop(&a.srv);
}

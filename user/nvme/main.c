// SPDX-License-Identifier: MIT
/*
 * nvme: the NVMe driver's server (model in nvme.h, protocol in
 * <proto/block.h>, the same as ata's).
 *
 *   nvme [swap=|ext2=|fat=|partN=|raw=prog[,prog...]] [timeout=MS] [poll|intx]
 *        [queuelog]
 *
 * Its arguments are its boot configuration: the GRUB module line (built
 * from USER_ARGS_nvme in user/build.mk).
 *   who may use what, as for ata (<part.h>): by default each partition of
 *            namespace 1 (disk 0) goes to the program its content calls for
 *            (a swap area to swapd, an ext2 file system to fs); swap=,
 *            ext2=, fat= and partN= say otherwise, raw= names the programs
 *            that may use whole namespaces
 *   timeout= one command's deadline in ms (10..2000, default 2000); a
 *            command that misses it makes the driver reset the controller
 *            and try once more, all within the request's budget
 *            (BLOCK_DRIVER_BUDGET_NS)
 *   poll     completion by polling the ring instead of the interrupt
 *   intx     completion by the INTx line, one I/O queue, even where the
 *            kernel offers MSI-X (by default: one I/O queue pair per CPU,
 *            each with its MSI-X vector aimed at that CPU)
 *   queuelog logs each I/O queue's first command and the CPU it was
 *            submitted on (tests: which queues carried I/O)
 * A program is known by the name the kernel gives its process, looked up
 * from the kernel-stamped sender of each request, and only while it runs
 * with its configuration's rights; everybody else is refused (ERR_PERM).
 * A malformed option is logged and grants nothing.
 * The kernel's boot configuration (iso/ferry.conf) gives nvme its rights:
 * pin, dma, pci, and device=01:08:02 (its registers, its interrupt line
 * and its MSI-X entries, which the kernel programs: sys_msi_attach).
 *
 * Start-up: find the controller on PCI and map its registers, bring it up
 * (polled, its MSI-X entries attached first: the completion queues name
 * their vectors), read namespace 1's partition table and what each partition
 * holds (<part.h>, the same code as ata's), turn interrupts on, publish
 * "nvme", serve.
 */
#include <blkserve.h>
#include <ferry/sys.h>
#include <ipc.h>
#include <stdio.h>
#include <string.h>

#include "nvme.h"

#define NVME_QUEUE	32
#define BUF_PAGES	BLKSERVE_BUF_PAGES

struct nvme {
	struct blkserve srv;	/* the request loop (<blkserve.h>) */
	struct part_policy policy;
	struct nvme_ctrl ctrl;
	struct nvme_pci pci;
	bool poll;
	bool intx;		/* option: INTx even where MSI-X is offered */
	uint8_t *buf;		/* the copy buffer, where requests' pages land */
	uint64_t buf_dev[BUF_PAGES];
};

/* --- rights --- */

/*
 * The partition library decides, as for every driver (<part.h>).  The
 * request's budget starts here, before it is served.
 */
static long resolve(void *drv, struct blkserve_call *c, bool info)
{
	struct nvme *v = drv;
	const struct part_table *tables[NVME_NS_MAX];
	struct part_client pc = blkserve_part_client(c->client);
	long err;

	for (int i = 0; i < v->ctrl.nns; i++)
		tables[i] = &v->ctrl.ns[i].pt;
	err = part_access_resolve(&v->policy, tables, v->ctrl.nns, &pc, c->m->arg[BLOCK_ARG_PART],
				  info, blkserve_allowance, &c->acc, &c->why);
	v->ctrl.budget_end = nvme_now_ns() + BLOCK_DRIVER_BUDGET_NS;
	return err;
}

/* The namespace a resolved call names. */
static struct nvme_ns *ns_of(struct nvme *v, const struct blkserve_call *c)
{
	return &v->ctrl.ns[c->acc.disk];
}

static const uint32_t modes_served = FILL_MODE_BIT(FILL_COPY) | FILL_MODE_BIT(FILL_GRANT_MAP) |
				     FILL_MODE_BIT(FILL_GRANT_DMA);

/* --- handlers: each answers into ans, or returns the error to send --- */

static long serve_info(void *drv, struct blkserve_call *c, struct msg *ans)
{
	struct nvme *v = drv;
	const struct part *p = c->acc.part;
	struct part_client pc = blkserve_part_client(c->client);

	ans->op = BLOCK_OK;
	ans->arg[BLOCK_REPLY_SECTORS] = p->sectors;
	ans->arg[BLOCK_REPLY_MODES] = modes_served;
	ans->arg[BLOCK_REPLY_TYPE] = BLOCK_TYPE_MAKE(p->type, p->content);
	ans->arg[BLOCK_REPLY_START] = p->start;
	ans->arg[BLOCK_REPLY_MINE] = part_access_mine(&v->policy, &ns_of(v, c)->pt,
						      (unsigned)ns_of(v, c)->index, &pc);
	return 0;
}

/*
 * Where the request's bytes are: our buffer (copy) or the grant it names,
 * the sender's to name (blkserve_grant).  Grant-map grants are filled by
 * DMA like grant-DMA ones: their frames' device addresses come with them.
 */
static long locate(struct nvme *v, const struct msg *m, uint32_t mode, bool write,
		   struct grant_info *gi, struct nvme_area *area)
{
	long err;

	if (mode == FILL_COPY) {
		*area = (struct nvme_area){ BUF_PAGES, v->buf_dev };
		return 0;
	}
	err = blkserve_grant(m, mode, write, gi);
	if (err)
		return err;
	*area = (struct nvme_area){ gi->npages, gi->phys };
	return 0;
}

static long serve_rw(void *drv, struct blkserve_call *c, struct msg *ans, bool write)
{
	struct nvme *v = drv;
	const struct msg *m = c->m;
	uint32_t mode = (uint32_t)(m->arg[BLOCK_ARG_MODE] & BLOCK_MODE_MASK);
	uint32_t flags = (uint32_t)(m->arg[BLOCK_ARG_MODE] & ~(uint64_t)BLOCK_MODE_MASK);
	struct nvme_req rq = { .write = write };
	struct grant_info gi;
	struct nvme_area area;
	uint32_t pages;
	long err;

	/* No PIO on NVMe; LBA48 means nothing here (every LBA is 64 bits). */
	if ((m->arg[BLOCK_ARG_MODE] & ~(uint64_t)(BLOCK_MODE_MASK | BLOCK_F_ALL)) ||
	    mode >= FILL_NMODES || (flags & BLOCK_F_PIO) ||
	    (mode == FILL_COPY && (flags & BLOCK_F_RUNS)))
		return ERR_INVAL;
	err = locate(v, m, mode, write, &gi, &area);
	if (err)
		return err;
	err = blkserve_runs_of(c->m, flags, v->buf, c->acc.part, area.npages * NVME_PAGE, &rq.runs);
	if (!err)
		err = blkserve_runs_allowed(&c->acc, &rq.runs, &c->why);
	pages = (rq.runs.end + NVME_PAGE - 1) / NVME_PAGE;
	if (!err && mode == FILL_COPY && write &&
	    (!(m->flags & MSG_PAGE) || MSG_NPAGES(m->flags) < pages))
		err = ERR_INVAL;	/* the data did not come along */
	if (!err && mode == FILL_COPY && !write)
		memset(v->buf, 0, (size_t)pages * NVME_PAGE);	/* never another client's bytes */
	if (!err)
		err = nvme_req_exec(&v->ctrl, ns_of(v, c), &rq, &area);
	/*
	 * Knowing the grant's frames, the controller may have written them;
	 * nvme_req_exec returns only once no command of the request is in
	 * flight (done, failed, or aborted by a reset), unless the controller
	 * could not be stopped: then we exit unanswered (served()), not done.
	 */
	if (mode != FILL_COPY && !v->ctrl.stuck)
		sys_grant_done(m->arg[BLOCK_ARG_GRANT], !err && !write ? GRANT_DONE_WRITTEN : 0);
	if (err)
		return err;
	if (mode == FILL_COPY && !write)
		nvme_dma_landed(v->buf, pages * NVME_PAGE);	/* for the cost model */
	ans->op = BLOCK_OK;
	ans->arg[BLOCK_REPLY_COUNT] = rq.runs.sectors;
	if (mode == FILL_COPY && !write) {
		ans->flags = MSG_WITH_PAGES(pages);
		ans->page = v->buf;
	}
	return 0;
}

static long serve_flush(void *drv, struct blkserve_call *c, struct msg *ans)
{
	struct nvme *v = drv;
	long err = nvme_flush(&v->ctrl, ns_of(v, c));

	if (err)
		return err;
	ans->op = BLOCK_OK;
	return 0;
}

/* Answering would end grants the controller may still write. */
static void served(void *drv)
{
	struct nvme *v = drv;

	if (v->ctrl.stuck) {
		nvme_log("the controller cannot be stopped: exiting unanswered");
		sys_exit(3);
	}
}

static const struct blkserve_driver nvme_driver = {
	.log = nvme_log, .resolve = resolve, .info = serve_info, .rw = serve_rw, .flush = serve_flush,
	.served = served,
};

/* --- start-up --- */

static void parse_args(struct nvme *v, int argc, char **argv)
{
	v->ctrl.timeout_ns = NVME_DEFAULT_TIMEOUT_MS * 1000000ULL;
	part_policy_init(&v->policy);
	for (int i = 1; i < argc; i++) {
		const char *why = NULL;
		long err = blkserve_option(&v->policy, &v->ctrl.timeout_ns, argv[i], &why);

		if (err == ERR_NOENT && strcmp(argv[i], "poll") == 0) {
			v->poll = true;
		} else if (err == ERR_NOENT && strcmp(argv[i], "intx") == 0) {
			v->intx = true;
		} else if (err == ERR_NOENT && strcmp(argv[i], "queuelog") == 0) {
			v->ctrl.log_queues = true;
		} else if (err == ERR_NOENT) {
			why = "unknown option";
		}
		if (why)
			nvme_log("option '%s' ignored: %s", argv[i], why);
	}
}

static long setup_memory(struct nvme *v)
{
	size_t ctrl_bytes = nvme_ctrl_mem_size();
	uint64_t dev;
	uint8_t *mem = nvme_dma_alloc(ctrl_bytes + BUF_PAGES * NVME_PAGE, &dev);

	if (!mem)
		return ERR_NOMEM;
	nvme_ctrl_mem(&v->ctrl, mem, dev);
	v->buf = mem + ctrl_bytes;
	for (int i = 0; i < BUF_PAGES; i++)
		v->buf_dev[i] = dev + ctrl_bytes + (uint64_t)i * NVME_PAGE;
	return 0;
}

/*
 * The partition library reads through here, polled.  Its buffer is the
 * copy buffer's first PART_SCAN_BUF bytes (DMA lands there) or one of its
 * own (a sector on its stack): that read lands in the buffer's second half
 * and is copied.
 */
#define SCAN_BOUNCE	(BUF_PAGES * NVME_PAGE / 2)

_Static_assert(PART_SCAN_BUF <= SCAN_BOUNCE, "the bounce area is clear of the scan buffer");

static long scan_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
	struct nvme *v = ctx;
	uint8_t *b = buf;
	bool direct = b >= v->buf && b + (size_t)count * NVME_SECTOR <= v->buf + SCAN_BOUNCE;
	struct block_run run = { .br_sector = lba, .br_count = count,
				 .br_offset = direct ? (uint32_t)(b - v->buf) : SCAN_BOUNCE };
	struct nvme_area area = { BUF_PAGES, v->buf_dev };
	struct nvme_req rq = { .write = false };
	long err = blkserve_runs_check(&rq.runs, &v->ctrl.ns[0].pt.part[0], &run, 1, BUF_PAGES * NVME_PAGE);

	if (!err)
		err = nvme_req_exec(&v->ctrl, &v->ctrl.ns[0], &rq, &area);
	if (!err && !direct)
		memcpy(b, v->buf + SCAN_BOUNCE, (size_t)count * NVME_SECTOR);
	return err;
}

static void scan_log(void *ctx, const char *line)
{
	(void)ctx;
	nvme_log("%s", line);
}

static void scan_partitions(struct nvme *v)
{
	struct nvme_ns *ns = &v->ctrl.ns[0];
	struct part_disk pd = { .name = "disk0", .sectors = ns->sectors, .read = scan_read,
				.log = scan_log, .ctx = v };
	long err = part_scan(&ns->pt, &pd, v->buf);

	if (err)
		nvme_log("disk0: cannot read the partition table: %s", err_str(err));
	part_probe_all(&ns->pt, &pd, v->buf);
	part_policy_report(&v->policy, &ns->pt, &pd);
}

/*
 * Before the controller starts, since its completion queues name their
 * vectors: one MSI-X entry per CPU online (entry k + 1 for I/O queue
 * k + 1, aimed at CPU k; entry 0, the admin queue's, stays masked), as
 * many as the table has and the kernel gives.  None: INTx, one queue.
 */
static void choose_interrupts(struct nvme *v)
{
	struct nvme_ctrl *c = &v->ctrl;
	struct sys_stats st;
	unsigned n = 1;
	long irq;

	for (int k = 0; k < NVME_QUEUES_MAX; k++)
		c->io[k].irq = -1;
	c->nio_wanted = 1;
	if (v->poll || v->intx || v->pci.msix_entries < 2)
		return;
	if (sys_stats(&st) == 0 && st.cpus_online > 1)
		n = (unsigned)st.cpus_online;
	n = n < NVME_QUEUES_MAX ? n : NVME_QUEUES_MAX;
	n = n < v->pci.msix_entries - 1u ? n : v->pci.msix_entries - 1u;
	for (unsigned k = 0; k < n; k++) {
		irq = nvme_hw_msix_attach(v->pci.bdf, (int)k + 1, k);
		if (irq < 0) {
			nvme_log("MSI-X entry %u for CPU %u: %s%s", k + 1, k, err_str(irq),
				 k ? "" : ": INTx instead");
			break;
		}
		c->io[k].irq = (int)irq;
		c->io[k].cpu = k;
		c->nio_wanted = (int)k + 1;
		c->msix = true;
	}
}

static void attach_irq(struct nvme *v)
{
	struct nvme_ctrl *c = &v->ctrl;
	long err;

	if (v->poll) {
		nvme_ctrl_irq(c, false);
		return;
	}
	if (c->msix) {
		nvme_hw_irq_drain();	/* raised by the polled start-up */
		nvme_ctrl_irq(c, true);
		for (int k = 0; k < c->nio; k++)
			nvme_log("I/O queue %d: MSI-X entry %d, IRQ %d, CPU %u", k + 1, k + 1,
				 c->io[k].irq, c->io[k].cpu);
		return;
	}
	err = v->pci.irq_line < 16 ? nvme_hw_irq_attach(v->pci.irq_line) : ERR_NOENT;
	if (err)
		nvme_log("irq %u: %s: polling instead", v->pci.irq_line, err_str(err));
	c->io[0].irq = v->pci.irq_line;
	nvme_ctrl_irq(c, err == 0);
}

static long start(struct nvme *v)
{
	struct nvme_ctrl *c = &v->ctrl;
	long err = nvme_pci_find(&v->pci);

	if (err) {
		nvme_log("no NVMe controller (PCI class 01:08:02): %s", err_str(err));
		return ERR_NOENT;
	}
	/* DMA memory only once there is a controller: a driver that found
	 * nothing leaves no buffer behind (a dead driver's wait for its
	 * successor, kernel/iommu). */
	err = setup_memory(v);
	if (err)
		return err;
	choose_interrupts(v);
	err = nvme_ctrl_start(c);
	if (err)
		return err;
	nvme_log("controller %04x:%04x at %02x:%02x.%x: %s, serial %s, firmware %s, NVMe %u.%u,"
		 " %u-sector commands", v->pci.vendor, v->pci.device, v->pci.bdf >> 8,
		 (v->pci.bdf >> 3) & 31, v->pci.bdf & 7, c->model, c->serial, c->firmware,
		 c->vs >> 16, (c->vs >> 8) & 0xFF, c->max_sectors);
	for (int i = 0; i < c->nns; i++)
		nvme_log("disk%d: namespace %u, %llu sectors (%llu MiB)", i, c->ns[i].nsid,
			 (unsigned long long)c->ns[i].sectors,
			 (unsigned long long)(c->ns[i].sectors >> 11));
	if (!c->nns) {
		nvme_log("no namespace to serve");
		return ERR_NOENT;
	}
	scan_partitions(v);
	attach_irq(v);
	/* kdb's PRP view reads the commands there (`grant ID`). */
	sys_vm_ctl(VM_CTL_DMA_RING, NVME_IO_DEPTH * c->nio, (void *)c->io[0].sq);
	v->srv = (struct blkserve){ .drv = &nvme_driver, .ctx = v, .buf = v->buf };
	v->srv.port = ipc_publish(BLOCK_PORT_NVME, NVME_QUEUE);
	if (v->srv.port < 0)
		return v->srv.port;
	nvme_log("ready: %d namespace%s, completion by %s, %d I/O queue pair%s, command timeout "
		 "%llu ms", c->nns, c->nns > 1 ? "s" : "",
		 !c->irq_on ? "polling" : c->msix ? "MSI-X" : "INTx", c->nio, c->nio > 1 ? "s" : "",
		 (unsigned long long)(c->timeout_ns / 1000000));
	return 0;
}

int main(int argc, char **argv)
{
	static struct nvme v;
	long err;

	parse_args(&v, argc, argv);
	err = start(&v);
	if (err) {
		nvme_log("not started: %s", err_str(err));
		return 1;
	}
	blkserve_loop(&v.srv);
}

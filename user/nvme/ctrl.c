// SPDX-License-Identifier: MIT
/*
 * The NVMe controller (model in nvme.h): bring-up and reset, the admin
 * commands, identify, and batches of I/O commands with their deadlines,
 * retries and controller resets.  Through the hardware seam only.
 *
 * Bring-up (NVMe 1.4, 7.6.1), the same at start-up and after a reset:
 *   1. CC.EN = 0 and wait for CSTS.RDY = 0 (CAP.TO): the controller stops,
 *      every queue is gone, no command of before touches memory again;
 *   2. the admin rings zeroed, AQA/ASQ/ACQ written, CC.EN = 1 with 64-byte
 *      submissions and 16-byte completions, wait for CSTS.RDY = 1;
 *   3. with INTx, INTMS masks the interrupt while admin commands run
 *      (polled); with MSI-X the admin queue's vector 0 is never attached
 *      (the kernel leaves its entry masked) and INTMS/INTMC, which the
 *      specification reserves for INTx and MSI, are never touched;
 *   4. Set Features (number of queues: one pair per CPU wanted, fewer if
 *      the controller allocates fewer), then per pair k = 1..n: Create
 *      I/O Completion Queue k (interrupts on, vector k with MSI-X, 0 with
 *      INTx), Create I/O Submission Queue k on it;
 *   5. with INTx, INTMC unmasks the interrupt if completion is by interrupt.
 */
#include <stdio.h>
#include <string.h>

#include "nvme.h"

#define POLL_SPINS	64		/* checks before sleeping between them */
#define POLL_SLEEP_NS	100000ULL
#define ADMIN_SLOTS	4
#define MEM_IDENT	0		/* page indices in the DMA region */
#define MEM_ASQ		1
#define MEM_ACQ		2
/* Then every I/O submission ring, one after the other (kdb's PRP view
 * reads them as one: VM_CTL_DMA_RING), every completion ring, and each
 * queue's PRP lists. */
#define MEM_SQS		3
#define MEM_CQS		(MEM_SQS + NVME_QUEUES_MAX)
#define MEM_PRPS	(MEM_CQS + NVME_QUEUES_MAX)
#define MEM_PRP_PAGES	((NVME_SLOTS * NVME_PRP_LIST_BYTES + NVME_PAGE - 1) / NVME_PAGE)
#define MEM_PAGES	(MEM_PRPS + NVME_QUEUES_MAX * MEM_PRP_PAGES)

_Static_assert(NVME_IO_DEPTH * sizeof(struct nvme_sqe) <= NVME_PAGE, "one page per ring");

size_t nvme_ctrl_mem_size(void)
{
	return (size_t)MEM_PAGES * NVME_PAGE;
}

void nvme_ctrl_mem(struct nvme_ctrl *c, void *mem, uint64_t dev)
{
	c->mem = mem;
	c->mem_dev = dev;
	c->ident = c->mem + MEM_IDENT * NVME_PAGE;
	c->ident_dev = dev + MEM_IDENT * NVME_PAGE;
}

/* Page `page` of the DMA region: its address, *dev the device's. */
static void *mem_page(struct nvme_ctrl *c, unsigned page, uint64_t *dev)
{
	*dev = c->mem_dev + (uint64_t)page * NVME_PAGE;
	return c->mem + (size_t)page * NVME_PAGE;
}

/* --- status codes --- */

static const struct {
	uint16_t code;		/* SCT << 8 | SC */
	const char *what;
} statuses[] = {
	{ 0x001, "invalid command opcode" }, { 0x002, "invalid field in command" },
	{ 0x003, "command id conflict" }, { 0x004, "data transfer error" },
	{ 0x005, "aborted: power loss" }, { 0x006, "internal error" },
	{ 0x007, "abort requested" }, { 0x008, "aborted: queue deleted" },
	{ 0x00B, "invalid namespace" }, { 0x00C, "command sequence error" },
	{ 0x013, "invalid PRP offset" }, { 0x080, "LBA out of range" },
	{ 0x081, "capacity exceeded" }, { 0x082, "namespace not ready" },
	{ 0x100, "invalid completion queue" }, { 0x101, "invalid queue id" },
	{ 0x102, "queue size exceeded" }, { 0x108, "invalid interrupt vector" },
	{ 0x280, "write fault" }, { 0x281, "unrecovered read error" },
	{ 0x282, "end-to-end guard check error" }, { 0x286, "access denied" },
	{ 0x287, "deallocated or unwritten block" },
};

static const char *const sct_names[8] = {
	"generic", "command specific", "media error", "path error",
	"type 4", "type 5", "type 6", "vendor specific",
};

const char *nvme_status_str(uint16_t status, char *buf, size_t size)
{
	uint16_t code = (uint16_t)(NVME_SCT(status) << 8 | NVME_SC(status));
	const char *what = "unknown status";

	if (status == NVME_ST_ABORTED) {
		snprintf(buf, size, "given up by the driver");
		return buf;
	}
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].code == code)
			what = statuses[i].what;
	snprintf(buf, size, "%s: %s (sct %u sc %#x)%s", sct_names[NVME_SCT(status)], what,
		 NVME_SCT(status), NVME_SC(status), (status & NVME_DNR) ? " DNR" : "");
	return buf;
}

/* --- enable and disable --- */

/* Waits for CSTS.RDY to become `ready`.  => 0, ERR_IO (fatal status, or
 * the device is gone: all ones), ERR_TIMEOUT. */
static long wait_ready(struct nvme_ctrl *c, bool ready)
{
	uint64_t deadline = nvme_now_ns() + c->ready_ns;

	for (int spins = 0;; spins++) {
		uint32_t csts = nvme_read32(NVME_REG_CSTS);

		if (csts == 0xFFFFFFFFu)
			return ERR_IO;
		if (((csts & NVME_CSTS_RDY) != 0) == ready)
			return 0;
		if (ready && (csts & NVME_CSTS_CFS))
			return ERR_IO;
		if (nvme_now_ns() >= deadline)
			return ERR_TIMEOUT;
		if (spins >= POLL_SPINS)
			nvme_sleep_ns(POLL_SLEEP_NS);
	}
}

static long disable(struct nvme_ctrl *c)
{
	uint32_t cc = nvme_read32(NVME_REG_CC);

	if (cc & NVME_CC_EN)
		nvme_write32(NVME_REG_CC, cc & ~NVME_CC_EN);
	return wait_ready(c, false);
}

static long enable(struct nvme_ctrl *c)
{
	nvme_write32(NVME_REG_AQA, (uint32_t)(NVME_ADMIN_DEPTH - 1) << 16 | (NVME_ADMIN_DEPTH - 1));
	nvme_write64(NVME_REG_ASQ, c->admin.sq_dev);
	nvme_write64(NVME_REG_ACQ, c->admin.cq_dev);
	nvme_write32(NVME_REG_CC, NVME_CC_IOSQES | NVME_CC_IOCQES | NVME_CC_EN);
	return wait_ready(c, true);
}

/* --- admin commands: polled, one at a time --- */

/* => 0 with *result, ERR_IO (a status: logged), ERR_TIMEOUT. */
static long admin(struct nvme_ctrl *c, const struct nvme_sqe *cmd, uint32_t *result)
{
	struct nvme_queue *q = &c->admin;
	int s = nvme_queue_slot(q);
	uint64_t deadline = nvme_now_ns() + c->timeout_ns;
	char why[80];
	long err = 0;

	if (s < 0)
		return ERR_BUSY;
	q->slot[s].sqe = *cmd;
	nvme_queue_submit(q, s, deadline);
	for (int spins = 0; !q->slot[s].done; spins++) {
		nvme_queue_reap(q);
		if (q->slot[s].done)
			break;
		if (nvme_now_ns() >= deadline) {
			err = ERR_TIMEOUT;
			break;
		}
		if (spins >= POLL_SPINS)
			nvme_sleep_ns(POLL_SLEEP_NS);
	}
	if (!err && q->slot[s].status) {
		nvme_log("admin command %#x: %s", cmd->opcode,
			 nvme_status_str(q->slot[s].status, why, sizeof(why)));
		err = ERR_IO;
	} else if (err) {
		nvme_log("admin command %#x: no completion in %llu ms", cmd->opcode,
			 (unsigned long long)(c->timeout_ns / 1000000));
	}
	if (result)
		*result = q->slot[s].result;
	/* A timed-out slot stays busy until the next reset gives it up. */
	if (!err || err == ERR_IO)
		nvme_queue_release(q, s);
	return err;
}

static long identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid)
{
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_IDENTIFY, .nsid = nsid,
				.prp1 = c->ident_dev, .cdw10 = cns };

	memset(c->ident, 0, NVME_PAGE);
	return admin(c, &cmd, NULL);
}

/* Set Features, Number of Queues: asks for c->nio_wanted pairs; the
 * controller answers how many it allocated (0-based, submission queues
 * in the low half), which may be fewer, never more than asked. */
static long set_queue_count(struct nvme_ctrl *c)
{
	uint32_t want = (uint32_t)c->nio_wanted - 1, got;
	struct nvme_sqe feat = { .opcode = NVME_ADMIN_SET_FEATURES, .cdw10 = NVME_FEAT_NQUEUES,
				 .cdw11 = want << 16 | want };
	long err = admin(c, &feat, &got);
	uint32_t nsq = (got & 0xFFFF) + 1, ncq = (got >> 16) + 1, n = (uint32_t)c->nio_wanted;

	if (err)
		return err;
	n = nsq < n ? nsq : n;
	n = ncq < n ? ncq : n;
	if ((int)n < c->nio_wanted && !c->nio_logged)
		nvme_log("controller allocates %u I/O queue pairs, %d wanted: %u used", nsq < ncq ?
			 nsq : ncq, c->nio_wanted, n);
	c->nio_logged = true;
	c->nio = (int)n;
	return 0;
}

static long create_io_queue(struct nvme_ctrl *c, struct nvme_queue *q)
{
	/* Physically contiguous, interrupts on, on MSI-X vector qid (INTx: 0). */
	struct nvme_sqe cq = { .opcode = NVME_ADMIN_CREATE_CQ, .prp1 = q->cq_dev,
			       .cdw10 = (uint32_t)(NVME_IO_DEPTH - 1) << 16 | q->qid,
			       .cdw11 = (uint32_t)(c->msix ? q->qid : 0) << 16 | 0x3 };
	struct nvme_sqe sq = { .opcode = NVME_ADMIN_CREATE_SQ, .prp1 = q->sq_dev,
			       .cdw10 = (uint32_t)(NVME_IO_DEPTH - 1) << 16 | q->qid,
			       .cdw11 = (uint32_t)q->qid << 16 | 0x1 };
	long err = admin(c, &cq, NULL);

	return err ? err : admin(c, &sq, NULL);
}

static long create_io_queues(struct nvme_ctrl *c)
{
	long err = set_queue_count(c);

	for (int k = 0; !err && k < c->nio; k++)
		err = create_io_queue(c, &c->io[k]);
	return err;
}

/* Steps 1 to 5 of the bring-up (top of this file). */
static long bring_up(struct nvme_ctrl *c)
{
	long err = disable(c);

	/* Every slot is given up whatever happens: nothing waits for them now. */
	nvme_queue_reset(&c->admin);
	for (int k = 0; k < c->nio_wanted; k++)
		nvme_queue_reset(&c->io[k]);
	if (err) {
		/* It may still be writing into the pages of commands in flight. */
		c->stuck = true;
		nvme_log("controller does not stop (CSTS %#x): %s", nvme_read32(NVME_REG_CSTS),
			 err_str(err));
		return err;
	}
	nvme_quiet();	/* stopped: nothing of before lands any more */
	for (int s = 0; s < c->admin.nslots; s++)
		nvme_queue_release(&c->admin, s);
	err = enable(c);
	if (err) {
		nvme_log("controller does not become ready (CSTS %#x): %s",
			 nvme_read32(NVME_REG_CSTS), err_str(err));
		return err;
	}
	if (!c->msix)
		nvme_write32(NVME_REG_INTMS, 1);
	err = create_io_queues(c);
	if (err)
		return err;
	if (c->irq_on && !c->msix)
		nvme_write32(NVME_REG_INTMC, 1);
	return 0;
}

long nvme_ctrl_reset(struct nvme_ctrl *c, const char *why)
{
	uint64_t t0 = nvme_now_ns();
	long err = bring_up(c);

	c->resets++;
	nvme_log("controller reset (%s): %s after %llu ms", why, err ? err_str(err) : "ready again",
		 (unsigned long long)((nvme_now_ns() - t0) / 1000000));
	return err;
}

void nvme_ctrl_irq(struct nvme_ctrl *c, bool on)
{
	c->irq_on = on;
	if (!c->msix)
		nvme_write32(on ? NVME_REG_INTMC : NVME_REG_INTMS, 1);
}

struct nvme_queue *nvme_ctrl_queue(struct nvme_ctrl *c)
{
	return &c->io[nvme_cpu() % (unsigned)c->nio];
}

/* --- identify --- */

/* An ASCII field of an identify page, trailing spaces dropped. */
static void copy_field(char *out, const uint8_t *in, size_t n)
{
	size_t len = n;

	while (len && (in[len - 1] == ' ' || in[len - 1] == '\0'))
		len--;
	for (size_t i = 0; i < len; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7F ? (char)in[i] : '?';
	out[len] = '\0';
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

long nvme_identify_ctrl_parse(struct nvme_ctrl *c, const uint8_t *page)
{
	uint8_t mdts = page[77], sqes = page[512], cqes = page[513];
	uint64_t max = BLOCK_MAX_SECTORS;

	copy_field(c->serial, page + 4, 20);
	copy_field(c->model, page + 24, 40);
	copy_field(c->firmware, page + 64, 8);
	c->nn = le32(page + 516);
	/* Entry sizes: minimum in bits 3:0, maximum in 7:4, as powers of two. */
	if ((sqes & 0xF) > 6 || (sqes >> 4) < 6 || (cqes & 0xF) > 4 || (cqes >> 4) < 4)
		return ERR_NOSYS;
	if (mdts && mdts < 20 && ((uint64_t)NVME_PAGE << mdts) / NVME_SECTOR < max)
		max = ((uint64_t)NVME_PAGE << mdts) / NVME_SECTOR;
	c->max_sectors = (uint32_t)max;
	return 0;
}

long nvme_identify_ns_parse(struct nvme_ns *ns, const uint8_t *page, const char **why)
{
	uint64_t nsze = le64(page);
	uint8_t nlbaf = page[25], flbas = page[26] & 0xF;
	uint32_t lbaf = le32(page + 128 + 4 * flbas);

	*why = NULL;
	if (!nsze)
		*why = "no blocks";
	else if (flbas > nlbaf)
		*why = "its LBA format is not in its own list";
	else if (((lbaf >> 16) & 0xFF) != 9)
		*why = "blocks are not 512 bytes";
	else if (lbaf & 0xFFFF)
		*why = "blocks carry metadata";
	if (*why)
		return ERR_NOSYS;
	ns->sectors = nsze;
	return 0;
}

static void find_namespaces(struct nvme_ctrl *c)
{
	uint32_t ids[NVME_NS_MAX];
	int n = 0;

	if (identify(c, NVME_CNS_NS_LIST, 0) == 0)
		for (int i = 0; i < 1024 && n < NVME_NS_MAX && le32(c->ident + 4 * i); i++)
			ids[n++] = le32(c->ident + 4 * i);
	for (int i = 0; i < n; i++) {
		struct nvme_ns *ns = &c->ns[c->nns];
		const char *why = NULL;

		memset(ns, 0, sizeof(*ns));
		ns->nsid = ids[i];
		if (identify(c, NVME_CNS_NS, ids[i]) ||
		    nvme_identify_ns_parse(ns, c->ident, &why)) {
			nvme_log("namespace %u: not served: %s", ids[i], why ? why : "identify failed");
			continue;
		}
		ns->index = c->nns++;
		ns->pt.scheme = "none";
		ns->pt.part[0] = (struct part){ .present = true, .sectors = ns->sectors };
	}
}

/* The admin pair and c->nio_wanted I/O pairs, each in its own pages. */
static void init_queues(struct nvme_ctrl *c)
{
	uint64_t sq_dev, cq_dev, prp_dev;
	void *sq, *cq, *prp;

	if (c->nio_wanted < 1 || c->nio_wanted > NVME_QUEUES_MAX)
		c->nio_wanted = 1;
	c->nio = c->nio_wanted;
	sq = mem_page(c, MEM_ASQ, &sq_dev);
	cq = mem_page(c, MEM_ACQ, &cq_dev);
	nvme_queue_init(&c->admin, 0, NVME_ADMIN_DEPTH, ADMIN_SLOTS, sq, sq_dev, cq, cq_dev,
			c->dstrd, NULL, 0);
	for (int k = 0; k < c->nio_wanted; k++) {
		int irq = c->io[k].irq;
		unsigned cpu = c->io[k].cpu;

		sq = mem_page(c, MEM_SQS + (unsigned)k, &sq_dev);
		cq = mem_page(c, MEM_CQS + (unsigned)k, &cq_dev);
		prp = mem_page(c, MEM_PRPS + (unsigned)k * MEM_PRP_PAGES, &prp_dev);
		nvme_queue_init(&c->io[k], (uint16_t)(k + 1), NVME_IO_DEPTH, NVME_SLOTS, sq, sq_dev,
				cq, cq_dev, c->dstrd, prp, prp_dev);
		c->io[k].irq = irq;	/* chosen before the start (main.c) */
		c->io[k].cpu = cpu;
	}
}

long nvme_ctrl_start(struct nvme_ctrl *c)
{
	long err;

	c->cap = nvme_read64(NVME_REG_CAP);
	c->vs = nvme_read32(NVME_REG_VS);
	c->dstrd = 4u << NVME_CAP_DSTRD(c->cap);
	c->ready_ns = (NVME_CAP_TO(c->cap) ? NVME_CAP_TO(c->cap) : 1) * 500000000ULL;
	if (c->cap == ~0ULL || !NVME_CAP_CSS_NVM(c->cap) || NVME_CAP_MPSMIN(c->cap) > 0 ||
	    NVME_CAP_MQES(c->cap) + 1u < NVME_IO_DEPTH) {
		nvme_log("controller CAP %#llx: cannot drive it (NVM command set, 4 KiB pages and"
			 " %d-entry queues wanted)", (unsigned long long)c->cap, NVME_IO_DEPTH);
		return ERR_NOSYS;
	}
	if (nvme_read32(NVME_REG_CC) & NVME_CC_EN)
		nvme_log("controller found enabled (by the firmware or a predecessor): stopping it first");
	init_queues(c);
	err = bring_up(c);
	if (!err)
		err = identify(c, NVME_CNS_CTRL, 0);
	if (!err && nvme_identify_ctrl_parse(c, c->ident)) {
		nvme_log("%s: queue entry sizes 64/16 not supported", c->model);
		err = ERR_NOSYS;
	}
	if (err)
		return err;
	find_namespaces(c);
	return 0;
}

/* --- I/O batches --- */

struct batch {
	struct nvme_ctrl *c;
	struct nvme_queue *q;	/* the queue of the CPU the request came in on */
	struct nvme_ns *ns;
	struct nvme_io *io;
	int *slot;		/* per command: its slot while in flight, else -1 */
	int n, inflight;
	bool failed;		/* a command failed for good: nothing more is started */
};

static const char *op_name(const struct nvme_io *io)
{
	return io->sqe.opcode == NVME_CMD_WRITE ? "write" :
	       io->sqe.opcode == NVME_CMD_READ ? "read" : "flush";
}

static uint64_t io_lba(const struct nvme_io *io)
{
	return io->sqe.cdw10 | (uint64_t)io->sqe.cdw11 << 32;
}

static uint32_t io_count(const struct nvme_io *io)
{
	return io->sqe.opcode == NVME_CMD_FLUSH ? 0 : (io->sqe.cdw12 & 0xFFFF) + 1;
}

static void submit(struct batch *b, int i)
{
	struct nvme_queue *q = b->q;
	struct nvme_io *io = &b->io[i];
	int s = nvme_queue_slot(q);
	struct nvme_slot *sl = &q->slot[s];

	sl->sqe = io->sqe;
	if (io->nlist) {
		memcpy(sl->prp_list, io->list, (size_t)io->nlist * sizeof(uint64_t));
		sl->sqe.prp2 = sl->prp_list_dev;
	}
	io->tries++;
	b->slot[i] = s;
	b->inflight++;
	b->ns->commands++;
	nvme_queue_submit(q, s, nvme_now_ns() + b->c->timeout_ns);
}

/* Is there time for another attempt and the reset a timeout would cost? */
static bool time_left(struct batch *b)
{
	struct nvme_ctrl *c = b->c;

	if (c->budget_end && nvme_now_ns() + 2 * c->timeout_ns > c->budget_end) {
		nvme_log("disk%d: no time left in the request's budget for another try",
			 b->ns->index);
		return false;
	}
	return true;
}

/* Starts every command that is neither done nor in flight, while slots last. */
static void start_pending(struct batch *b)
{
	for (int i = 0; i < b->n && !b->failed && b->inflight < b->q->nslots; i++)
		if (!b->io[i].done && b->slot[i] < 0)
			submit(b, i);
}

static void give_up(struct batch *b, struct nvme_io *io)
{
	nvme_log("disk%d: %s of %u sectors at lba %llu failed: I/O error", b->ns->index,
		 op_name(io), io_count(io), (unsigned long long)io_lba(io));
	b->failed = true;
}

/* A completion (or an abort by a reset) of command i. */
static void finished(struct batch *b, int i)
{
	struct nvme_queue *q = b->q;
	struct nvme_io *io = &b->io[i];
	uint16_t st = q->slot[b->slot[i]].status;
	char why[96];

	nvme_queue_release(q, b->slot[i]);
	b->slot[i] = -1;
	b->inflight--;
	io->status = st;
	if (st == 0) {
		io->done = true;
		if (io->tries > 1)
			nvme_log("disk%d: %s at lba %llu succeeded on try %d", b->ns->index,
				 op_name(io), (unsigned long long)io_lba(io), io->tries);
		return;
	}
	if (st == NVME_ST_ABORTED)
		return;		/* the reset's doing: started again, unless failed */
	b->ns->errors++;
	nvme_log("disk%d: %s of %u sectors at lba %llu: %s, try %d of %d", b->ns->index,
		 op_name(io), io_count(io), (unsigned long long)io_lba(io),
		 nvme_status_str(st, why, sizeof(why)), io->tries, NVME_TRIES);
	if ((st & NVME_DNR) || io->tries >= NVME_TRIES || !time_left(b))
		give_up(b, io);
	else if (!b->failed)
		b->ns->retries++;
}

/* Deadlines passed: log each late command, reset the controller (which
 * aborts everything in flight), and charge the late ones a timeout. */
static void timed_out(struct batch *b, uint64_t now)
{
	struct nvme_queue *q = b->q;
	bool late[NVME_BATCH_MAX] = { false };
	long err;

	for (int i = 0; i < b->n; i++) {
		struct nvme_io *io = &b->io[i];

		if (b->slot[i] < 0 || q->slot[b->slot[i]].deadline > now)
			continue;
		late[i] = true;
		io->timeouts++;
		b->ns->timeouts++;
		b->ns->errors++;
		nvme_log("disk%d: %s of %u sectors at lba %llu: timeout after %llu ms, try %d of %d",
			 b->ns->index, op_name(io), io_count(io), (unsigned long long)io_lba(io),
			 (unsigned long long)(b->c->timeout_ns / 1000000), io->tries, NVME_TRIES);
	}
	err = nvme_ctrl_reset(b->c, "command timed out");
	for (int i = 0; i < b->n; i++) {
		if (b->slot[i] < 0)
			continue;
		finished(b, i);		/* aborted by the reset */
		if (err && !b->failed)
			give_up(b, &b->io[i]);
		else if (late[i] && !b->failed &&
		    (b->io[i].timeouts >= NVME_TIMEOUT_TRIES || b->io[i].tries >= NVME_TRIES ||
		     !time_left(b)))
			give_up(b, &b->io[i]);
	}
}

/*
 * Waits until a command in flight finishes or the first deadline passes.
 * By interrupt, the ring is looked at after each interrupt only, and the
 * interrupt acknowledged after the completion doorbell has lowered the
 * line: each interrupt is one message, none left over for the next batch.
 * => 0 or ERR_TIMEOUT (with the time).
 */
static long wait_some(struct batch *b, uint64_t *now)
{
	struct nvme_queue *q = b->q;

	for (int spins = 0;; spins++) {
		uint64_t first = ~0ULL;

		if (!b->c->irq_on)
			nvme_queue_reap(q);
		for (int i = 0; i < b->n; i++) {
			if (b->slot[i] < 0)
				continue;
			if (q->slot[b->slot[i]].done)
				return 0;
			if (q->slot[b->slot[i]].deadline < first)
				first = q->slot[b->slot[i]].deadline;
		}
		*now = nvme_now_ns();
		if (*now >= first)
			return nvme_queue_reap(q) ? 0 : ERR_TIMEOUT;	/* a last look */
		if (b->c->irq_on) {
			if (nvme_irq_wait(q->irq, first) == 0) {
				q->irqs++;
				if (nvme_queue_reap(q) == 0)
					q->spurious++;
				nvme_irq_done(q->irq);
			}
		} else if (spins >= POLL_SPINS) {
			nvme_sleep_ns(POLL_SLEEP_NS);
		}
	}
}

long nvme_io_batch(struct nvme_ctrl *c, struct nvme_ns *ns, struct nvme_io *io, int n)
{
	int slot[NVME_BATCH_MAX];
	struct batch b = { .c = c, .q = nvme_ctrl_queue(c), .ns = ns, .io = io, .slot = slot,
			   .n = n };
	uint64_t now;

	if (n < 1 || n > NVME_BATCH_MAX)
		return ERR_INVAL;
	if (c->log_queues && !b.q->submitted)
		nvme_log("I/O queue %u: its first command, submitted on CPU %u", b.q->qid,
			 nvme_cpu());
	for (int i = 0; i < n; i++) {
		slot[i] = -1;
		io[i].done = false;
		io[i].tries = io[i].timeouts = 0;
	}
	/* Until nothing is in flight: a failed request must not return while the
	 * controller may still write into its pages. */
	for (start_pending(&b); b.inflight; start_pending(&b)) {
		if (wait_some(&b, &now) == ERR_TIMEOUT) {
			timed_out(&b, now);
			continue;
		}
		for (int i = 0; i < n; i++)
			if (slot[i] >= 0 && b.q->slot[slot[i]].done)
				finished(&b, i);
	}
	for (int i = 0; i < n && !b.failed; i++)
		if (!io[i].done)
			b.failed = true;	/* never started: the controller did not come back */
	return b.failed ? ERR_IO : 0;
}

long nvme_flush(struct nvme_ctrl *c, struct nvme_ns *ns)
{
	struct nvme_io io = { .sqe = { .opcode = NVME_CMD_FLUSH, .nsid = ns->nsid } };

	return nvme_io_batch(c, ns, &io, 1);
}

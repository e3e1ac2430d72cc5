// SPDX-License-Identifier: MIT
/*
 * user/nvme's engine (queue.c, ctrl.c, prp.c, req.c) against a fake NVMe
 * controller: registers, admin and I/O rings in a fake device memory,
 * PRPs walked by QEMU's rules (PRP2 and list entries page aligned, else
 * "invalid PRP offset" with DNR), two namespaces, an INTx line with one
 * message per assertion, error injection (statuses with and without DNR,
 * transient or permanent), namespaces that hang until a controller reset
 * or answer late, and misbehaving completions: an unknown command id, a
 * wrong submission queue id, an entry with the old phase, the completion
 * of a command lost in a reset.
 */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/user/blkserve_runs.c"
/* part.c (for part_access_covers) and ctrl.c each have their own static le32/le64. */
#define le32 part_le32
#define le64 part_le64
#include "../../lib/user/part.c"
#undef le32
#undef le64
#include "../../user/nvme/ctrl.c"
#include "../../user/nvme/prp.c"
#include "../../user/nvme/queue.c"
#include "../../user/nvme/req.c"

#define MEM_BASE	0x80000000ULL	/* device address of mem[0] */
#define FAKE_PAGES	128
#define NS_SECTORS	4096
#define FAKE_MDTS	3		/* 32 KiB per command: 64 sectors */
#define MS		1000000ULL

struct fake_ns {
	uint64_t sectors;
	uint8_t store[NS_SECTORS * 512];
	uint64_t err_lba;
	int err_left;			/* 0: none, -1: for ever */
	uint16_t err_status;		/* what a hit answers (without the phase) */
	int hang;			/* commands never complete: -1 for ever, n: the next n */
	uint64_t delay_ns;		/* completions this late */
};

struct fake_sq {
	bool live;
	uint64_t dev;
	uint16_t size, head, tail, cqid;
};

struct fake_cq {
	bool live, ien;
	uint16_t iv;			/* its interrupt vector */
	uint64_t dev;
	uint16_t size, head, tail;
	uint8_t phase;
};

/* A completion the fake owes, at `due`. */
struct pending {
	bool used;
	uint64_t due;
	uint16_t sqid, cid, status;
	uint32_t result;
};

static struct fake {
	uint32_t cc, csts, aqa, intms;
	uint64_t asq, acq;
	bool never_ready, never_stops;
	struct fake_sq sq[4];
	struct fake_cq cq[4];
	struct fake_ns ns[2];
	struct pending pend[64];
	uint64_t now;
	bool msg;			/* an interrupt message waits (the kernel's port) */
	bool unmasked;			/* the line is unmasked (acknowledged) */
	/* Misbehaviour, once each: */
	bool inject_unknown_cid, inject_bad_sqid, inject_old_phase, inject_stale_after_reset;
	uint16_t last_io_cid;
	/* What happened: */
	int resets, enables, io_cmds, admin_cmds, prp_lists, prp_errors, flushes, quiets;
	int cq_created_ien;
	uint32_t queues_allowed;	/* Set Features' answer, 0-based (0: one pair) */
	int intm_writes;		/* INTMS and INTMC writes */
	int io_cmds_on[4];		/* I/O commands per submission queue */
	unsigned cpu;			/* what nvme_cpu() says */
} f;

static uint8_t mem[FAKE_PAGES * 4096] __attribute__((aligned(4096)));
static char logbuf[32768];

void nvme_log(const char *fmt, ...)
{
	size_t len = strlen(logbuf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(logbuf + len, sizeof(logbuf) - len, fmt, ap);
	va_end(ap);
	len = strlen(logbuf);
	if (len + 1 < sizeof(logbuf))
		strcat(logbuf, "\n");
}

void nvme_quiet(void)
{
	f.quiets++;
}

static void *dev_ptr(uint64_t dev, size_t len)
{
	if (dev < MEM_BASE || dev + len > MEM_BASE + sizeof(mem))
		return NULL;
	return mem + (dev - MEM_BASE);
}

static uint64_t dev_of(const void *p)
{
	return MEM_BASE + (uint64_t)((const uint8_t *)p - mem);
}

static uint8_t synth(uint32_t nsid, uint64_t lba, size_t i)
{
	return (uint8_t)(lba * 7 + i * 13 + nsid * 101);
}

static bool line_asserted(void)
{
	if (f.intms & 1)
		return false;
	for (int q = 0; q < 4; q++)
		if (f.cq[q].live && f.cq[q].ien && f.cq[q].head != f.cq[q].tail)
			return true;
	return false;
}

/* The kernel's view: a message when the line is asserted and unmasked;
 * then masked until the driver acknowledges. */
static void irq_check(void)
{
	if (f.unmasked && line_asserted()) {
		f.msg = true;
		f.unmasked = false;
	}
}

static void post(uint16_t sqid, uint16_t cid, uint16_t status, uint32_t result)
{
	struct fake_cq *cq = &f.cq[f.sq[sqid].live ? f.sq[sqid].cqid : 0];
	struct nvme_cqe *e;

	if (!cq->live)
		return;
	e = dev_ptr(cq->dev + (uint64_t)cq->tail * 16, 16);
	*e = (struct nvme_cqe){ .result = result, .sq_head = f.sq[sqid].head, .sq_id = sqid,
				.cid = cid, .status = (uint16_t)(status << 1 | cq->phase) };
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
	irq_check();
}

static void owe(uint16_t sqid, uint16_t cid, uint16_t status, uint32_t result, uint64_t delay)
{
	if (!delay) {
		post(sqid, cid, status, result);
		return;
	}
	for (int i = 0; i < 64; i++) {
		if (!f.pend[i].used) {
			f.pend[i] = (struct pending){ true, f.now + delay, sqid, cid, status, result };
			return;
		}
	}
	abort();
}

static void run_due(void)
{
	for (int i = 0; i < 64; i++) {
		if (f.pend[i].used && f.pend[i].due <= f.now) {
			f.pend[i].used = false;
			post(f.pend[i].sqid, f.pend[i].cid, f.pend[i].status, f.pend[i].result);
		}
	}
}

static uint64_t next_due(void)
{
	uint64_t t = ~0ULL;

	for (int i = 0; i < 64; i++)
		if (f.pend[i].used && f.pend[i].due < t)
			t = f.pend[i].due;
	return t;
}

/* --- admin commands --- */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint16_t admin_identify(const struct nvme_sqe *c)
{
	uint8_t *page = dev_ptr(c->prp1, 4096);

	if (!page)
		return 0x004;
	memset(page, 0, 4096);
	switch (c->cdw10 & 0xFF) {
	case NVME_CNS_CTRL:
		memcpy(page + 4, "FAKE0001            ", 20);
		memcpy(page + 24, "Fake NVMe Controller                    ", 40);
		memcpy(page + 64, "1.0     ", 8);
		page[77] = FAKE_MDTS;
		page[512] = 0x66;
		page[513] = 0x44;
		put32(page + 516, 2);
		return 0;
	case NVME_CNS_NS_LIST:
		put32(page, 1);
		put32(page + 4, 2);
		return 0;
	case NVME_CNS_NS:
		if (c->nsid < 1 || c->nsid > 2)
			return 0x00B | NVME_DNR;
		memcpy(page, &f.ns[c->nsid - 1].sectors, 8);
		page[25] = 0;			/* one LBA format */
		put32(page + 128, 9u << 16);	/* 512-byte blocks, no metadata */
		return 0;
	}
	return 0x002 | NVME_DNR;
}

static uint16_t fake_admin(const struct nvme_sqe *c)
{
	uint16_t qid = (uint16_t)c->cdw10, size = (uint16_t)((c->cdw10 >> 16) + 1);

	f.admin_cmds++;
	switch (c->opcode) {
	case NVME_ADMIN_IDENTIFY:
		return admin_identify(c);
	case NVME_ADMIN_SET_FEATURES:
		return 0;
	case NVME_ADMIN_CREATE_CQ:
		if (qid == 0 || qid > 3 || f.cq[qid].live || (c->prp1 & 4095) || !(c->cdw11 & 1))
			return 0x101 | NVME_DNR;
		f.cq[qid] = (struct fake_cq){ .live = true, .ien = c->cdw11 & 2, .dev = c->prp1,
					      .size = size, .phase = 1,
					      .iv = (uint16_t)(c->cdw11 >> 16) };
		f.cq_created_ien = c->cdw11 & 2;
		return 0;
	case NVME_ADMIN_CREATE_SQ:
		if (qid == 0 || qid > 3 || f.sq[qid].live || !f.cq[c->cdw11 >> 16].live)
			return 0x100 | NVME_DNR;
		f.sq[qid] = (struct fake_sq){ .live = true, .dev = c->prp1, .size = size,
					      .cqid = (uint16_t)(c->cdw11 >> 16) };
		return 0;
	}
	return 0x001 | NVME_DNR;
}

/* --- I/O commands --- */

/* The pages of a transfer, by QEMU's rules for 4 KiB pages.  => 0 or a status. */
static uint16_t walk_prps(const struct nvme_sqe *c, uint32_t len, uint64_t *addr, uint32_t *plen,
			  int *n)
{
	uint32_t first = 4096 - (uint32_t)(c->prp1 & 4095);
	uint32_t left;

	if (c->prp1 & 3)
		return 0x013 | NVME_DNR;
	*n = 0;
	addr[*n] = c->prp1;
	plen[(*n)++] = first < len ? first : len;
	left = len - plen[0];
	if (!left)
		return 0;
	if (left <= 4096) {
		if (c->prp2 & 4095)
			return 0x013 | NVME_DNR;
		addr[*n] = c->prp2;
		plen[(*n)++] = left;
		return 0;
	}
	f.prp_lists++;
	for (int i = 0; left; i++) {
		uint64_t at = c->prp2 + 8 * (uint64_t)i, *e = dev_ptr(at, 8);

		if (!e || (i && !(at & 4095)))
			return 0x004;	/* unmapped, or a chained list: never made here */
		if (*e & 4095)
			return 0x013 | NVME_DNR;
		addr[*n] = *e;
		plen[(*n)++] = left < 4096 ? left : 4096;
		left -= plen[*n - 1];
	}
	return 0;
}

static uint16_t io_rw(const struct nvme_sqe *c, struct fake_ns *ns)
{
	uint64_t lba = c->cdw10 | (uint64_t)c->cdw11 << 32, addr[40];
	uint32_t nlb = (c->cdw12 & 0xFFFF) + 1, plen[40], len = nlb * 512, done = 0;
	bool write = c->opcode == NVME_CMD_WRITE;
	uint16_t st;
	int n;

	if (lba + nlb > ns->sectors)
		return 0x080 | NVME_DNR;
	if (len > (4096u << FAKE_MDTS))
		return 0x002 | NVME_DNR;
	st = walk_prps(c, len, addr, plen, &n);
	if (st) {
		f.prp_errors++;
		return st;
	}
	if (ns->err_left && ns->err_lba >= lba && ns->err_lba < lba + nlb) {
		if (ns->err_left > 0)
			ns->err_left--;
		return ns->err_status;
	}
	for (int i = 0; i < n; i++) {
		uint8_t *p = dev_ptr(addr[i], plen[i]);

		if (!p)
			return 0x004;
		for (uint32_t k = 0; k < plen[i]; k++, done++) {
			uint64_t at = lba * 512 + done;

			if (write && at < sizeof(ns->store))
				ns->store[at] = p[k];
			else if (!write)
				p[k] = at < sizeof(ns->store) ? ns->store[at]
							       : synth(c->nsid, at / 512, at % 512);
		}
	}
	return 0;
}

static void io(uint16_t sqid, const struct nvme_sqe *c)
{
	f.io_cmds_on[sqid]++;
	struct fake_ns *ns = c->nsid >= 1 && c->nsid <= 2 ? &f.ns[c->nsid - 1] : NULL;
	uint16_t st;

	f.io_cmds++;
	f.last_io_cid = c->cid;
	if (f.io_cmds > 10000) {
		fprintf(stderr, "  the driver keeps submitting: retries without end\n");
		abort();
	}
	if (!ns) {
		post(sqid, c->cid, 0x00B | NVME_DNR, 0);
		return;
	}
	if (ns->hang) {
		if (ns->hang > 0)
			ns->hang--;
		return;		/* lost until a reset */
	}
	if (c->opcode == NVME_CMD_FLUSH) {
		f.flushes++;
		st = 0;
	} else if (c->opcode == NVME_CMD_READ || c->opcode == NVME_CMD_WRITE) {
		st = io_rw(c, ns);
	} else {
		st = 0x001 | NVME_DNR;
	}
	if (f.inject_unknown_cid) {
		f.inject_unknown_cid = false;
		post(sqid, (uint16_t)(c->cid ^ 0x2A), 0, 0);
	}
	if (f.inject_bad_sqid) {
		f.inject_bad_sqid = false;
		post(sqid, c->cid, 0, 0);
		((struct nvme_cqe *)dev_ptr(f.cq[1].dev + (uint64_t)((f.cq[1].tail + f.cq[1].size - 1) %
			f.cq[1].size) * 16, 16))->sq_id = 3;
	}
	if (f.inject_old_phase) {
		/* An entry naming this very command, success, but with the old phase:
		 * the driver must not take it, and the interrupt finds nothing new. */
		struct fake_cq *cq = &f.cq[1];
		struct nvme_cqe *e = dev_ptr(cq->dev + (uint64_t)cq->tail * 16, 16);

		f.inject_old_phase = false;
		*e = (struct nvme_cqe){ .sq_id = sqid, .cid = c->cid, .status = (uint16_t)(cq->phase ^ 1) };
		if (f.unmasked) {
			f.msg = true;
			f.unmasked = false;
		}
		owe(sqid, c->cid, st, 0, 5 * MS);
		return;
	}
	owe(sqid, c->cid, st, 0, st ? 0 : ns->delay_ns);	/* errors come at once */
}

static void sq_doorbell(uint16_t qid, uint32_t tail)
{
	struct fake_sq *sq = &f.sq[qid];

	if (!sq->live || tail >= sq->size)
		return;
	sq->tail = (uint16_t)tail;
	while (sq->head != sq->tail) {
		struct nvme_sqe c;

		memcpy(&c, dev_ptr(sq->dev + (uint64_t)sq->head * 64, 64), 64);
		sq->head = (uint16_t)((sq->head + 1) % sq->size);
		if (qid == 0)
			post(0, c.cid, fake_admin(&c),
			     c.opcode == NVME_ADMIN_SET_FEATURES ? f.queues_allowed << 16 |
								   f.queues_allowed : 0);
		else
			io(qid, &c);
	}
}

/* --- the controller's registers --- */

static void controller_reset(void)
{
	memset(f.sq, 0, sizeof(f.sq));
	memset(f.cq, 0, sizeof(f.cq));
	memset(f.pend, 0, sizeof(f.pend));
	f.intms = 0;
	f.resets++;
}

static void write_cc(uint32_t v)
{
	bool was = f.cc & NVME_CC_EN;

	f.cc = v;
	if (was && !(v & NVME_CC_EN)) {
		controller_reset();
		if (!f.never_stops)
			f.csts &= ~NVME_CSTS_RDY;
	} else if (!was && (v & NVME_CC_EN)) {
		f.enables++;
		if ((f.asq & 4095) || (f.acq & 4095) || ((v >> 16) & 0xF) != 6 ||
		    ((v >> 20) & 0xF) != 4) {
			f.csts = NVME_CSTS_CFS;
			return;
		}
		f.sq[0] = (struct fake_sq){ .live = true, .dev = f.asq,
					    .size = (uint16_t)((f.aqa & 0xFFF) + 1) };
		f.cq[0] = (struct fake_cq){ .live = true, .ien = true, .dev = f.acq,
					    .size = (uint16_t)(((f.aqa >> 16) & 0xFFF) + 1),
					    .phase = 1 };
		if (!f.never_ready)
			f.csts |= NVME_CSTS_RDY;
		if (f.inject_stale_after_reset && f.resets) {
			/* The completion of a command the reset lost, late. */
			f.inject_stale_after_reset = false;
			owe(1, f.last_io_cid, 0, 0, 1 * MS);
		}
	}
}

uint32_t nvme_read32(uint32_t reg)
{
	switch (reg) {
	case NVME_REG_CAP:
		return 0x07FF | (1u << 16) | (4u << 24);	/* MQES 2047, CQR, TO 2 s */
	case NVME_REG_CAP + 4:
		return (1u << 5) | (4u << 20);	/* CSS NVM; MPSMAX 4: MPSMIN 0 */
	case NVME_REG_VS:
		return 0x00010400;
	case NVME_REG_CC:
		return f.cc;
	case NVME_REG_CSTS:
		return f.csts;
	case NVME_REG_INTMS:
	case NVME_REG_INTMC:
		return f.intms;
	}
	return 0;
}

uint64_t nvme_read64(uint32_t reg)
{
	return nvme_read32(reg) | (uint64_t)nvme_read32(reg + 4) << 32;
}

void nvme_write32(uint32_t reg, uint32_t v)
{
	if (reg >= NVME_REG_DB) {
		uint32_t n = (reg - NVME_REG_DB) / 4;

		if (n & 1) {
			struct fake_cq *cq = &f.cq[n / 2];

			if (cq->live && v < cq->size)
				cq->head = (uint16_t)v;
		} else {
			sq_doorbell((uint16_t)(n / 2), v);
		}
		return;
	}
	switch (reg) {
	case NVME_REG_CC:
		write_cc(v);
		break;
	case NVME_REG_AQA:
		f.aqa = v;
		break;
	case NVME_REG_ASQ:
		f.asq = (f.asq & ~0xFFFFFFFFULL) | v;
		break;
	case NVME_REG_ASQ + 4:
		f.asq = (f.asq & 0xFFFFFFFFULL) | (uint64_t)v << 32;
		break;
	case NVME_REG_ACQ:
		f.acq = (f.acq & ~0xFFFFFFFFULL) | v;
		break;
	case NVME_REG_ACQ + 4:
		f.acq = (f.acq & 0xFFFFFFFFULL) | (uint64_t)v << 32;
		break;
	case NVME_REG_INTMS:
		f.intm_writes++;
		f.intms |= v;
		break;
	case NVME_REG_INTMC:
		f.intm_writes++;
		f.intms &= ~v;
		irq_check();
		break;
	}
}

void nvme_write64(uint32_t reg, uint64_t v)
{
	nvme_write32(reg, (uint32_t)v);
	nvme_write32(reg + 4, (uint32_t)(v >> 32));
}

uint64_t nvme_now_ns(void)
{
	return f.now;
}

void nvme_sleep_ns(uint64_t ns)
{
	f.now += ns;
	run_due();
}

unsigned nvme_cpu(void)
{
	return f.cpu;
}

long nvme_irq_wait(int irq, uint64_t deadline_ns)
{
	(void)irq;	/* one message flag: the fake has one interrupt */
	static long waits;

	if (++waits > 1000000) {
		fprintf(stderr, "  the driver keeps waiting: an interrupt never handled\n");
		abort();
	}
	while (!f.msg) {
		uint64_t t = next_due();

		if (t >= deadline_ns) {
			f.now = deadline_ns > f.now ? deadline_ns : f.now;
			return ERR_TIMEOUT;
		}
		f.now = t > f.now ? t : f.now;
		run_due();
	}
	f.msg = false;
	return 0;
}

void nvme_irq_done(int irq)
{
	(void)irq;
	f.unmasked = true;
	irq_check();
}

/* --- the driver's side --- */

static struct nvme_ctrl c;
static uint64_t bufdev[32];

/* A fresh fake and controller; the driver's DMA memory at the start of mem,
 * its data pages (scattered: every other page, backwards) after it. */
static void setup(bool irq)
{
	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	memset(mem, 0, sizeof(mem));
	logbuf[0] = '\0';
	f.unmasked = true;
	for (int n = 0; n < 2; n++) {
		f.ns[n].sectors = n ? 2048 : NS_SECTORS;
		for (size_t i = 0; i < sizeof(f.ns[n].store); i++)
			f.ns[n].store[i] = synth((uint32_t)n + 1, i / 512, i % 512);
	}
	c.timeout_ns = 100 * MS;
	nvme_ctrl_mem(&c, mem, MEM_BASE);
	for (int i = 0; i < 32; i++)
		bufdev[i] = MEM_BASE + (uint64_t)(FAKE_PAGES - 1 - 2 * i) * 4096;
	HCHECK_EQ(nvme_ctrl_start(&c), 0);
	nvme_ctrl_irq(&c, irq);
}

static uint8_t *page(int i)
{
	return dev_ptr(bufdev[i], 4096);
}

static long rw(bool write, int nsidx, uint64_t lba, uint32_t count, uint32_t offset)
{
	struct block_run run = { .br_sector = lba, .br_count = count, .br_offset = offset };
	struct nvme_area a = { 32, bufdev };
	struct nvme_req rq = { .write = write };
	long err = blkserve_runs_check(&rq.runs, &c.ns[nsidx].pt.part[0], &run, 1, 32 * 4096);

	return err ? err : nvme_req_exec(&c, &c.ns[nsidx], &rq, &a);
}

/* Does the area hold namespace ns's sectors [lba, lba + count) at offset? */
static bool area_holds(int nsidx, uint64_t lba, uint32_t count, uint32_t offset)
{
	for (uint32_t k = 0; k < count * 512; k++) {
		uint32_t at = offset + k;
		uint64_t d = lba * 512 + k;

		if (page((int)(at / 4096))[at % 4096] != f.ns[nsidx].store[d])
			return false;
	}
	return true;
}

/* --- the cases --- */

HTEST(start_identifies_and_makes_queues)
{
	setup(false);
	HCHECK(strcmp(c.model, "Fake NVMe Controller") == 0);
	HCHECK(strcmp(c.serial, "FAKE0001") == 0);
	HCHECK(strcmp(c.firmware, "1.0") == 0);
	HCHECK_EQ(c.vs, 0x00010400);
	HCHECK_EQ(c.max_sectors, 64);
	HCHECK_EQ(c.nns, 2);
	HCHECK_EQ(c.ns[0].nsid, 1);
	HCHECK_EQ(c.ns[0].sectors, NS_SECTORS);
	HCHECK_EQ(c.ns[1].sectors, 2048);
	HCHECK(f.sq[1].live && f.cq[1].live && f.sq[1].size == NVME_IO_DEPTH);
	HCHECK(f.cq_created_ien);
	HCHECK_EQ(f.intms & 1, 1);	/* polled: masked */
	HCHECK_EQ(f.asq, MEM_BASE + MEM_ASQ * 4096);
	HCHECK(f.csts & NVME_CSTS_RDY);
}

HTEST(start_stops_an_enabled_controller_first)
{
	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	f.ns[0].sectors = f.ns[1].sectors = 8;
	f.cc = NVME_CC_EN;		/* left running by a predecessor */
	f.csts = NVME_CSTS_RDY;
	logbuf[0] = '\0';
	c.timeout_ns = 100 * MS;
	nvme_ctrl_mem(&c, mem, MEM_BASE);
	HCHECK_EQ(nvme_ctrl_start(&c), 0);
	HCHECK_EQ(f.resets, 1);
	HCHECK(strstr(logbuf, "found enabled") != NULL);
}

/* A fresh controller started with `queues` I/O pairs wanted, by MSI-X or INTx. */
static void setup_queues(int queues, bool msix, uint32_t allowed)
{
	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	f.ns[0].sectors = f.ns[1].sectors = NS_SECTORS;
	f.unmasked = true;
	f.queues_allowed = allowed;
	logbuf[0] = '\0';
	c.timeout_ns = 100 * MS;
	c.nio_wanted = queues;
	c.msix = msix;
	c.log_queues = true;
	nvme_ctrl_mem(&c, mem, MEM_BASE);
	for (int i = 0; i < 32; i++)
		bufdev[i] = MEM_BASE + (uint64_t)(FAKE_PAGES - 1 - 2 * i) * 4096;
	HCHECK_EQ(nvme_ctrl_start(&c), 0);
	nvme_ctrl_irq(&c, true);
}

HTEST(msix_queue_per_cpu_each_its_vector)
{
	setup_queues(3, true, 3);
	HCHECK_EQ(c.nio, 3);
	for (int q = 1; q <= 3; q++) {
		HCHECK(f.sq[q].live && f.cq[q].live && f.sq[q].cqid == q);
		HCHECK_EQ(f.cq[q].iv, q);	/* vector q: the MSI-X entry aimed at CPU q - 1 */
	}
	/* INTMS/INTMC are INTx's: never touched with MSI-X. */
	HCHECK_EQ(f.intm_writes, 0);
}

HTEST(intx_queue_uses_vector_0_and_masks)
{
	setup_queues(1, false, 0);
	HCHECK_EQ(c.nio, 1);
	HCHECK_EQ(f.cq[1].iv, 0);
	HCHECK(f.intm_writes >= 2);	/* masked while admin commands run, then unmasked */
	HCHECK_EQ(f.intms & 1, 0);
}

HTEST(queue_count_as_the_controller_allows)
{
	setup_queues(3, true, 1);	/* it allocates two pairs */
	HCHECK_EQ(c.nio, 2);
	HCHECK(f.sq[2].live && !f.sq[3].live && !f.cq[3].live);
	HCHECK(strstr(logbuf, "controller allocates 2 I/O queue pairs, 3 wanted: 2 used") != NULL);
}

HTEST(request_goes_to_the_queue_of_its_cpu)
{
	setup_queues(2, true, 7);
	for (unsigned cpu = 0; cpu < 4; cpu++) {
		f.cpu = cpu;
		HCHECK_EQ(rw(false, 0, 8 * cpu, 8, 0), 0);
		HCHECK_EQ(f.io_cmds_on[1 + cpu % 2], (int)(cpu / 2 + 1));
	}
	HCHECK_EQ(c.io[0].completed, 2);
	HCHECK_EQ(c.io[1].completed, 2);
	HCHECK(c.io[0].irqs >= 2 && c.io[1].irqs >= 2);
	/* A reset makes every pair again, with its vector. */
	HCHECK_EQ(nvme_ctrl_reset(&c, "test"), 0);
	HCHECK(f.sq[1].live && f.sq[2].live && f.cq[2].iv == 2);
	f.cpu = 1;
	HCHECK_EQ(rw(false, 0, 0, 8, 0), 0);
	HCHECK_EQ(f.io_cmds_on[2], 3);
}

HTEST(prp_rules)
{
	uint64_t dev[4] = { 0x10000, 0x7000, 0x3000, 0x20000 }, p1, p2, list[8];
	struct nvme_area a = { 4, dev };

	HCHECK_EQ(nvme_prp_build(&a, 512, 1024, &p1, &p2, list, 8), 0);	/* one page */
	HCHECK_EQ(p1, 0x10200);
	HCHECK_EQ(p2, 0);
	HCHECK_EQ(nvme_prp_build(&a, 3584, 1024, &p1, &p2, list, 8), 0);	/* two pages */
	HCHECK_EQ(p1, 0x10E00);
	HCHECK_EQ(p2, 0x7000);
	HCHECK_EQ(nvme_prp_build(&a, 0, 8192, &p1, &p2, list, 8), 0);	/* exactly two */
	HCHECK_EQ(p2, 0x7000);
	HCHECK_EQ(nvme_prp_build(&a, 4096, 12288, &p1, &p2, list, 8), 2);	/* a list */
	HCHECK_EQ(p1, 0x7000);
	HCHECK_EQ(list[0], 0x3000);
	HCHECK_EQ(list[1], 0x20000);
	HCHECK_EQ(nvme_prp_build(&a, 512, 16384 - 512, &p1, &p2, list, 8), 3);
	HCHECK_EQ(nvme_prp_build(&a, 512, 16384 - 512, &p1, &p2, list, 2), ERR_NOMEM);
	HCHECK_EQ(nvme_prp_build(&a, 0, 16385, &p1, &p2, list, 8), ERR_RANGE);
	HCHECK_EQ(nvme_prp_build(&a, 16384, 512, &p1, &p2, list, 8), ERR_RANGE);
	HCHECK_EQ(nvme_prp_build(&a, 0, 0, &p1, &p2, list, 8), ERR_RANGE);
	dev[1] = 0x7200;	/* a page that is not one */
	HCHECK_EQ(nvme_prp_build(&a, 0, 8192, &p1, &p2, list, 8), ERR_RANGE);
}

HTEST(write_then_read_scattered_pages)
{
	setup(false);
	for (int i = 0; i < 32; i++)
		for (int k = 0; k < 4096; k++)
			page(i)[k] = (uint8_t)(i * 3 + k * 7 + 1);
	/* 256 sectors from offset 0: 32 scattered pages, cut at 64 sectors. */
	HCHECK_EQ(rw(true, 0, 100, 256, 0), 0);
	HCHECK_EQ(f.io_cmds, 4);
	HCHECK_EQ(f.prp_lists, 4);
	HCHECK_EQ(f.prp_errors, 0);
	HCHECK(area_holds(0, 100, 256, 0));
	memset(page(0), 0, 4096);
	memset(page(5), 0, 4096);
	HCHECK_EQ(rw(false, 0, 100, 256, 0), 0);
	HCHECK(area_holds(0, 100, 256, 0));
	/* An offset in the first page: PRP1 carries it. */
	HCHECK_EQ(rw(false, 0, 7, 9, 3584), 0);
	HCHECK(area_holds(0, 7, 9, 3584));
	HCHECK_EQ(c.io[0].completed, c.io[0].submitted);
	HCHECK_EQ(c.io[0].bad_cid + c.io[0].bad_sqid + c.io[0].spurious, 0);
}

HTEST(runs_checked_before_anything_moves)
{
	struct block_run runs[2] = { { 0, 8, 0 }, { 4095, 2, 4096 } };
	struct nvme_req rq;

	setup(false);
	HCHECK_EQ(blkserve_runs_check(&rq.runs, &c.ns[0].pt.part[0], runs, 2, 32 * 4096), ERR_RANGE);
	runs[1].br_sector = 4088;
	runs[1].br_offset = 100;
	HCHECK_EQ(blkserve_runs_check(&rq.runs, &c.ns[0].pt.part[0], runs, 2, 32 * 4096), ERR_INVAL);
	runs[1].br_offset = 32 * 4096 - 512;
	HCHECK_EQ(blkserve_runs_check(&rq.runs, &c.ns[0].pt.part[0], runs, 2, 32 * 4096), ERR_RANGE);
	runs[1].br_offset = 4096;
	HCHECK_EQ(blkserve_runs_check(&rq.runs, &c.ns[0].pt.part[0], runs, 2, 32 * 4096), 0);
	HCHECK_EQ(rq.runs.sectors, 10);
	HCHECK_EQ(rq.runs.end, 4096 + 1024);
	HCHECK_EQ(f.io_cmds, 0);
}

/* A pager's cluster arrives as one run per page: one command, one list. */
HTEST(adjacent_runs_are_one_command)
{
	struct block_run runs[4];
	struct nvme_area a = { 32, bufdev };
	struct nvme_req rq = { .write = false };

	setup(false);
	for (int i = 0; i < 4; i++)
		runs[i] = (struct block_run){ 200 + 8 * (uint64_t)i, 8, (uint32_t)i * 4096 };
	runs[3].br_offset += 4096;	/* not where the third ends: a command of its own */
	HCHECK_EQ(blkserve_runs_check(&rq.runs, &c.ns[0].pt.part[0], runs, 4, 32 * 4096), 0);
	HCHECK_EQ(nvme_req_exec(&c, &c.ns[0], &rq, &a), 0);
	HCHECK_EQ(f.io_cmds, 2);
	HCHECK_EQ(f.prp_lists, 1);
	HCHECK(area_holds(0, 200, 24, 0));
	HCHECK(area_holds(0, 224, 8, 4 * 4096));
}

HTEST(completion_by_interrupt)
{
	setup(true);
	HCHECK_EQ(f.intms & 1, 0);
	f.ns[0].delay_ns = 2 * MS;
	HCHECK_EQ(rw(false, 0, 0, 64, 0), 0);
	HCHECK(area_holds(0, 0, 64, 0));
	HCHECK_EQ(c.io[0].spurious, 0);
	HCHECK(f.unmasked);	/* acknowledged after the doorbell */
	HCHECK_EQ(f.cq[1].head, f.cq[1].tail);
}

HTEST(transient_error_retried)
{
	setup(false);
	f.ns[0].err_lba = 50;
	f.ns[0].err_left = 1;
	f.ns[0].err_status = 0x281;	/* unrecovered read error, DNR clear: QEMU's EIO */
	HCHECK_EQ(rw(false, 0, 48, 8, 0), 0);
	HCHECK(area_holds(0, 48, 8, 0));
	HCHECK_EQ(c.ns[0].retries, 1);
	HCHECK(strstr(logbuf, "disk0: read of 8 sectors at lba 48: media error: unrecovered read "
			      "error (sct 2 sc 0x81), try 1 of 3") != NULL);
	HCHECK(strstr(logbuf, "disk0: read at lba 48 succeeded on try 2") != NULL);
}

HTEST(permanent_error_fails_after_tries)
{
	setup(false);
	f.ns[0].err_lba = 60;
	f.ns[0].err_left = -1;
	f.ns[0].err_status = 0x280;	/* write fault */
	HCHECK_EQ(rw(true, 0, 56, 8, 0), ERR_IO);
	HCHECK_EQ(f.io_cmds, NVME_TRIES);
	HCHECK(strstr(logbuf, "write fault (sct 2 sc 0x80), try 3 of 3") != NULL);
	HCHECK(strstr(logbuf, "disk0: write of 8 sectors at lba 56 failed: I/O error") != NULL);
	/* The controller goes on. */
	HCHECK_EQ(rw(false, 0, 0, 8, 0), 0);
}

HTEST(dnr_is_not_retried)
{
	setup(false);
	f.ns[0].err_lba = 60;
	f.ns[0].err_left = -1;
	f.ns[0].err_status = 0x286 | NVME_DNR;
	HCHECK_EQ(rw(false, 0, 60, 1, 0), ERR_IO);
	HCHECK_EQ(f.io_cmds, 1);
	HCHECK(strstr(logbuf, "access denied (sct 2 sc 0x86) DNR, try 1 of 3") != NULL);
}

HTEST(hang_times_out_resets_and_goes_on)
{
	setup(true);
	f.ns[1].hang = -1;
	HCHECK_EQ(rw(false, 1, 0, 8, 0), ERR_IO);
	HCHECK_EQ(f.resets, NVME_TIMEOUT_TRIES);
	HCHECK_EQ(f.quiets, 1 + NVME_TIMEOUT_TRIES);	/* start-up and each reset */
	HCHECK_EQ(c.ns[1].timeouts, NVME_TIMEOUT_TRIES);
	HCHECK(strstr(logbuf, "disk1: read of 8 sectors at lba 0: timeout after 100 ms, try 1 of 3")
	       != NULL);
	HCHECK(strstr(logbuf, "controller reset (command timed out): ready again") != NULL);
	HCHECK(strstr(logbuf, "disk1: read of 8 sectors at lba 0 failed: I/O error") != NULL);
	/* After the reset: queues made again, the other namespace served, by interrupt. */
	HCHECK(f.sq[1].live && !(f.intms & 1));
	HCHECK_EQ(rw(false, 0, 8, 8, 0), 0);
	HCHECK(area_holds(0, 8, 8, 0));
}

HTEST(hang_once_then_reset_then_works)
{
	setup(false);
	f.ns[0].hang = 1;
	HCHECK_EQ(rw(false, 0, 16, 8, 0), 0);
	HCHECK(area_holds(0, 16, 8, 0));
	HCHECK_EQ(f.resets, 1);
	HCHECK(strstr(logbuf, "succeeded on try 2") != NULL);
}

HTEST(no_new_try_past_the_budget)
{
	setup(false);
	f.ns[0].hang = -1;
	c.budget_end = f.now + 150 * MS;	/* room for one attempt only */
	HCHECK_EQ(rw(false, 0, 0, 8, 0), ERR_IO);
	HCHECK_EQ(f.resets, 1);
	HCHECK(strstr(logbuf, "no time left in the request's budget") != NULL);
}

HTEST(unknown_command_id_ignored_and_counted)
{
	setup(true);
	f.inject_unknown_cid = true;
	HCHECK_EQ(rw(false, 0, 0, 8, 0), 0);
	HCHECK(area_holds(0, 0, 8, 0));
	HCHECK_EQ(c.io[0].bad_cid, 1);
	HCHECK(strstr(logbuf, "completion with unknown command id") != NULL);
	HCHECK(strstr(logbuf, "ignored (1 so far)") != NULL);
}

HTEST(wrong_submission_queue_ignored_and_counted)
{
	setup(false);
	f.ns[0].delay_ns = 0;
	f.inject_bad_sqid = true;
	HCHECK_EQ(rw(false, 0, 0, 8, 0), 0);
	HCHECK_EQ(c.io[0].bad_sqid, 1);
}

HTEST(old_phase_entry_is_not_a_completion)
{
	setup(true);
	memset(page(0), 0, 4096);
	f.inject_old_phase = true;	/* the real completion comes 5 ms later */
	HCHECK_EQ(rw(false, 0, 0, 8, 0), 0);
	HCHECK(f.now >= 5 * MS);	/* did not take the early one */
	HCHECK(area_holds(0, 0, 8, 0));
	HCHECK_EQ(c.io[0].spurious, 1);
	HCHECK_EQ(c.io[0].completed, 1);
}

HTEST(completion_lost_in_a_reset_is_stale)
{
	setup(true);
	f.ns[0].hang = 1;
	f.inject_stale_after_reset = true;	/* the first command's completion, after the reset */
	f.ns[0].delay_ns = 3 * MS;		/* and the retry's, later still */
	HCHECK_EQ(rw(false, 0, 24, 8, 0), 0);
	HCHECK(area_holds(0, 24, 8, 0));
	HCHECK_EQ(c.io[0].bad_cid, 1);
	HCHECK_EQ(f.resets, 1);
}

HTEST(failed_request_waits_for_its_other_commands)
{
	struct block_run runs[2] = { { 0, 8, 0 }, { 1000, 8, 4096 } };
	struct nvme_area a = { 32, bufdev };
	struct nvme_req rq = { .write = false };

	setup(false);
	f.ns[0].err_lba = 0;
	f.ns[0].err_left = -1;
	f.ns[0].err_status = 0x002 | NVME_DNR;
	f.ns[0].delay_ns = 40 * MS;	/* the other command is still running */
	HCHECK_EQ(blkserve_runs_check(&rq.runs, &c.ns[0].pt.part[0], runs, 2, 32 * 4096), 0);
	HCHECK_EQ(nvme_req_exec(&c, &c.ns[0], &rq, &a), ERR_IO);
	HCHECK(f.now >= 40 * MS);
	HCHECK_EQ(next_due(), ~0ULL);	/* nothing owed: nothing will write later */
}

HTEST(flush)
{
	setup(true);
	HCHECK_EQ(nvme_flush(&c, &c.ns[0]), 0);
	HCHECK_EQ(f.flushes, 1);
}

HTEST(controller_that_never_stops_is_stuck)
{
	setup(false);
	f.ns[0].hang = -1;
	f.never_stops = true;
	HCHECK_EQ(rw(false, 0, 0, 8, 0), ERR_IO);
	HCHECK(c.stuck);
	HCHECK_EQ(f.quiets, 1);	/* never said of a controller that did not stop */
	HCHECK(strstr(logbuf, "controller does not stop") != NULL);
}

HTEST(namespace_formats)
{
	uint8_t pg[4096] = { 0 };
	struct nvme_ns ns;
	const char *why;
	uint64_t n = 1000;

	memcpy(pg, &n, 8);
	put32(pg + 128, 9u << 16);
	HCHECK_EQ(nvme_identify_ns_parse(&ns, pg, &why), 0);
	HCHECK_EQ(ns.sectors, 1000);
	put32(pg + 128, 12u << 16);
	HCHECK_EQ(nvme_identify_ns_parse(&ns, pg, &why), ERR_NOSYS);
	HCHECK(strcmp(why, "blocks are not 512 bytes") == 0);
	put32(pg + 128, 9u << 16 | 8);
	HCHECK_EQ(nvme_identify_ns_parse(&ns, pg, &why), ERR_NOSYS);
	HCHECK(strcmp(why, "blocks carry metadata") == 0);
	pg[26] = 3;	/* a format index past the list */
	HCHECK_EQ(nvme_identify_ns_parse(&ns, pg, &why), ERR_NOSYS);
	memset(pg, 0, 8);
	HCHECK_EQ(nvme_identify_ns_parse(&ns, pg, &why), ERR_NOSYS);
}

HTEST(status_words)
{
	char b[96];

	HCHECK(strcmp(nvme_status_str(0x281, b, sizeof(b)),
		      "media error: unrecovered read error (sct 2 sc 0x81)") == 0);
	HCHECK(strcmp(nvme_status_str(0x013 | NVME_DNR, b, sizeof(b)),
		      "generic: invalid PRP offset (sct 0 sc 0x13) DNR") == 0);
	HCHECK(strcmp(nvme_status_str(0x1F0, b, sizeof(b)),
		      "command specific: unknown status (sct 1 sc 0xf0)") == 0);
	HCHECK(strcmp(nvme_status_str(NVME_ST_ABORTED, b, sizeof(b)), "given up by the driver") == 0);
}

HTEST(controller_that_fails_to_start)
{
	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	f.never_ready = true;
	logbuf[0] = '\0';
	c.timeout_ns = 100 * MS;
	nvme_ctrl_mem(&c, mem, MEM_BASE);
	HCHECK_EQ(nvme_ctrl_start(&c), ERR_TIMEOUT);
	HCHECK(strstr(logbuf, "does not become ready") != NULL);
	HCHECK_EQ(dev_of(mem), MEM_BASE);
}

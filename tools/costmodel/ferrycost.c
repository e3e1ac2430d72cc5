// SPDX-License-Identifier: MIT
/*
 * ferrycost: a QEMU TCG plugin (API version 1) that counts what a guest's
 * work costs beyond its instruction count, only inside regions the guest
 * marks itself (lib/include/ferry/costmark.h): bytes loaded and stored,
 * misses of a simulated L1D, L2 and DTLB, CR3 writes, invlpg, port I/O
 * (register accesses by in/out apart from data transfers by ins/outs),
 * MMIO (and apart, the IOMMU's register accesses and the IOTLB
 * invalidations the kernel announces), IPIs, hlt, interrupt returns.  Per
 * region tag and per vCPU: while a region is open on one vCPU, work on
 * every vCPU is counted into it.
 *
 *   qemu-system-x86_64 ... -plugin build/costmodel/ferrycost.so,out=FILE
 *       [,attr=FILE2][,lazy=1][,l1_kib=32,l1_ways=8,l2_kib=2048,l2_ways=16,tlb=64,tlb_ways=4]
 *       [,iommu=0xfed90000][,idle=BEGIN:END]
 *
 * FILE gets one CSV line per tag and vCPU that saw a region; FILE2, the
 * attribution, one line per tag and *site*: a translated block's code,
 * named by its first address and first bytes (user programs share
 * addresses, so the bytes say which program's it is; tests/bench_cost.py
 * resolves sites to symbols).  Both are written when the guest executes
 * the dump marker and again when QEMU exits.
 *
 * Device DMA is invisible to API version 1, so the guest announces it: a
 * DMA marker followed at once by a load from the frame a device wrote
 * (cost_dma_written() in costmark.h).  The plugin takes neither as work;
 * it drops the frame's lines from every vCPU's simulated caches and
 * counts the page (dma_pages).
 *
 * The IOMMU: `iommu=ADDR` names the physical page of a remapping unit's
 * registers; MMIO accesses there are counted in mmio (they are uncached
 * accesses like any other) and again in mmio_iommu, so the report can
 * tell the IOMMU's from the device's.  Its invalidations cannot be told
 * from the register stores (which register is the command depends on the
 * unit, and a queue submission is a memory write), so the kernel announces
 * each one it waits for with a marker (cost_iotlb_invalidated()):
 * iotlb_inval.
 *
 * Idle work: a vCPU waiting for a device inside a region runs the kernel's
 * idle thread, which fills the zero pool (4 KiB of stores per frame, and
 * 64 misses): work no fault asked for, done whenever a CPU would halt,
 * which lands in a region or not with the device's timing.  `idle=B:E`
 * (the addresses of zeropool_clear and zeropool_refill_end) leaves it out:
 * from executing B until executing E a vCPU's work is not counted (its
 * caches and TLB still see it), only tallied as idle_insns.  An interrupt
 * the vCPU takes meanwhile is left out with it (the kernel does not
 * preempt itself, so the handler returns to the clearing).
 *
 * Instrumenting every instruction slows QEMU several times, so until the
 * guest first selects a region tag the plugin watches markers only (a
 * kernel's boot runs at near full speed); then it asks QEMU to flush its
 * translated code once (qemu_plugin_reset) and instruments everything from
 * there on, models starting empty.  Once only: QEMU 7.2's reset leaves its
 * plugin lock held by the vCPU thread that asked (plugins/loader.c locks
 * it twice in plugin_reset_destroy), which a second reset from another
 * thread would wait on for ever.  `lazy=0` instruments from the start.
 *
 * What API version 1 still cannot show (docs/BENCHMARKS.md, "Cost model"):
 * register values (invlpg's operand, wrmsr's MSR: invlpg drops no TLB
 * entry, x2APIC IPIs by wrmsr are not seen), page sizes (the DTLB holds
 * 4 KiB pages only), interrupts taken (iretq is counted instead).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

#include "assoc.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_VCPUS	16
#define NTAGS		64
#define LINE_SHIFT	6
#define PAGE_SHIFT	12
#define KERNEL_HALF	0xffff800000000000ULL
#define LAPIC_ICR_LOW	0xfee00300ULL

/* The marker: nopl DISP32(%rax), 0f 1f 80 + disp32, DISP32 = MAGIC|kind<<12|tag. */
#define MARK_MAGIC	0xfe770000U
#define MARK_BEGIN	1
#define MARK_END	2
#define MARK_DUMP	3
#define MARK_SELECT	4
#define MARK_DMA	5	/* the next instruction's load names a frame a device wrote */
#define MARK_IOTLB	6	/* the kernel issued an IOTLB invalidation and waited for it */
#define MARK_LEN	7

/* The counters, in the order of the output's columns. */
#define COUNTERS(X) X(regions) X(insns) X(insns_kernel) X(loads) X(stores) \
	X(bytes_loaded) X(bytes_stored) X(bytes_kernel) X(str_iters) X(str_bytes) \
	X(l1_misses) X(l2_misses) X(tlb_misses) X(cr3_writes) X(invlpg) X(pio) \
	X(pio_kernel) X(pio_string) X(mmio) X(ipis) X(wrmsr) X(hlt) X(iret) X(dma_pages) \
	X(mmio_iommu) X(iotlb_inval) X(idle_insns)

struct counters {
#define FIELD(n) uint64_t n;
	COUNTERS(FIELD)
#undef FIELD
};

/*
 * Attribution: what one site (a translated block's code) did inside the
 * regions of one tag, on every vCPU.  A site keeps one attr per tag it
 * ran under, in a list, and remembers the last one it counted into: the
 * regions of one tag come in runs, so the list is rarely walked.
 * device_callee counts the device accesses made right after this site's
 * last call: register accessors (ata_inb, Linux's ioread8) are small
 * functions, so this names who asked for the access.
 */
#define ATTRS(X) X(insns) X(bytes) X(l1_misses) X(l2_misses) X(pio) X(pio_string) X(mmio) \
	X(device_callee)

struct attr {
	int tag;
	struct attr *next;
#define FIELD(n) uint64_t n;
	ATTRS(FIELD)
#undef FIELD
};

#define SITE_CODE	16	/* bytes that name a site besides its address */
#define SITE_BUCKETS	(1u << 16)

struct site {
	uint64_t vaddr;
	uint8_t kernel, len, code[SITE_CODE];
	struct site *next;		/* hash chain */
	struct attr *attrs, *last;
};

/* What translation learnt about one instruction: its callbacks' udata. */
enum insn_kind {
	K_PLAIN, K_MARK, K_CR3, K_INVLPG, K_PIO, K_PIO_STRING, K_HLT, K_WRMSR, K_IRET, K_STRING,
	K_CALL
};

struct insn {
	struct site *site;
	uint64_t vaddr;
	uint32_t disp;			/* a marker's displacement */
	uint8_t kind, kernel;
	uint8_t idle;			/* IDLE_BEGIN, IDLE_END: idle work starts, ends */
};

#define IDLE_BEGIN	1
#define IDLE_END	2

struct vcpu {
	struct assoc l1, l2, tlb;
	uint64_t announce_pc;	/* a DMA marker ran: the announcing load's address */
	int announcing;		/* its load runs now: the next access names the frame */
	struct site *caller;	/* the block of the last call executed */
	int idle;		/* in idle work: not counted (idle=) */
};

static struct counters totals[NTAGS][MAX_VCPUS];
static struct vcpu vcpus[MAX_VCPUS];
static struct site *sites[SITE_BUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;	/* sites, attrs, the arena */
static int selected;			/* tag of the next region */
static volatile int open_tag = -1;	/* the open region's tag, or -1 */
static qemu_plugin_id_t plugin_id;
static unsigned cfg_lazy = 1;		/* markers only until the first tag is selected */
static volatile int armed;		/* translation instruments everything */
static volatile int flushed;		/* ... and no code translated before is left */
static uint64_t marker_errors;		/* begins while open, ends while closed, too early */
static uint64_t announce_errors;	/* a DMA marker not followed by its load */
static char *out_path, *attr_path;
static unsigned cfg_l1_kib = 32, cfg_l1_ways = 8, cfg_l2_kib = 2048, cfg_l2_ways = 16;
static unsigned cfg_tlb = 64, cfg_tlb_ways = 4;
static uint64_t cfg_iommu;		/* the IOMMU's register page, 0: none named */
static uint64_t cfg_idle_begin, cfg_idle_end;	/* idle work's first and next code */

/* Zeroed memory that lives as long as QEMU: instructions, sites, attrs.
 * => caller holds lock */
static void *arena_alloc(size_t n)
{
	static uint8_t *chunk;
	static size_t left;

	n = (n + 15) & ~(size_t)15;
	if (n > left) {
		chunk = calloc(1, 1u << 20);
		if (!chunk) {
			fprintf(stderr, "ferrycost: out of memory\n");
			abort();
		}
		left = 1u << 20;
	}
	left -= n;
	return chunk + left;
}

/* A device wrote the frame at phys: no CPU cache holds its old lines now. */
static void device_wrote(uint64_t phys)
{
	uint64_t first = (phys >> PAGE_SHIFT) << (PAGE_SHIFT - LINE_SHIFT);

	for (int v = 0; v < MAX_VCPUS; v++)
		for (uint64_t line = first; line < first + (1u << (PAGE_SHIFT - LINE_SHIFT)); line++) {
			assoc_drop(&vcpus[v].l1, line);
			assoc_drop(&vcpus[v].l2, line);
		}
}

static uint64_t site_hash(uint64_t vaddr, const uint8_t *code, unsigned len)
{
	uint64_t h = vaddr * 0x9E3779B97F4A7C15ULL;

	for (unsigned i = 0; i < len; i++)
		h = (h ^ code[i]) * 0x100000001b3ULL;
	return h >> 48;
}

/* The site of a block at vaddr starting with code[0..len): one per distinct
 * code, however often QEMU translates it again. */
static struct site *site_get(uint64_t vaddr, const uint8_t *code, unsigned len)
{
	struct site **bucket = &sites[site_hash(vaddr, code, len) % SITE_BUCKETS], *s;

	pthread_mutex_lock(&lock);
	for (s = *bucket; s; s = s->next)
		if (s->vaddr == vaddr && s->len == len && !memcmp(s->code, code, len))
			break;
	if (!s) {
		s = arena_alloc(sizeof(*s));
		s->vaddr = vaddr;
		s->kernel = vaddr >= KERNEL_HALF;
		s->len = (uint8_t)len;
		memcpy(s->code, code, len);
		s->next = *bucket;
		__atomic_store_n(bucket, s, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
	return s;
}

static struct attr *attr_of(struct site *s, int tag)
{
	struct attr *a = s->last;

	if (a && a->tag == tag)
		return a;
	for (a = __atomic_load_n(&s->attrs, __ATOMIC_ACQUIRE); a && a->tag != tag; a = a->next)
		;
	if (!a) {
		pthread_mutex_lock(&lock);
		for (a = s->attrs; a && a->tag != tag; a = a->next)
			;
		if (!a) {
			a = arena_alloc(sizeof(*a));
			a->tag = tag;
			a->next = s->attrs;
			__atomic_store_n(&s->attrs, a, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&lock);
	}
	s->last = a;
	return a;
}

static void write_results(void)
{
	static const char *const names[] = {
#define NAME(n) #n,
		COUNTERS(NAME)
#undef NAME
	};
	FILE *f;

	if (!out_path || !(f = fopen(out_path, "w")))
		return;
	fprintf(f, "# ferrycost l1=%uKiB/%u-way l2=%uKiB/%u-way line=%u tlb=%u/%u-way "
		"marker_errors=%llu announce_errors=%llu\ntag,vcpu", cfg_l1_kib, cfg_l1_ways,
		cfg_l2_kib, cfg_l2_ways, 1u << LINE_SHIFT, cfg_tlb, cfg_tlb_ways,
		(unsigned long long)marker_errors, (unsigned long long)announce_errors);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fprintf(f, ",%s", names[i]);
	fputc('\n', f);
	for (int t = 0; t < NTAGS; t++)
		for (int v = 0; v < MAX_VCPUS; v++) {
			const uint64_t *c = (const uint64_t *)&totals[t][v];

			if (!totals[t][v].regions && !totals[t][v].insns)
				continue;
			fprintf(f, "%d,%d", t, v);
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				fprintf(f, ",%llu", (unsigned long long)c[i]);
			fputc('\n', f);
		}
	fclose(f);
}

static void write_attr(void)
{
	FILE *f;

	if (!attr_path || !(f = fopen(attr_path, "w")))
		return;
	fputs("tag,kernel,vaddr,code"
#define NAME(n) "," #n
	      ATTRS(NAME)
#undef NAME
	      "\n", f);
	pthread_mutex_lock(&lock);
	for (unsigned b = 0; b < SITE_BUCKETS; b++)
		for (const struct site *s = sites[b]; s; s = s->next)
			for (const struct attr *a = s->attrs; a; a = a->next) {
				fprintf(f, "%d,%d,0x%llx,", a->tag, s->kernel,
					(unsigned long long)s->vaddr);
				for (unsigned i = 0; i < s->len; i++)
					fprintf(f, "%02x", s->code[i]);
#define VALUE(n) fprintf(f, ",%llu", (unsigned long long)a->n);
				ATTRS(VALUE)
#undef VALUE
				fputc('\n', f);
			}
	pthread_mutex_unlock(&lock);
	fclose(f);
}

static void write_all(void)
{
	write_results();
	write_attr();
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
static void on_qemu_exit(qemu_plugin_id_t id, void *p);

/* The flush is done, and with it every callback gone: ours again. */
static void on_reset(qemu_plugin_id_t id)
{
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	for (int v = 0; v < MAX_VCPUS; v++) {
		assoc_flush(&vcpus[v].l1);
		assoc_flush(&vcpus[v].l2);
		assoc_flush(&vcpus[v].tlb);
	}
	flushed = 1;
}

/* From now on everything is instrumented: code translated before is flushed. */
static void arm(void)
{
	if (armed)
		return;
	armed = 1;
	qemu_plugin_reset(plugin_id, on_reset);
}

static void marker(struct vcpu *v, unsigned vi, const struct insn *in)
{
	unsigned kind = (in->disp >> 12) & 0xf, tag = in->disp & 0xfff;

	switch (kind) {
	case MARK_SELECT:
		selected = tag < NTAGS ? (int)tag : 0;
		arm();
		break;
	case MARK_BEGIN:
		arm();
		if (open_tag >= 0 || !flushed)
			marker_errors++;	/* nested, or some of its code uncounted */
		open_tag = selected;
		totals[selected][vi].regions++;
		break;
	case MARK_END:
		if (open_tag < 0)
			marker_errors++;
		open_tag = -1;
		break;
	case MARK_DUMP:
		write_all();
		break;
	case MARK_IOTLB:
		if (open_tag >= 0)
			totals[open_tag][vi].iotlb_inval++;
		break;
	case MARK_DMA:
		if (flushed)	/* before, the models are dropped anyway */
			v->announce_pc = in->vaddr + MARK_LEN;
		break;
	}
}

/* Before every instruction: counts it, and acts on the ones translation marked. */
static void on_insn(unsigned vi, void *ud)
{
	const struct insn *in = ud;
	struct vcpu *v;
	struct counters *c;
	struct attr *a;
	int tag = open_tag;

	if (vi >= MAX_VCPUS)
		return;
	v = &vcpus[vi];
	if (v->announce_pc) {
		int announcing = in->vaddr == v->announce_pc;

		v->announce_pc = 0;
		if (announcing) {
			v->announcing = 1;
			return;		/* the announcement is no work of the guest's */
		}
		announce_errors++;	/* an interrupt came in between: not announced */
	}
	if (in->kind == K_MARK) {
		marker(v, vi, in);
		return;		/* markers are not part of any region */
	}
	if (in->idle)
		v->idle = in->idle == IDLE_BEGIN;
	if (in->kind == K_CR3)
		assoc_flush(&v->tlb);	/* no PCID: a CR3 write drops every entry */
	if (in->kind == K_CALL)
		v->caller = in->site;
	if (tag < 0)
		return;
	if (v->idle) {
		totals[tag][vi].idle_insns++;
		return;
	}
	c = &totals[tag][vi];
	a = attr_of(in->site, tag);
	c->insns++;
	c->insns_kernel += in->kernel;
	a->insns++;
	switch (in->kind) {
	case K_CR3: c->cr3_writes++; break;
	case K_INVLPG: c->invlpg++; break;
	case K_PIO:
		c->pio++;
		c->pio_kernel += in->kernel;
		a->pio++;
		if (v->caller)
			attr_of(v->caller, tag)->device_callee++;
		break;
	case K_PIO_STRING:
		c->pio_string++;
		a->pio_string++;
		if (v->caller)
			attr_of(v->caller, tag)->device_callee++;
		break;
	case K_HLT: c->hlt++; break;
	case K_WRMSR: c->wrmsr++; break;
	case K_IRET: c->iret++; break;
	case K_STRING: c->str_iters++; break;
	}
}

/* A cacheable access: => L1 misses; *l2 gets the L2 misses. */
static unsigned cache_access(struct vcpu *v, uint64_t phys, unsigned size, unsigned *l2)
{
	uint64_t first = phys >> LINE_SHIFT, last = (phys + size - 1) >> LINE_SHIFT;
	unsigned l1 = 0;

	*l2 = 0;
	for (uint64_t line = first; line <= last; line++) {
		if (assoc_access(&v->l1, line))
			continue;
		l1++;
		*l2 += !assoc_access(&v->l2, line);
	}
	return l1;
}

static void on_mem(unsigned vi, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
	const struct insn *in = ud;
	struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
	unsigned size = 1u << qemu_plugin_mem_size_shift(info), l1, l2;
	int store = qemu_plugin_mem_is_store(info), tag = open_tag;
	int io = hw && qemu_plugin_hwaddr_is_io(hw);
	struct counters *c;
	struct vcpu *v;
	struct attr *a = NULL;

	if (vi >= MAX_VCPUS)
		return;
	v = &vcpus[vi];
	c = tag >= 0 && !v->idle ? &totals[tag][vi] : NULL;
	if (v->announcing) {
		v->announcing = 0;
		if (hw && !io)
			device_wrote(qemu_plugin_hwaddr_phys_addr(hw));
		if (c)
			c->dma_pages++;
		return;
	}
	if (c) {
		a = attr_of(in->site, tag);
		a->bytes += size;
		if (store) {
			c->stores++;
			c->bytes_stored += size;
		} else {
			c->loads++;
			c->bytes_loaded += size;
		}
		if (in->kernel)
			c->bytes_kernel += size;
		if (in->kind == K_STRING)
			c->str_bytes += size;
	}
	if (!assoc_access(&v->tlb, vaddr >> PAGE_SHIFT) && c)
		c->tlb_misses++;
	if (io) {
		if (c) {
			uint64_t phys = qemu_plugin_hwaddr_phys_addr(hw);

			c->mmio++;
			if (cfg_iommu && phys >> PAGE_SHIFT == cfg_iommu >> PAGE_SHIFT)
				c->mmio_iommu++;
			a->mmio++;
			if (v->caller)
				attr_of(v->caller, tag)->device_callee++;
			if (store && (phys & ~0xfULL) == LAPIC_ICR_LOW)
				c->ipis++;
		}
		return;		/* uncached: no cache line */
	}
	l1 = cache_access(v, hw ? qemu_plugin_hwaddr_phys_addr(hw) : vaddr, size, &l2);
	if (c) {
		c->l1_misses += l1;
		c->l2_misses += l2;
		a->l1_misses += l1;
		a->l2_misses += l2;
	}
}

/* Decodes the x86 instructions the model treats apart, from their bytes. */
static enum insn_kind classify(const uint8_t *b, size_t n, uint32_t *disp)
{
	size_t i = 0;
	int rep = 0, rex_r = 0;

	for (; i < n; i++) {		/* legacy prefixes, then REX */
		uint8_t p = b[i];

		if (p == 0xf3 || p == 0xf2)
			rep = 1;
		else if (!(p == 0xf0 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x26 ||
			   p == 0x64 || p == 0x65 || p == 0x66 || p == 0x67))
			break;
	}
	if (i < n && (b[i] & 0xf0) == 0x40) {
		rex_r = (b[i] >> 2) & 1;
		i++;
	}
	if (i >= n)
		return K_PLAIN;
	switch (b[i]) {
	case 0xf4: return K_HLT;
	case 0xcf: return K_IRET;
	case 0xe4: case 0xe5: case 0xe6: case 0xe7:
	case 0xec: case 0xed: case 0xee: case 0xef:
		return K_PIO;
	case 0x6c: case 0x6d: case 0x6e: case 0x6f:
		return K_PIO_STRING;	/* ins/outs: each rep iteration one transfer */
	case 0xa4: case 0xa5: case 0xaa: case 0xab:
		return rep ? K_STRING : K_PLAIN;	/* rep movs, rep stos */
	case 0xe8:
		return K_CALL;
	case 0xff:	/* group 5: /2 is an indirect call */
		return i + 1 < n && ((b[i + 1] >> 3) & 7) == 2 ? K_CALL : K_PLAIN;
	case 0x0f:
		break;
	default:
		return K_PLAIN;
	}
	if (i + 1 >= n)
		return K_PLAIN;
	switch (b[i + 1]) {
	case 0x1f:	/* nopl disp32(%rax): 0f 1f 80 d32 */
		if (n - i == MARK_LEN && b[i + 2] == 0x80) {
			uint32_t d;

			memcpy(&d, &b[i + 3], 4);
			if ((d & 0xffff0000U) == MARK_MAGIC) {
				*disp = d;
				return K_MARK;
			}
		}
		return K_PLAIN;
	case 0x22:	/* mov %reg, %crN: N in modrm.reg */
		return i + 2 < n && (((b[i + 2] >> 3) & 7) | rex_r << 3) == 3 ? K_CR3 : K_PLAIN;
	case 0x01:	/* group 7: /7 with a memory operand is invlpg */
		return i + 2 < n && ((b[i + 2] >> 3) & 7) == 7 && (b[i + 2] >> 6) != 3 ?
			K_INVLPG : K_PLAIN;
	case 0x30:
		return K_WRMSR;
	}
	return K_PLAIN;
}

/* The block's site: its address and its first SITE_CODE bytes of code. */
static struct site *tb_site(struct qemu_plugin_tb *tb, size_t n)
{
	uint8_t code[SITE_CODE];
	unsigned len = 0;

	for (size_t i = 0; i < n && len < SITE_CODE; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		size_t size = qemu_plugin_insn_size(insn), take = SITE_CODE - len;

		take = size < take ? size : take;
		memcpy(code + len, qemu_plugin_insn_data(insn), take);
		len += (unsigned)take;
	}
	return site_get(qemu_plugin_tb_vaddr(tb), code, len);
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct site *site = armed ? tb_site(tb, n) : NULL;

	(void)id;
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *qi = qemu_plugin_tb_get_insn(tb, i);
		struct insn *in;
		uint32_t disp = 0;
		enum insn_kind kind = classify(qemu_plugin_insn_data(qi), qemu_plugin_insn_size(qi),
					       &disp);

		if (!armed && kind != K_MARK)
			continue;
		pthread_mutex_lock(&lock);
		in = arena_alloc(sizeof(*in));
		pthread_mutex_unlock(&lock);
		*in = (struct insn){ .site = site, .vaddr = qemu_plugin_insn_vaddr(qi),
				     .disp = disp, .kind = (uint8_t)kind,
				     .kernel = qemu_plugin_insn_vaddr(qi) >= KERNEL_HALF };
		if (cfg_idle_begin && in->vaddr == cfg_idle_begin)
			in->idle = IDLE_BEGIN;
		else if (cfg_idle_begin && in->vaddr == cfg_idle_end)
			in->idle = IDLE_END;
		qemu_plugin_register_vcpu_insn_exec_cb(qi, on_insn, QEMU_PLUGIN_CB_NO_REGS, in);
		if (kind != K_MARK)
			qemu_plugin_register_vcpu_mem_cb(qi, on_mem, QEMU_PLUGIN_CB_NO_REGS,
							 QEMU_PLUGIN_MEM_RW, in);
	}
}

static void on_qemu_exit(qemu_plugin_id_t id, void *p)
{
	(void)id;
	(void)p;
	write_all();
}

static int parse_arg(const char *arg)
{
	static const struct { const char *name; unsigned *v; } nums[] = {
		{ "l1_kib", &cfg_l1_kib }, { "l1_ways", &cfg_l1_ways },
		{ "l2_kib", &cfg_l2_kib }, { "l2_ways", &cfg_l2_ways },
		{ "tlb", &cfg_tlb }, { "tlb_ways", &cfg_tlb_ways }, { "lazy", &cfg_lazy },
	};
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;

	if (!eq)
		return -1;
	if (len == 3 && !strncmp(arg, "out", 3)) {
		out_path = strdup(eq + 1);
		return 0;
	}
	if (len == 4 && !strncmp(arg, "attr", 4)) {
		attr_path = strdup(eq + 1);
		return 0;
	}
	if (len == 5 && !strncmp(arg, "iommu", 5)) {
		char *end;

		cfg_iommu = strtoull(eq + 1, &end, 0);
		return *end || (cfg_iommu & ((1u << PAGE_SHIFT) - 1)) ? -1 : 0;
	}
	if (len == 4 && !strncmp(arg, "idle", 4)) {
		char *end;

		cfg_idle_begin = strtoull(eq + 1, &end, 0);
		if (*end != ':')
			return -1;
		cfg_idle_end = strtoull(end + 1, &end, 0);
		return *end || !cfg_idle_begin || !cfg_idle_end ? -1 : 0;
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (strlen(nums[i].name) == len && !strncmp(arg, nums[i].name, len)) {
			char *end;
			unsigned long v = strtoul(eq + 1, &end, 10);

			if (*end || v > (1UL << 20) || (v == 0 && nums[i].v != &cfg_lazy))
				return -1;
			*nums[i].v = (unsigned)v;
			return 0;
		}
	return -1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	unsigned lines_l1, lines_l2;

	(void)info;
	for (int i = 0; i < argc; i++)
		if (parse_arg(argv[i]) < 0) {
			fprintf(stderr, "ferrycost: bad argument '%s' (out=FILE, attr=FILE, lazy=, "
				"l1_kib=, l1_ways=, l2_kib=, l2_ways=, tlb=, tlb_ways=, iommu=, idle=)\n", argv[i]);
			return -1;
		}
	if (!out_path) {
		fprintf(stderr, "ferrycost: out=FILE is required\n");
		return -1;
	}
	lines_l1 = cfg_l1_kib * 1024 >> LINE_SHIFT;
	lines_l2 = cfg_l2_kib * 1024 >> LINE_SHIFT;
	for (int v = 0; v < MAX_VCPUS; v++)
		if (assoc_init(&vcpus[v].l1, lines_l1, cfg_l1_ways) < 0 ||
		    assoc_init(&vcpus[v].l2, lines_l2, cfg_l2_ways) < 0 ||
		    assoc_init(&vcpus[v].tlb, cfg_tlb, cfg_tlb_ways) < 0) {
			fprintf(stderr, "ferrycost: sizes must be whole multiples of the ways\n");
			return -1;
		}
	plugin_id = id;
	armed = flushed = !cfg_lazy;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}

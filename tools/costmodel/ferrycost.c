// SPDX-License-Identifier: MIT
/*
 * ferrycost: a QEMU TCG plugin (API version 1) that counts what a guest's
 * work costs beyond its instruction count, only inside regions the guest
 * marks itself (lib/include/ferry/costmark.h): bytes loaded and stored,
 * misses of a simulated L1D, L2 and DTLB, CR3 writes, invlpg, port I/O
 * (register accesses by in/out apart from data transfers by ins/outs),
 * MMIO, IPIs, hlt, interrupt returns.  Per region tag and per vCPU: while
 * a region is open on one vCPU, work on every vCPU is counted into it.
 *
 *   qemu-system-x86_64 ... -plugin build/costmodel/ferrycost.so,out=FILE
 *       [,l1_kib=32,l1_ways=8,l2_kib=2048,l2_ways=16,tlb=64,tlb_ways=4]
 *
 * FILE gets one CSV line per tag and vCPU that saw a region; it is written
 * when the guest executes the dump marker and again when QEMU exits.
 *
 * What API version 1 cannot show (docs/BENCHMARKS.md, "Cost model"): DMA
 * by devices (the simulated caches never learn that a device overwrote a
 * frame), register values (invlpg's operand, wrmsr's MSR: invlpg drops
 * no TLB entry, x2APIC IPIs by wrmsr are not seen), page sizes (the DTLB
 * holds 4 KiB pages only), interrupts taken (iretq is counted instead).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

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

/* The counters, in the order of the output's columns. */
#define COUNTERS(X) X(regions) X(insns) X(insns_kernel) X(loads) X(stores) \
	X(bytes_loaded) X(bytes_stored) X(bytes_kernel) X(str_iters) X(str_bytes) \
	X(l1_misses) X(l2_misses) X(tlb_misses) X(cr3_writes) X(invlpg) X(pio) \
	X(pio_kernel) X(pio_string) X(mmio) X(ipis) X(wrmsr) X(hlt) X(iret)

struct counters {
#define FIELD(n) uint64_t n;
	COUNTERS(FIELD)
#undef FIELD
};

/* A set-associative cache or TLB with LRU replacement: tags[set][way]. */
struct assoc {
	unsigned sets, ways;
	uint64_t *tags;		/* key + 1; 0 is an empty way */
	uint32_t *age;		/* last use, by a per-structure clock */
	uint32_t clock;
};

struct vcpu {
	struct assoc l1, l2, tlb;
};

/* What translation learnt about one instruction: the exec callback's udata. */
enum insn_kind {
	K_PLAIN, K_MARK, K_CR3, K_INVLPG, K_PIO, K_PIO_STRING, K_HLT, K_WRMSR, K_IRET, K_STRING
};
#define UD(kind, kernel, extra) ((void *)(uintptr_t)((uint64_t)(extra) << 8 | (kernel) << 7 | (kind)))
#define UD_KIND(u)	((unsigned)((uintptr_t)(u) & 0x7f))
#define UD_KERNEL(u)	(((uintptr_t)(u) >> 7) & 1)
#define UD_EXTRA(u)	((uint32_t)((uintptr_t)(u) >> 8))

static struct counters totals[NTAGS][MAX_VCPUS];
static struct vcpu vcpus[MAX_VCPUS];
static int selected;			/* tag of the next region */
static volatile int open_tag = -1;	/* the open region's tag, or -1 */
static uint64_t marker_errors;		/* begins while open, ends while closed */
static char *out_path;
static unsigned cfg_l1_kib = 32, cfg_l1_ways = 8, cfg_l2_kib = 2048, cfg_l2_ways = 16;
static unsigned cfg_tlb = 64, cfg_tlb_ways = 4;

static int assoc_init(struct assoc *a, unsigned entries, unsigned ways)
{
	if (ways == 0 || entries < ways || entries % ways)
		return -1;
	a->ways = ways;
	a->sets = entries / ways;
	a->tags = calloc(entries, sizeof(*a->tags));
	a->age = calloc(entries, sizeof(*a->age));
	return a->tags && a->age ? 0 : -1;
}

/* Looks key up; on a miss it replaces the least recently used way. => hit? */
static int assoc_access(struct assoc *a, uint64_t key)
{
	unsigned set = (unsigned)(key % a->sets), victim = 0;
	uint64_t *tags = &a->tags[set * a->ways];
	uint32_t *age = &a->age[set * a->ways];

	a->clock++;
	for (unsigned w = 0; w < a->ways; w++) {
		if (tags[w] == key + 1) {
			age[w] = a->clock;
			return 1;
		}
		if (tags[w] == 0 || (tags[victim] != 0 && age[w] < age[victim]))
			victim = w;
	}
	tags[victim] = key + 1;
	age[victim] = a->clock;
	return 0;
}

static void assoc_flush(struct assoc *a)
{
	memset(a->tags, 0, (size_t)a->sets * a->ways * sizeof(*a->tags));
}

static struct counters *region(unsigned vcpu)
{
	int tag = open_tag;

	return tag >= 0 && vcpu < MAX_VCPUS ? &totals[tag][vcpu] : NULL;
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
		"marker_errors=%llu\ntag,vcpu", cfg_l1_kib, cfg_l1_ways, cfg_l2_kib, cfg_l2_ways,
		1u << LINE_SHIFT, cfg_tlb, cfg_tlb_ways, (unsigned long long)marker_errors);
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

static void marker(unsigned vcpu, uint32_t disp)
{
	unsigned kind = (disp >> 12) & 0xf, tag = disp & 0xfff;

	switch (kind) {
	case MARK_SELECT:
		selected = tag < NTAGS ? (int)tag : 0;
		break;
	case MARK_BEGIN:
		if (open_tag >= 0)
			marker_errors++;
		open_tag = selected;
		if (vcpu < MAX_VCPUS)
			totals[selected][vcpu].regions++;
		break;
	case MARK_END:
		if (open_tag < 0)
			marker_errors++;
		open_tag = -1;
		break;
	case MARK_DUMP:
		write_results();
		break;
	}
}

/* Before every instruction: counts it, and acts on the ones translation marked. */
static void on_insn(unsigned vcpu, void *ud)
{
	unsigned kind = UD_KIND(ud);
	struct counters *c;

	if (kind == K_MARK) {
		marker(vcpu, UD_EXTRA(ud));
		return;		/* markers are not part of any region */
	}
	if (kind == K_CR3 && vcpu < MAX_VCPUS)
		assoc_flush(&vcpus[vcpu].tlb);	/* no PCID: a CR3 write drops every entry */
	c = region(vcpu);
	if (!c)
		return;
	c->insns++;
	c->insns_kernel += UD_KERNEL(ud);
	switch (kind) {
	case K_CR3: c->cr3_writes++; break;
	case K_INVLPG: c->invlpg++; break;
	case K_PIO: c->pio++; c->pio_kernel += UD_KERNEL(ud); break;
	case K_PIO_STRING: c->pio_string++; break;
	case K_HLT: c->hlt++; break;
	case K_WRMSR: c->wrmsr++; break;
	case K_IRET: c->iret++; break;
	case K_STRING: c->str_iters++; break;
	}
}

static void cache_access(struct vcpu *v, struct counters *c, uint64_t phys, unsigned size)
{
	uint64_t first = phys >> LINE_SHIFT, last = (phys + size - 1) >> LINE_SHIFT;

	for (uint64_t line = first; line <= last; line++) {
		if (assoc_access(&v->l1, line))
			continue;
		if (c)
			c->l1_misses++;
		if (!assoc_access(&v->l2, line) && c)
			c->l2_misses++;
	}
}

static void on_mem(unsigned vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
	struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
	unsigned size = 1u << qemu_plugin_mem_size_shift(info);
	int store = qemu_plugin_mem_is_store(info);
	struct counters *c = region(vcpu);
	struct vcpu *v;

	if (vcpu >= MAX_VCPUS)
		return;
	v = &vcpus[vcpu];
	if (c) {
		if (store) {
			c->stores++;
			c->bytes_stored += size;
		} else {
			c->loads++;
			c->bytes_loaded += size;
		}
		if (UD_KERNEL(ud))
			c->bytes_kernel += size;
		if (UD_KIND(ud) == K_STRING)
			c->str_bytes += size;
	}
	if (!assoc_access(&v->tlb, vaddr >> PAGE_SHIFT) && c)
		c->tlb_misses++;
	if (hw && qemu_plugin_hwaddr_is_io(hw)) {
		if (c) {
			c->mmio++;
			if (store && (qemu_plugin_hwaddr_phys_addr(hw) & ~0xfULL) == LAPIC_ICR_LOW)
				c->ipis++;
		}
		return;		/* uncached: no cache line */
	}
	cache_access(v, c, hw ? qemu_plugin_hwaddr_phys_addr(hw) : vaddr, size);
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
	case 0x0f:
		break;
	default:
		return K_PLAIN;
	}
	if (i + 1 >= n)
		return K_PLAIN;
	switch (b[i + 1]) {
	case 0x1f:	/* nopl disp32(%rax): 0f 1f 80 d32 */
		if (n - i == 7 && b[i + 2] == 0x80) {
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

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint32_t disp = 0;
		enum insn_kind kind = classify(qemu_plugin_insn_data(insn),
					       qemu_plugin_insn_size(insn), &disp);
		int kernel = qemu_plugin_insn_vaddr(insn) >= KERNEL_HALF;
		void *ud = UD(kind, kernel, disp);

		qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, ud);
		if (kind != K_MARK)
			qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS,
							 QEMU_PLUGIN_MEM_RW, ud);
	}
}

static void on_qemu_exit(qemu_plugin_id_t id, void *p)
{
	(void)id;
	(void)p;
	write_results();
}

static int parse_arg(const char *arg)
{
	static const struct { const char *name; unsigned *v; } nums[] = {
		{ "l1_kib", &cfg_l1_kib }, { "l1_ways", &cfg_l1_ways },
		{ "l2_kib", &cfg_l2_kib }, { "l2_ways", &cfg_l2_ways },
		{ "tlb", &cfg_tlb }, { "tlb_ways", &cfg_tlb_ways },
	};
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;

	if (!eq)
		return -1;
	if (len == 3 && !strncmp(arg, "out", 3)) {
		out_path = strdup(eq + 1);
		return 0;
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (strlen(nums[i].name) == len && !strncmp(arg, nums[i].name, len)) {
			char *end;
			unsigned long v = strtoul(eq + 1, &end, 10);

			if (*end || v == 0 || v > (1UL << 20))
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
			fprintf(stderr, "ferrycost: bad argument '%s' (out=FILE, l1_kib=, l1_ways=, "
				"l2_kib=, l2_ways=, tlb=, tlb_ways=)\n", argv[i]);
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
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}

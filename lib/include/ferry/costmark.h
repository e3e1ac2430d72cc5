/* SPDX-License-Identifier: MIT */
/*
 * Markers for the cost-model plugin (tools/costmodel/ferrycost.c): NOPs
 * with a distinctive displacement, `nopl 0xFE77KTTT(%rax)` (K the kind, TTT
 * a tag), which the plugin recognises when QEMU translates them and which
 * cost one instruction each anywhere else.  Between cost_begin() and
 * cost_end() the plugin counts everything every vCPU does, kernel and
 * other processes included, into the tag cost_select() chose last.
 * Plain header: Ferry's kernel and user programs and the Linux peer's
 * pagebench (peer/linux/) include it.
 */
#ifndef FERRY_COSTMARK_H
#define FERRY_COSTMARK_H

#define COST_MAGIC	0xfe770000u
#define COST_TAGS	64

#define COST_MARK(kind, tag) \
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80\n\t.long %c0" \
			 : : "i"(COST_MAGIC | (kind) << 12 | (tag)) : "memory")

static inline void cost_begin(void) { COST_MARK(1u, 0u); }
static inline void cost_end(void) { COST_MARK(2u, 0u); }
/* Has the plugin write its results file now (it does again at QEMU's exit). */
static inline void cost_dump(void) { COST_MARK(3u, 0u); }

/*
 * Announces that a device wrote (by DMA) the 4 KiB frame `page` maps: the
 * plugin cannot see DMA, so without this its simulated caches would keep
 * the frame's old lines and the CPU's next reads of the new data would
 * hit.  The marker and the one-byte load right after it name the frame
 * by the load's physical address; the plugin counts neither as work and
 * drops the frame's lines from every vCPU's caches.  Anywhere else: two
 * instructions, and the load brings the frame's first line in, which
 * whoever uses the new data would fetch anyway.
 */
static inline void cost_dma_written(const volatile void *page)
{
	unsigned char byte;

	__asm__ volatile(".byte 0x0f, 0x1f, 0x80\n\t.long %c2\n\tmovb (%1), %0"
			 : "=q"(byte) : "r"(page), "i"(COST_MAGIC | 5u << 12) : "memory");
	(void)byte;
}

/*
 * Says that an IOTLB invalidation was issued and waited for (one page-,
 * window- or domain-selective register command, or one queue submission
 * with its wait descriptor).  QEMU's unit answers at once, so the plugin
 * counts these (iotlb_inval) for the model to weigh what hardware takes.
 */
static inline void cost_iotlb_invalidated(void) { COST_MARK(6u, 0u); }

/*
 * The tag of the regions that follow, 0..COST_TAGS-1.  The plugin cannot
 * read registers, so each tag is its own instruction: one switch case.
 * Called outside regions, so its branches are never counted.
 */
static inline void cost_select(unsigned tag)
{
#define COST_CASE(t) case t: COST_MARK(4u, t##u); break;
	switch (tag) {
	COST_CASE(0) COST_CASE(1) COST_CASE(2) COST_CASE(3) COST_CASE(4) COST_CASE(5)
	COST_CASE(6) COST_CASE(7) COST_CASE(8) COST_CASE(9) COST_CASE(10) COST_CASE(11)
	COST_CASE(12) COST_CASE(13) COST_CASE(14) COST_CASE(15) COST_CASE(16) COST_CASE(17)
	COST_CASE(18) COST_CASE(19) COST_CASE(20) COST_CASE(21) COST_CASE(22) COST_CASE(23)
	COST_CASE(24) COST_CASE(25) COST_CASE(26) COST_CASE(27) COST_CASE(28) COST_CASE(29)
	COST_CASE(30) COST_CASE(31) COST_CASE(32) COST_CASE(33) COST_CASE(34) COST_CASE(35)
	COST_CASE(36) COST_CASE(37) COST_CASE(38) COST_CASE(39) COST_CASE(40) COST_CASE(41)
	COST_CASE(42) COST_CASE(43) COST_CASE(44) COST_CASE(45) COST_CASE(46) COST_CASE(47)
	COST_CASE(48) COST_CASE(49) COST_CASE(50) COST_CASE(51) COST_CASE(52) COST_CASE(53)
	COST_CASE(54) COST_CASE(55) COST_CASE(56) COST_CASE(57) COST_CASE(58) COST_CASE(59)
	COST_CASE(60) COST_CASE(61) COST_CASE(62) COST_CASE(63)
	default: COST_MARK(4u, 0u); break;
	}
#undef COST_CASE
}

#endif

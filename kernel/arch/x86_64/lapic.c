// SPDX-License-Identifier: MIT
/*
 * The local APIC, in xAPIC mode (memory-mapped registers at the MADT's
 * address, the same physical page on every CPU, each CPU seeing its own).
 * Every CPU enables its own, masks LINT0 (the 8259's virtual wire: the
 * I/O APIC delivers instead) and runs its timer periodically at CLOCK_HZ
 * on VEC_TIMER.  The timer's rate is measured once, by the boot CPU,
 * against the TSC (itself calibrated on the PIT): every CPU's APIC timer
 * runs off the same bus clock.
 */
#include "../../clock.h"
#include "../../cpu.h"
#include "../../log.h"
#include "../arch.h"
#include "cpu.h"
#include "trap.h"

#define MSR_APIC_BASE		0x1B
#define APIC_BASE_ENABLE	(1u << 11)

#define REG_ID			0x020
#define REG_VERSION		0x030
#define REG_TPR			0x080
#define REG_EOI			0x0B0
#define REG_SVR			0x0F0
#define REG_ESR			0x280
#define REG_ICR_LO		0x300
#define REG_ICR_HI		0x310
#define REG_LVT_TIMER		0x320
#define REG_LVT_LINT0		0x350
#define REG_LVT_LINT1		0x360
#define REG_LVT_ERROR		0x370
#define REG_TIMER_INIT		0x380
#define REG_TIMER_CURRENT	0x390
#define REG_TIMER_DIVIDE	0x3E0

#define SVR_ENABLE		(1u << 8)
#define LVT_MASKED		(1u << 16)
#define LVT_PERIODIC		(1u << 17)
#define LVT_NMI			(4u << 8)
#define TIMER_DIVIDE_16		0x3
#define ICR_PENDING		(1u << 12)
#define ICR_LEVEL_ASSERT	(1u << 14)
#define ICR_INIT		(5u << 8)
#define ICR_STARTUP		(6u << 8)
#define CALIBRATE_MS		10

static volatile uint32_t *regs;
static uint32_t timer_count;	/* initial count for one tick */

static uint32_t rd(unsigned off)
{
	return regs[off / 4];
}

static void wr(unsigned off, uint32_t v)
{
	regs[off / 4] = v;
}

/* => false if the registers cannot be mapped. */
bool lapic_map(uint64_t phys)
{
	regs = arch_map_phys(phys, PAGE_SIZE, VM_READ | VM_WRITE | VM_UNCACHED);
	return regs != NULL;
}

uint32_t lapic_id(void)
{
	return rd(REG_ID) >> 24;
}

/* This CPU's APIC: on, every LVT but the timer masked, LINT1 as NMI. */
void lapic_init_cpu(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE);
	wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
	wr(REG_TPR, 0);
	wr(REG_LVT_LINT0, LVT_MASKED);
	wr(REG_LVT_LINT1, LVT_NMI);
	wr(REG_LVT_ERROR, VEC_APIC_ERROR);
	wr(REG_ESR, 0);
	wr(REG_ESR, 0);		/* back-to-back writes clear it (SDM 10.5.3) */
	wr(REG_LVT_TIMER, LVT_MASKED);
	wr(REG_EOI, 0);
}

void lapic_eoi(void)
{
	wr(REG_EOI, 0);
}

/* Vectors whose class (vector >> 4) is at or below tpr >> 4 wait. */
void lapic_set_priority(uint32_t tpr)
{
	wr(REG_TPR, tpr);
}

/*
 * Counts per tick: the countdown's progress against the TSC over a short
 * window, both clocks read at both ends (a vCPU descheduled in between
 * stalls both alike); the median of three, since TCG on a loaded host
 * delays a read now and then.
 */
static uint64_t measure(void)
{
	uint64_t t0, t1, until;
	uint32_t c0, c1;

	wr(REG_TIMER_INIT, 0xFFFFFFFF);
	c0 = rd(REG_TIMER_CURRENT);
	t0 = rdtsc();
	until = t0 + arch_cycles_per_sec() * CALIBRATE_MS / 1000;
	while (rdtsc() < until)
		;
	c1 = rd(REG_TIMER_CURRENT);
	t1 = rdtsc();
	wr(REG_TIMER_INIT, 0);
	return (uint64_t)(c0 - c1) * arch_cycles_per_sec() / (t1 - t0) / CLOCK_HZ;
}

void lapic_calibrate_timer(void)
{
	uint64_t m[3], per_tick;

	wr(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
	wr(REG_LVT_TIMER, LVT_MASKED);
	for (int i = 0; i < 3; i++)
		m[i] = measure();
	per_tick = m[0] > m[1] ? (m[1] > m[2] ? m[1] : (m[0] > m[2] ? m[2] : m[0]))
			       : (m[0] > m[2] ? m[0] : (m[1] > m[2] ? m[2] : m[1]));
	timer_count = per_tick ? (uint32_t)(per_tick > 0xFFFFFFFF ? 0xFFFFFFFF : per_tick) : 1;
}

uint32_t lapic_timer_count(void)
{
	return timer_count;
}

void lapic_timer_start(void)
{
	wr(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
	wr(REG_LVT_TIMER, VEC_TIMER | LVT_PERIODIC);
	wr(REG_TIMER_INIT, timer_count);
}

static void wait_icr_idle(void)
{
	while (rd(REG_ICR_LO) & ICR_PENDING)
		__asm__ volatile("pause");
}

static void send(uint32_t apic_id, uint32_t lo)
{
	wait_icr_idle();
	wr(REG_ICR_HI, apic_id << 24);
	wr(REG_ICR_LO, lo);
	wait_icr_idle();
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	send(apic_id, vector);
}

void lapic_send_init(uint32_t apic_id)
{
	send(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

/* A start-up IPI: the CPU begins in real mode at page * 4096. */
void lapic_send_startup(uint32_t apic_id, uint8_t page)
{
	send(apic_id, ICR_STARTUP | page);
}

/* VEC_APIC_ERROR: the error bits are read by writing ESR first. */
void lapic_error(void)
{
	wr(REG_ESR, 0);
	log_warn("cpu %u: local APIC error %#x", this_cpu()->id, rd(REG_ESR));
	lapic_eoi();
}

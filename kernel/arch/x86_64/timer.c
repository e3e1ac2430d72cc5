// SPDX-License-Identifier: MIT
/*
 * Time: the TSC gives cycles and nanoseconds; the tick (CLOCK_HZ) comes
 * from each CPU's local APIC timer (lapic.c), or from the PIT on IRQ 0
 * when the 8259s deliver (no usable MADT: one CPU).  The TSC is calibrated once against PIT channel 2,
 * which counts down at a known 1.193182 MHz without interrupts.  Under
 * QEMU's TCG the TSC follows host time; under -icount it follows the
 * instruction count, which is what makes icount figures reproducible.
 */
#include "../../clock.h"
#include "../arch.h"
#include "cpu.h"
#include "trap.h"

#define PIT_HZ		1193182u
#define PIT_CH0		0x40
#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define PIT_GATE	0x61	/* bit 0: ch2 gate, bit 5: ch2 output */
#define CALIBRATE_MS	10

static uint64_t tsc_hz;

uint64_t arch_cycles(void)
{
	return rdtsc();
}

uint64_t arch_cycles_per_sec(void)
{
	return tsc_hz;
}

/* One-shot countdown on channel 2; spin on its output bit. */
static uint64_t calibrate_tsc(void)
{
	uint16_t count = PIT_HZ * CALIBRATE_MS / 1000;
	uint8_t gate = inb(PIT_GATE);
	uint64_t start, end;

	outb(PIT_GATE, (gate & ~0x02) | 0x01);	/* speaker off, gate on */
	outb(PIT_CMD, 0xB0);			/* ch2, lo/hi, mode 0 */
	outb(PIT_CH2, count & 0xFF);
	outb(PIT_CH2, count >> 8);
	start = rdtsc();
	while (!(inb(PIT_GATE) & 0x20))
		;
	end = rdtsc();
	outb(PIT_GATE, gate);
	return (end - start) * (1000 / CALIBRATE_MS);
}

/*
 * The median of three countdowns: a vCPU descheduled between the PIT's
 * output rising and the TSC read stretches one (several vCPU threads on a
 * loaded host make that likely), and a median drops one outlier.
 */
void timer_calibrate_tsc(void)
{
	uint64_t a = calibrate_tsc(), b = calibrate_tsc(), c = calibrate_tsc();

	tsc_hz = a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
	clock_init(rdtsc(), tsc_hz);
}

void timer_pit_start(void)
{
	uint16_t divisor = PIT_HZ / CLOCK_HZ;

	outb(PIT_CMD, 0x34);			/* ch0, lo/hi, rate generator */
	outb(PIT_CH0, divisor & 0xFF);
	outb(PIT_CH0, divisor >> 8);
	pic_unmask(0);	/* trap.c hands IRQ 0 to irq_timer() */
}

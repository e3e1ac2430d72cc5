// SPDX-License-Identifier: MIT
#include "smp.h"

#include "clock.h"
#include "cmdline.h"
#include "lock.h"
#include "log.h"
#include "mm/tlb.h"
#include "panic.h"
#include "proc/thread.h"

struct cpu cpus[CPU_MAX] = { [0] = { .self = &cpus[0], .state = CPU_ONLINE } };
unsigned cpu_count = 1;

/* The CPU stopping the world, or -1.  Written with compare-and-swap. */
static int stopper = -1;

void smp_init_boot_cpu(void)
{
	arch_set_cpu_local(&cpus[0]);
}

uint64_t smp_online_mask(void)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < cpu_count; i++)
		if (cpu_online(i))
			m |= cpu_bit(i);
	return m;
}

static void delay_ns(uint64_t ns)
{
	uint64_t until = clock_ns() + ns;

	while (clock_ns() < until)
		arch_cpu_relax();
}

/* => true once c is online, false (and c put back to sleep) if it never came. */
static bool wait_online(struct cpu *c)
{
	uint64_t until = clock_ns() + SMP_START_WAIT_NS;
	int starting = CPU_STARTING;

	while (clock_ns() < until) {
		if (cpu_online(c->id))
			return true;
		delay_ns(100000);
	}
	if (!__atomic_compare_exchange_n(&c->state, &starting, CPU_GIVEN_UP, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return true;	/* it made it after all */
	arch_stop_cpu(c);
	return false;
}

static bool start_one(uint32_t hw_id)
{
	struct cpu *c = &cpus[cpu_count];

	*c = (struct cpu){ .self = c, .id = cpu_count, .apic_id = hw_id, .state = CPU_STARTING };
	c->idle = sched_new_idle(c);
	if (!c->idle) {
		log_warn("smp: no memory for cpu %u's idle thread", c->id);
		return false;
	}
	cpu_count++;	/* its slot is taken, whatever happens next */
	if (!arch_start_cpu(c, sched_idle_stack_top(c->idle)) || !wait_online(c)) {
		log_warn("smp: cpu %u (APIC id %u) did not start: running without it", c->id, hw_id);
		return false;
	}
	return true;
}

unsigned smp_start_cpus(void)
{
	uint32_t ids[CPU_MAX];
	unsigned n = arch_cpu_ids(ids, CPU_MAX - 1), want = (unsigned)cmdline_get_u64("cpus", CPU_MAX);
	unsigned online = 1;

	cpus[0].apic_id = arch_cpu_hw_id();
	if (want < 1)
		want = 1;
	if (n + 1 > want) {
		log_info("smp: cpus=%u: %u of the firmware's CPUs left off", want, n + 1 - want);
		n = want - 1;
	}
	for (unsigned i = 0; i < n; i++)
		online += start_one(ids[i]);
	log_info("smp: %u CPU%s online", online, online == 1 ? "" : "s");
	return online;
}

_Noreturn void smp_ap_main(void)
{
	struct cpu *c = this_cpu();
	int starting = CPU_STARTING;

	/* The boot CPU may have given up on us: then we were never here. */
	if (c->apic_id != arch_cpu_hw_id() ||
	    !__atomic_compare_exchange_n(&c->state, &starting, CPU_ONLINE, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		arch_halt_forever();
	c->current = c->idle;
	kernel_lock();
	log_info("smp: cpu %u (APIC id %u) online", c->id, c->apic_id);
	sched_idle_loop();
}

_Static_assert(IPI_NKINDS == sizeof(cpus[0].ipis_sent_kind) / sizeof(uint64_t), "cpu.h");

void smp_send_ipi(unsigned cpu, enum ipi_kind kind)
{
	if (!cpu_online(cpu) || cpu == this_cpu()->id)
		return;
	this_cpu()->ipis_sent++;
	this_cpu()->ipis_sent_kind[kind]++;
	arch_send_ipi(&cpus[cpu], kind);
}

bool smp_world_stopped(void)
{
	return __atomic_load_n(&stopper, __ATOMIC_ACQUIRE) >= 0;
}

/* Until the stopper resumes: interrupts stay off, shootdowns are answered. */
static void park(void)
{
	struct cpu *c = this_cpu();

	__atomic_store_n(&c->parked, true, __ATOMIC_RELEASE);
	for (;;) {
		int s = __atomic_load_n(&stopper, __ATOMIC_ACQUIRE);

		if (s < 0 || s == (int)c->id)
			break;
		tlb_serve();
		arch_cpu_relax();
	}
	__atomic_store_n(&c->parked, false, __ATOMIC_RELEASE);
}

void smp_poll(void)
{
	int s;

	tlb_serve();
	s = __atomic_load_n(&stopper, __ATOMIC_ACQUIRE);
	if (s >= 0 && s != (int)this_cpu()->id)
		park();
}

#define SPINS_BEFORE_HALT	200

void smp_wait_until(bool (*done)(const void *ctx), const void *ctx)
{
	struct cpu *c = this_cpu();

	for (unsigned spins = 0; !done(ctx); spins++) {
		smp_poll();
		if (spins < SPINS_BEFORE_HALT) {
			arch_cpu_relax();
			continue;
		}
		/* Flag first, then look again: a waker that made done() true
		 * before seeing the flag is seen here; one after sends an IPI,
		 * which ends the hlt (it stays pending while interrupts are off). */
		__atomic_store_n(&c->waiting, true, __ATOMIC_SEQ_CST);
		if (!done(ctx))
			arch_wait_for_ipi();
		__atomic_store_n(&c->waiting, false, __ATOMIC_SEQ_CST);
	}
}

void smp_wake(unsigned cpu)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (cpu < cpu_count && __atomic_load_n(&cpus[cpu].waiting, __ATOMIC_SEQ_CST))
		smp_send_ipi(cpu, IPI_WAKE);
}

void smp_wake_all(void)
{
	for (unsigned i = 0; i < cpu_count; i++)
		if (i != this_cpu()->id)
			smp_wake(i);
}

void smp_ipi_received(enum ipi_kind kind)
{
	this_cpu()->ipis_received++;
	if (kind == IPI_TLB || kind == IPI_STOP)
		smp_poll();
}

uint64_t smp_stop_others(void)
{
	int me = (int)this_cpu()->id, none = -1;
	uint64_t until, missing = 0;

	if (__atomic_load_n(&stopper, __ATOMIC_ACQUIRE) == me)
		return 0;	/* a panic report, then kdb: stopped once */
	while (!__atomic_compare_exchange_n(&stopper, &none, me, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE)) {
		none = -1;
		smp_poll();	/* another CPU stops the world: park until it is done */
		arch_cpu_relax();
	}
	for (unsigned i = 0; i < cpu_count; i++)
		if ((int)i != me && cpu_online(i))
			smp_send_ipi(i, IPI_STOP);
	until = clock_ns() + SMP_STOP_WAIT_NS;
	do {
		missing = 0;
		for (unsigned i = 0; i < cpu_count; i++)
			if ((int)i != me && cpu_online(i) &&
			    !__atomic_load_n(&cpus[i].parked, __ATOMIC_ACQUIRE))
				missing |= cpu_bit(i);
		tlb_serve();
		arch_cpu_relax();
	} while (missing && clock_ns() < until);
	return missing;
}

void smp_resume_others(void)
{
	KASSERT(__atomic_load_n(&stopper, __ATOMIC_RELAXED) == (int)this_cpu()->id);
	__atomic_store_n(&stopper, -1, __ATOMIC_RELEASE);
}

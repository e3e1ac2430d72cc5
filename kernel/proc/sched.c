// SPDX-License-Identifier: MIT
/*
 * Priority round-robin: one FIFO run queue per priority, a bitmap of the
 * non-empty ones, and the highest non-empty queue runs.  A thread that uses
 * up its slice goes to the back of its queue; a woken thread of higher
 * priority than the running one preempts it at the next return to user mode.
 * Timeouts are kept on one list checked every tick (10 ms granularity).
 *
 * Several CPUs share the one set of run queues, under the kernel lock
 * (lock.h): every CPU takes the highest-priority ready thread.  Per-CPU
 * queues would need balancing and would buy nothing while one lock
 * serialises the kernel anyway; one queue makes "a thread blocked in
 * pager-io wakes on whichever CPU is free" hold by construction.  A thread
 * made ready goes to an idle CPU if there is one (a reschedule IPI ends its
 * hlt), else preempts the CPU running the lowest priority below its own.
 * Each CPU has its own idle thread (priority 0, never queued); the boot
 * CPU's is the boot flow on the boot stack.
 */
#include <ferry/err.h>
#include <fmt.h>
#include <string.h>

#include "../arch/arch.h"
#include "../clock.h"
#include "../lock.h"
#include "../log.h"
#include "../smp.h"
#include "../mm/heap.h"
#include "../mm/pmm.h"
#include "../mm/tlb.h"
#include "../mm/zeropool.h"
#include "../panic.h"
#include "proc.h"
#include "thread.h"

extern char boot_stack[];	/* boot.S: the boot CPU's idle thread keeps it */

static struct list_node run_queue[PRIO_MAX + 1];
static uint32_t run_bitmap;
static struct list_node timeouts = LIST_HEAD_INIT(timeouts);
static struct thread boot_idle;
static uint64_t next_tid = 1, live_threads;
static struct list_node all_threads = LIST_HEAD_INIT(all_threads);

static bool is_idle(const struct thread *t)
{
	return t->priority == PRIO_IDLE;
}

static const char *const state_names[] = {
#define FERRY_STATE_NAME(name, text) [name] = text,
	FERRY_THREAD_STATES(FERRY_STATE_NAME)
#undef FERRY_STATE_NAME
};

const char *thread_state_name(enum thread_state s)
{
	return s < THREAD_NSTATES ? state_names[s] : "?";
}

uint64_t thread_count(void)
{
	return live_threads;
}

static void idle_init(struct thread *t, struct cpu *c, void *stack)
{
	t->kstack = stack;
	t->state = THREAD_RUNNING;
	t->priority = PRIO_IDLE;
	t->cpu = c->id;
	snprintf(t->name, sizeof(t->name), "idle%u", c->id);
	list_init(&t->run_link);
	list_init(&t->proc_link);
	list_init(&t->timer_link);
	list_add_tail(&all_threads, &t->all_link);
}

struct thread *thread_next(struct thread *prev)
{
	struct list_node *n = prev ? prev->all_link.next : all_threads.next;

	return n == &all_threads ? NULL : list_entry(n, struct thread, all_link);
}

void sched_init(void)
{
	struct cpu *c = this_cpu();

	for (int p = 0; p <= PRIO_MAX; p++)
		list_init(&run_queue[p]);
	idle_init(&boot_idle, c, boot_stack);
	c->idle = &boot_idle;
	c->current = &boot_idle;
}

struct thread *sched_new_idle(struct cpu *c)
{
	struct thread *t = kzalloc(sizeof(*t));
	paddr_t stack;

	if (!t)
		return NULL;
	stack = pmm_alloc_contig(KSTACK_PAGES, FRAME_STACK, ~(paddr_t)0);
	if (!stack) {
		kfree(t);
		return NULL;
	}
	idle_init(t, c, phys_to_virt(stack));
	return t;
}

uint64_t sched_idle_stack_top(const struct thread *idle)
{
	return (uint64_t)idle->kstack + KSTACK_PAGES * PAGE_SIZE;
}

/* A CPU to run t now: this one when it is about to be free (a caller
 * that blocks for t's reply: its request is served where it was made, no
 * IPI; an interrupt that came in the idle loop: its driver runs where the
 * device sent it, as nvme's queue per CPU wants), else an idle one not
 * yet called (need_resched marks the call), else the one running the
 * lowest priority below t's; or NULL. */
static struct cpu *cpu_for(const struct thread *t)
{
	struct cpu *best = NULL, *self = this_cpu();

	if (!self->need_resched && (self->waking_for_call || is_idle(self->current)))
		return self;

	for (unsigned i = 0; i < cpu_count; i++) {
		struct cpu *c = &cpus[i];

		if (!cpu_online(i) || c->need_resched)
			continue;
		if (is_idle(c->current))
			return c;
		if (c->current->priority < t->priority &&
		    (!best || c->current->priority < best->current->priority))
			best = c;
	}
	return best;
}

void sched_make_ready(struct thread *t)
{
	struct cpu *c;

	KASSERT(!is_idle(t) && !list_linked(&t->run_link));
	KASSERT(kernel_lock_held());
	t->state = THREAD_READY;
	list_add_tail(&run_queue[t->priority], &t->run_link);
	run_bitmap |= 1u << t->priority;
	c = cpu_for(t);
	if (!c)
		return;
	c->need_resched = true;
	if (c != this_cpu())
		smp_send_ipi(c->id, IPI_RESCHEDULE);
}

static struct thread *pick_next(void)
{
	struct list_node *n;
	int prio;

	if (!run_bitmap)
		return this_cpu()->idle;
	prio = 31 - __builtin_clz(run_bitmap);
	n = list_pop(&run_queue[prio]);
	if (list_empty(&run_queue[prio]))
		run_bitmap &= ~(1u << prio);
	return list_entry(n, struct thread, run_link);
}

static void free_dead_thread(void)
{
	struct thread *t = this_cpu()->dead_thread;

	if (!t)
		return;
	this_cpu()->dead_thread = NULL;
	list_del(&t->all_link);
	pmm_free_contig(virt_to_phys(t->kstack), KSTACK_PAGES);
	kfree(t);
}

static void account(struct thread *prev, struct thread *next)
{
	uint64_t now = clock_ns();

	prev->cpu_ns += now - prev->run_start_ns;
	next->run_start_ns = now;
}

/* A kernel or idle thread keeps the last space loaded, lazily (mm/tlb.h). */
static void switch_address_space(struct thread *next)
{
	if (next->proc)
		proc_activate(next->proc);
	else
		tlb_lazy();
}

/* Back on the queue, without calling a CPU for it: this one is about to pick. */
static void requeue(struct thread *t)
{
	t->state = THREAD_READY;
	list_add_tail(&run_queue[t->priority], &t->run_link);
	run_bitmap |= 1u << t->priority;
}

/*
 * => interrupts off, kernel lock held.  The current thread has already
 *    been put where it belongs (a run queue if still runnable, a wait
 *    queue, or nowhere).  The lock stays held across the switch: the
 *    next thread goes on holding it on this CPU.
 */
void schedule(void)
{
	struct cpu *c = this_cpu();
	struct thread *prev = c->current, *next;

	KASSERT(kernel_lock_held());
	c->need_resched = false;
	if (prev->state == THREAD_RUNNING && !is_idle(prev))
		requeue(prev);
	next = pick_next();
	if (next == prev) {
		prev->state = THREAD_RUNNING;
		return;
	}
	next->state = THREAD_RUNNING;
	next->slice = SLICE_TICKS;
	next->cpu = c->id;
	account(prev, next);
	c->current = next;
	c->context_switches++;
	switch_address_space(next);
	arch_set_kernel_stack((uint64_t)next->kstack + KSTACK_PAGES * PAGE_SIZE);
	arch_context_switch(&prev->saved_rsp, next->saved_rsp);
	/* Back on prev's stack, possibly much later and on another CPU. */
	free_dead_thread();
}

void sched_yield(void)
{
	schedule();
}

/*
 * Counts the time the CPU spends halted, so a benchmark can tell waiting
 * for a device from executing instructions (under QEMU's -icount the
 * guest clock counts instructions, and halted time at host speed).  The
 * interrupt that ends the halt runs its handler before hlt returns: those
 * few instructions are counted as halted too.
 */
static void halt_until_interrupt(void)
{
	struct cpu *c = this_cpu();
	uint64_t t0 = arch_cycles();

	c->halt_since = t0;
	c->halted = true;
	kernel_unlock();
	arch_wait_for_interrupt();	/* sti; hlt: an interrupt takes the lock itself */
	arch_irq_save();
	kernel_lock();
	c->halted = false;
	c->halted_cycles += arch_cycles() - t0;
}

/* c's halted time up to now, the halt it is in counted so far: a reader
 * of two snapshots sees only the halts between them (the halt's end adds
 * its whole length, from before the first snapshot too).  Both sides hold
 * the kernel lock; the TSCs of QEMU's CPUs agree. */
uint64_t sched_halted_cycles(const struct cpu *c)
{
	KASSERT(kernel_lock_held());
	return c->halted_cycles + (c->halted ? arch_cycles() - c->halt_since : 0);
}

/*
 * Idle work: zeroed frames for grants and first touches.  The clearing
 * runs without the kernel lock, so a busy CPU is not kept waiting while an
 * idle one fills the pool.  => false when there is none.
 */
static bool idle_work(void)
{
	paddr_t pa = zeropool_refill_begin();

	if (!pa)
		return false;
	kernel_unlock();
	zeropool_clear(pa);
	kernel_lock();
	zeropool_refill_end(pa);
	return true;
}

/* Every CPU's idle thread: halt until there is work. */
_Noreturn void sched_idle_loop(void)
{
	for (;;) {
		schedule();
		if (run_bitmap || idle_work())
			continue;
		halt_until_interrupt();
	}
}

static void expire_timeouts(void)
{
	uint64_t now = clock_ns();
	struct list_node *n, *tmp;

	list_for_each_safe(n, tmp, &timeouts) {
		struct thread *t = list_entry(n, struct thread, timer_link);

		if (t->deadline_ns <= now)
			thread_wake(t, ERR_TIMEOUT);
	}
}

/* This CPU's tick; the boot CPU's also expires the timeouts. */
void sched_tick(void)
{
	struct thread *t = current_thread();

	if (this_cpu()->id == 0)
		expire_timeouts();
	if (!is_idle(t) && --t->slice <= 0)
		this_cpu()->need_resched = true;
	if (is_idle(t) && run_bitmap)
		this_cpu()->need_resched = true;
}

/* => kernel lock held; returns with it held (the caller releases it). */
void sched_exit_to_user(void)
{
	struct thread *t = current_thread();

	if (t->proc && proc_is_dying(t->proc))
		thread_exit();
	if (this_cpu()->need_resched)
		schedule();
	if (t->proc && proc_is_dying(t->proc))
		thread_exit();
}

/* --- creation and exit --- */

static struct thread *thread_alloc(const char *name, int prio)
{
	struct thread *t = kzalloc(sizeof(*t));
	paddr_t stack;

	if (!t)
		return NULL;
	stack = pmm_alloc_contig(KSTACK_PAGES, FRAME_STACK, ~(paddr_t)0);
	if (!stack) {
		kfree(t);
		return NULL;
	}
	t->kstack = phys_to_virt(stack);
	t->tid = next_tid++;
	t->priority = prio < PRIO_MIN ? PRIO_MIN : (prio > PRIO_MAX ? PRIO_MAX : prio);
	t->state = THREAD_READY;
	list_init(&t->run_link);
	list_init(&t->proc_link);
	list_init(&t->timer_link);
	list_add_tail(&all_threads, &t->all_link);
	strlcpy(t->name, name, sizeof(t->name));
	live_threads++;
	return t;
}

static void kernel_thread_start(void)
{
	struct thread *t = current_thread();

	free_dead_thread();
	t->kentry(t->karg);
	thread_exit();
}

/* Switched in under the kernel lock, which user mode does not hold. */
static void user_thread_start(void)
{
	struct thread *t = current_thread();

	free_dead_thread();
	sched_exit_to_user();
	kernel_unlock();
	arch_enter_user((uint8_t *)t->kstack + KSTACK_PAGES * PAGE_SIZE);
}

struct thread *thread_create_kernel(const char *name, void (*fn)(void *), void *arg, int prio)
{
	struct thread *t = thread_alloc(name, prio);
	uint64_t top;

	if (!t)
		return NULL;
	t->kentry = fn;
	t->karg = arg;
	top = (uint64_t)t->kstack + KSTACK_PAGES * PAGE_SIZE;
	t->saved_rsp = arch_thread_stack_init(top, kernel_thread_start);
	sched_make_ready(t);
	return t;
}

struct thread *thread_create_user(struct proc *p, uint64_t entry, uint64_t stack_top,
				  uint64_t arg0, uint64_t arg1, int prio)
{
	struct thread *t = thread_alloc(p->name, prio);
	uint64_t top;

	if (!t)
		return NULL;
	t->proc = p;
	top = (uint64_t)t->kstack + KSTACK_PAGES * PAGE_SIZE;
	/* The user register frame sits at the very top of the kernel stack. */
	arch_user_frame_init((void *)top, entry, stack_top, arg0, arg1);
	t->saved_rsp = arch_thread_stack_init(top - ARCH_USER_FRAME_SIZE, user_thread_start);
	proc_add_thread(p, t);
	sched_make_ready(t);
	return t;
}

void thread_reap(struct thread *t)
{
	if (t->wq || list_linked(&t->run_link)) {
		list_del(&t->run_link);
		t->wq = NULL;
	}
	if (list_linked(&t->timer_link))
		list_del(&t->timer_link);
	t->deadline_ns = 0;
	if (t->state == THREAD_READY && list_empty(&run_queue[t->priority]))
		run_bitmap &= ~(1u << t->priority);
	t->state = THREAD_DEAD;
}

/* => not an idle thread.  The stack is freed by whoever runs next here. */
_Noreturn void thread_exit(void)
{
	struct thread *t = current_thread();

	KASSERT(!is_idle(t));
	if (t->proc)
		proc_thread_exited(t->proc, t);
	t->state = THREAD_DEAD;
	live_threads--;
	KASSERT(!this_cpu()->dead_thread);
	this_cpu()->dead_thread = t;
	schedule();
	panic("thread_exit: dead thread %lu scheduled again", (unsigned long)t->tid);
}

/* --- blocking --- */

void wait_queue_init(struct wait_queue *wq)
{
	list_init(&wq->head);
}

long thread_block(struct wait_queue *wq, enum thread_state state, uint64_t wait_object,
		  int64_t timeout_ns)
{
	struct thread *t = current_thread();

	KASSERT(kernel_lock_held());
	KASSERT(!is_idle(t) && !list_linked(&t->run_link));
	if (t->proc && proc_is_dying(t->proc))
		return ERR_DEAD;
	t->state = state;
	t->wait_object = wait_object;
	t->wait_result = 0;
	t->wq = wq;
	if (wq)
		list_add_tail(&wq->head, &t->run_link);
	if (timeout_ns >= 0) {
		t->deadline_ns = clock_ns() + (uint64_t)timeout_ns;
		list_add_tail(&timeouts, &t->timer_link);
	}
	schedule();
	t->wait_object = 0;
	return t->wait_result;
}

/* => t is blocked (or already made ready by another waker: then no-op). */
void thread_wake(struct thread *t, long result)
{
	KASSERT(kernel_lock_held());
	if (t->state == THREAD_READY || t->state == THREAD_RUNNING || t->state == THREAD_DEAD)
		return;
	if (t->wq) {
		list_del(&t->run_link);
		t->wq = NULL;
	}
	if (list_linked(&t->timer_link))
		list_del(&t->timer_link);
	t->deadline_ns = 0;
	t->wait_result = result;
	sched_make_ready(t);
}

struct thread *wait_queue_first(struct wait_queue *wq)
{
	if (list_empty(&wq->head))
		return NULL;
	return list_entry(wq->head.next, struct thread, run_link);
}

void wait_queue_wake_all(struct wait_queue *wq, long result)
{
	struct thread *t;

	while ((t = wait_queue_first(wq)))
		thread_wake(t, result);
}

// SPDX-License-Identifier: MIT
/*
 * Priority round-robin: one FIFO run queue per priority, a bitmap of the
 * non-empty ones, and the highest non-empty queue runs.  A thread that uses
 * up its slice goes to the back of its queue; a woken thread of higher
 * priority than the running one preempts it at the next return to user mode.
 * Timeouts are kept on one list checked every tick (10 ms granularity).
 */
#include <ferry/err.h>
#include <string.h>

#include "../arch/arch.h"
#include "../clock.h"
#include "../log.h"
#include "../mm/heap.h"
#include "../mm/pmm.h"
#include "../mm/zeropool.h"
#include "../panic.h"
#include "proc.h"
#include "thread.h"

struct cpu cpu0;
extern char boot_stack[];	/* boot.S: the idle thread keeps the boot stack */

static struct list_node run_queue[PRIO_MAX + 1];
static uint32_t run_bitmap;
static struct list_node timeouts = LIST_HEAD_INIT(timeouts);
static struct thread *dead_thread;	/* freed once we are off its stack */
static struct thread idle_thread;
static uint64_t next_tid = 1, live_threads;

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

void sched_init(void)
{
	for (int p = 0; p <= PRIO_MAX; p++)
		list_init(&run_queue[p]);
	cpu0.self = &cpu0;
	idle_thread.kstack = boot_stack;
	idle_thread.state = THREAD_RUNNING;
	idle_thread.priority = PRIO_IDLE;
	strlcpy(idle_thread.name, "idle", sizeof(idle_thread.name));
	list_init(&idle_thread.run_link);
	list_init(&idle_thread.timer_link);
	cpu0.idle = &idle_thread;
	cpu0.current = &idle_thread;
	arch_set_cpu_local(&cpu0);
}

void sched_make_ready(struct thread *t)
{
	KASSERT(t != &idle_thread && !list_linked(&t->run_link));
	t->state = THREAD_READY;
	list_add_tail(&run_queue[t->priority], &t->run_link);
	run_bitmap |= 1u << t->priority;
	if (t->priority > current_thread()->priority)
		this_cpu()->need_resched = true;
}

static struct thread *pick_next(void)
{
	struct list_node *n;
	int prio;

	if (!run_bitmap)
		return &idle_thread;
	prio = 31 - __builtin_clz(run_bitmap);
	n = list_pop(&run_queue[prio]);
	if (list_empty(&run_queue[prio]))
		run_bitmap &= ~(1u << prio);
	return list_entry(n, struct thread, run_link);
}

static void free_dead_thread(void)
{
	struct thread *t = dead_thread;

	if (!t)
		return;
	dead_thread = NULL;
	pmm_free_contig(virt_to_phys(t->kstack), KSTACK_PAGES);
	kfree(t);
}

static void account(struct thread *prev, struct thread *next)
{
	uint64_t now = clock_ns();

	prev->cpu_ns += now - prev->run_start_ns;
	next->run_start_ns = now;
}

static void switch_address_space(struct thread *next)
{
	if (next->proc)
		proc_activate(next->proc);
}

/*
 * => interrupts off.  The current thread has already been put where it
 *    belongs (a run queue if still runnable, a wait queue, or nowhere).
 */
void schedule(void)
{
	struct thread *prev = current_thread(), *next;

	this_cpu()->need_resched = false;
	if (prev->state == THREAD_RUNNING && prev != &idle_thread) {
		sched_make_ready(prev);
		this_cpu()->need_resched = false;
	}
	next = pick_next();
	if (next == prev) {
		prev->state = THREAD_RUNNING;
		return;
	}
	next->state = THREAD_RUNNING;
	next->slice = SLICE_TICKS;
	account(prev, next);
	this_cpu()->current = next;
	this_cpu()->context_switches++;
	switch_address_space(next);
	arch_set_kernel_stack((uint64_t)next->kstack + KSTACK_PAGES * PAGE_SIZE);
	arch_context_switch(&prev->saved_rsp, next->saved_rsp);
	/* Back on prev's stack, possibly much later. */
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
	uint64_t t0 = arch_cycles();

	arch_wait_for_interrupt();	/* sti; hlt */
	arch_irq_save();
	this_cpu()->halted_cycles += arch_cycles() - t0;
}

/* The boot flow becomes the idle thread: halt until there is work. */
_Noreturn void sched_start(void)
{
	for (;;) {
		schedule();
		if (run_bitmap)
			continue;
		/* Idle work first: zeroed frames for grants and first touches. */
		if (zeropool_refill_one())
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

void sched_tick(void)
{
	struct thread *t = current_thread();

	expire_timeouts();
	if (t != &idle_thread && --t->slice <= 0)
		this_cpu()->need_resched = true;
	if (t == &idle_thread && run_bitmap)
		this_cpu()->need_resched = true;
}

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

static void user_thread_start(void)
{
	struct thread *t = current_thread();

	free_dead_thread();
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

/* => not the idle thread.  The stack is freed by whoever runs next. */
_Noreturn void thread_exit(void)
{
	struct thread *t = current_thread();

	KASSERT(t != &idle_thread);
	if (t->proc)
		proc_thread_exited(t->proc, t);
	t->state = THREAD_DEAD;
	live_threads--;
	KASSERT(!dead_thread);
	dead_thread = t;
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

	KASSERT(t != &idle_thread && !list_linked(&t->run_link));
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

// SPDX-License-Identifier: MIT
#include "proc.h"

#include <ferry/err.h>
#include <string.h>

#include "../arch/arch.h"
#include "../ipc/allow.h"
#include "../grant/grant.h"
#include "../iommu/iommu.h"
#include "../mm/objpager.h"
#include "../mm/swap.h"
#include "../mm/tlb.h"
#include "../handle.h"
#include "../log.h"
#include "../panic.h"
#include "../pci.h"

static struct proc procs[PROC_MAX];
static uint64_t live_procs;

void proc_init(void)
{
	for (int i = 0; i < PROC_MAX; i++)
		procs[i].gen = 1;
}

struct proc *proc_current(void)
{
	struct thread *t = current_thread();

	return t ? t->proc : NULL;
}

static struct proc *slot_of(uint64_t pid)
{
	uint32_t i = handle_index(pid);

	if (pid == 0 || i >= PROC_MAX || procs[i].phase == PROC_FREE || procs[i].gen != handle_gen(pid))
		return NULL;
	return &procs[i];
}

struct proc *proc_lookup(uint64_t pid)
{
	struct proc *p = slot_of(pid);

	return p && (p->phase == PROC_LIVE || p->phase == PROC_DYING) ? p : NULL;
}

struct proc *proc_by_index(int i)
{
	if (i < 0 || i >= PROC_MAX || procs[i].phase != PROC_LIVE)
		return NULL;
	return &procs[i];
}

struct proc *proc_slot(int i)
{
	if (i < 0 || i >= PROC_MAX || procs[i].phase == PROC_FREE)
		return NULL;
	return &procs[i];
}

uint64_t proc_count(void)
{
	return live_procs;
}

bool proc_has_right(const struct proc *p, uint32_t right)
{
	return p && (p->config->rights & right) == right;
}

/*
 * The rights a new process named `name` gets: its configuration's, unless
 * it is a service and its starter may not start services (config.h).
 */
static const struct program_config *config_for(const char *name, uint64_t parent)
{
	const struct program_config *c = policy_for(name);
	struct proc *starter = proc_lookup(parent);

	if (!c->service || parent == 0 || proc_has_right(starter, RIGHT_RESTART))
		return c;
	log_warn("spawn: %s started by %s (pid %lu) runs without rights: services get theirs only"
		 " from the restart service", name, starter ? starter->name : "?",
		 (unsigned long)parent);
	return config_default();
}

uint64_t proc_service_running(const char *name)
{
	const struct program_config *c = policy_for(name);

	if (!c->service)
		return 0;
	for (int i = 0; i < PROC_MAX; i++)
		if ((procs[i].phase == PROC_LIVE || procs[i].phase == PROC_DYING) &&
		    procs[i].config == c)
			return procs[i].pid;
	return 0;
}

struct proc *proc_alloc(const char *name, const char *config_name, uint64_t parent)
{
	for (uint32_t i = 0; i < PROC_MAX; i++) {
		struct proc *p = &procs[i];
		uint32_t gen = p->gen;

		if (p->phase != PROC_FREE)
			continue;
		memset(p, 0, sizeof(*p));
		p->gen = gen;
		p->pid = handle_make(i, gen);
		p->phase = PROC_LIVE;
		p->parent = parent;
		strlcpy(p->name, name, sizeof(p->name));
		list_init(&p->threads);
		wait_queue_init(&p->child_wait);
		p->config = config_for(config_name, parent);
		if (vm_space_init(&p->vm, proc_has_right(p, RIGHT_PIN))) {
			p->phase = PROC_FREE;
			return NULL;
		}
		live_procs++;
		return p;
	}
	return NULL;
}

static void proc_free_slot(struct proc *p)
{
	p->phase = PROC_FREE;
	p->gen = handle_next_gen(p->gen);
}

/* By pid, not pointer: a new process in a dead one's slot gets its own ports. */
void proc_activate(struct proc *p)
{
	tlb_activate(&p->vm);
	if (this_cpu()->io_owner_pid != p->pid) {
		arch_set_io_permissions(p->config->io, p->config->nio);
		this_cpu()->io_owner_pid = p->pid;
	}
}

void proc_add_thread(struct proc *p, struct thread *t)
{
	list_add_tail(&p->threads, &t->proc_link);
	p->nthreads++;
}

void proc_kill(struct proc *p, long status)
{
	struct list_node *n, *tmp;

	if (p->phase != PROC_LIVE)
		return;
	p->phase = PROC_DYING;
	p->exit_status = status;
	list_for_each_safe(n, tmp, &p->threads) {
		struct thread *t = list_entry(n, struct thread, proc_link);

		if (t != current_thread())
			thread_wake(t, ERR_DEAD);	/* leaves at its kernel exit */
	}
}

void proc_abandon(struct proc *p)
{
	KASSERT(p->nthreads == 0);
	tlb_retire(&p->vm);
	vm_space_destroy(&p->vm);
	live_procs--;
	proc_free_slot(p);
}

/* Children of a dead process: zombies go, the living lose their parent. */
static void orphan_children(struct proc *p)
{
	for (int i = 0; i < PROC_MAX; i++) {
		struct proc *c = &procs[i];

		if (c->phase == PROC_FREE || c->parent != p->pid)
			continue;
		c->parent = 0;
		if (c->phase == PROC_ZOMBIE)
			proc_free_slot(c);
	}
}

/* Live grants lent to pid now, or passed on by it to the driver below (a
 * test kills a server while a request it holds is in the middle). */
static uint32_t grants_held_by(uint64_t pid)
{
	struct grant_view v;
	uint32_t n = 0;

	for (int i = 0; grant_view_live(i, &v); i++)
		n += v.holder_pid == pid || v.forwarded_from == pid;
	return n;
}

/* Does another live process run with the same configuration line as p? */
static bool config_shared(const struct proc *p)
{
	for (int i = 0; i < PROC_MAX; i++)
		if (&procs[i] != p && procs[i].phase == PROC_LIVE && procs[i].config == p->config)
			return true;
	return false;
}

/* The last thread is leaving: release everything but the slot. */
static void proc_teardown(struct proc *p)
{
	struct proc *parent;

	grant_release_holder(p);	/* its windows close before anything else */
	iommu_proc_exit(p);		/* its DMA buffers leave its device domain */
	if (p->config->ndev && !config_shared(p))
		pci_owner_died(p->config);	/* its devices stop mastering the bus */
	port_release_all(p);		/* fails the requests it was serving */
	swap_release_proc(p);
	objpager_release_proc(p);
	allow_release_proc(p);
	irq_release_all(p);
	tlb_retire(&p->vm);	/* no CPU walks its tables any more */
	if (this_cpu()->io_owner_pid == p->pid) {
		arch_set_io_permissions(NULL, 0);
		this_cpu()->io_owner_pid = 0;
	}
	vm_space_destroy(&p->vm);
	orphan_children(p);
	live_procs--;
	parent = proc_lookup(p->parent);
	if (parent) {
		p->phase = PROC_ZOMBIE;
		wait_queue_wake_all(&parent->child_wait, 0);
	} else {
		proc_free_slot(p);
	}
}

void proc_thread_exited(struct proc *p, struct thread *t)
{
	list_del(&t->proc_link);
	p->cpu_ns += t->cpu_ns;
	if (--p->nthreads > 0)
		return;
	if (p->phase == PROC_LIVE) {	/* last thread called thread_exit */
		p->phase = PROC_DYING;
		p->exit_status = 0;
	}
	proc_teardown(p);
}

static struct proc *find_zombie(struct proc *p, uint64_t pid, bool *has_child)
{
	*has_child = false;
	for (int i = 0; i < PROC_MAX; i++) {
		struct proc *c = &procs[i];

		if (c->phase == PROC_FREE || c->parent != p->pid || (pid && c->pid != pid))
			continue;
		*has_child = true;
		if (c->phase == PROC_ZOMBIE)
			return c;
	}
	return NULL;
}

long proc_wait(struct proc *p, uint64_t pid, long *status, int64_t timeout_ns)
{
	for (;;) {
		bool has_child;
		struct proc *z = find_zombie(p, pid, &has_child);
		long err;

		if (z) {
			uint64_t zpid = z->pid;

			*status = z->exit_status;
			proc_free_slot(z);
			return (long)zpid;
		}
		if (!has_child)
			return ERR_NOENT;
		if (timeout_ns == 0)
			return ERR_TIMEOUT;
		err = thread_block(&p->child_wait, THREAD_BLOCKED_WAIT, pid, timeout_ns);
		if (err)
			return err;
	}
}

static const struct thread *first_thread(const struct proc *p)
{
	return list_empty(&p->threads) ? NULL
				       : list_entry(p->threads.next, struct thread, proc_link);
}

int proc_info(long index, struct proc_info *out)
{
	for (int i = 0; i < PROC_MAX; i++) {
		const struct proc *p = &procs[i];
		const struct thread *t;

		if (p->phase != PROC_LIVE && p->phase != PROC_DYING)
			continue;
		if (index-- > 0)
			continue;
		t = first_thread(p);
		memset(out, 0, sizeof(*out));
		out->pid = (int64_t)p->pid;
		out->parent = (int64_t)p->parent;
		strlcpy(out->name, p->name, sizeof(out->name));
		strlcpy(out->image, p->image, sizeof(out->image));
		out->state = t ? t->state : THREAD_DEAD;
		out->priority = t ? (uint32_t)t->priority : 0;
		out->nthreads = (uint32_t)p->nthreads;
		out->wait_object = t ? t->wait_object : 0;
		out->resident_pages = p->vm.resident_pages;
		out->cpu_ns = p->cpu_ns;
		out->grants_held = grants_held_by(p->pid);
		/* A program from a file never has a module's rights, whatever its name. */
		out->flags = (p->image[0] || p->config != policy_for(p->name) ? PROC_INFO_STRIPPED
									      : 0) |
			     (proc_has_right(p, RIGHT_SWAP) ? PROC_INFO_SWAP : 0);
		for (const struct list_node *n = p->threads.next; n != &p->threads; n = n->next)
			out->cpu_ns += list_entry(n, struct thread, proc_link)->cpu_ns;
		return 0;
	}
	return ERR_NOENT;
}

_Noreturn void proc_fault(const char *reason, uint64_t addr, uint64_t pc)
{
	struct proc *p = proc_current();

	KASSERT(p);
	log_warn("killed process %lu (%s): %s at address %#lx, pc %#lx", (unsigned long)p->pid,
		 p->name, reason, (unsigned long)addr, (unsigned long)pc);
	proc_kill(p, PROC_STATUS_FAULT);
	thread_exit();
}

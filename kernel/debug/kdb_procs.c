// SPDX-License-Identifier: MIT
/* kdb: processes, threads, address spaces and page-table entries. */
#include <ferry/abi.h>
#include <string.h>

#include "../ipc/port.h"
#include "../mm/memobj.h"
#include "../mm/pte.h"
#include "../mm/request.h"
#include "../mm/swap.h"
#include "../proc/proc.h"
#include "kdb_cmd.h"

static const char *wait_kind(const struct thread *t)
{
	switch (t->state) {
	case THREAD_BLOCKED_RECV:
		return "port";
	case THREAD_BLOCKED_CALL:
		return "port";
	case THREAD_BLOCKED_PAGER:
		return t->wait_object ? "request" : "memory";
	case THREAD_BLOCKED_WAIT:
		return "child";
	default:
		return "-";
	}
}

static void print_thread(const struct proc *p, const struct thread *t)
{
	kdb_printf("%-8lu %-6lu %-16s %-10s %4d  %-8s %#lx\n", (unsigned long)(p ? p->pid : 0),
		   (unsigned long)t->tid, p ? p->name : t->name, thread_state_name(t->state),
		   t->priority, wait_kind(t), (unsigned long)t->wait_object);
}

static bool cmd_ps(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kdb_printf("%-8s %-6s %-16s %-10s %4s  %-8s %s\n", "PID", "TID", "NAME", "STATE", "PRIO",
		   "WAITS", "ON");
	print_thread(NULL, current_thread());	/* whoever the break interrupted */
	for (int i = 0; i < PROC_MAX; i++) {
		struct proc *p = proc_slot(i);

		if (!p)
			continue;
		for (struct list_node *n = p->threads.next; n != &p->threads; n = n->next) {
			struct thread *t = list_entry(n, struct thread, proc_link);

			if (t != current_thread())
				print_thread(p, t);
		}
	}
	return true;
}

static struct proc *proc_arg(int argc, char **argv)
{
	uint64_t pid;
	struct proc *p;

	if (argc < 2 || !kdb_number(argv[1], &pid)) {
		kdb_printf("usage: %s PID ...\n", argv[0]);
		return NULL;
	}
	p = proc_lookup(pid);
	if (!p)
		kdb_printf("no process %lu\n", (unsigned long)pid);
	return p;
}

static bool cmd_kill(int argc, char **argv)
{
	struct proc *p = proc_arg(argc, argv);

	if (p) {
		proc_kill(p, PROC_STATUS_KILLED);
		kdb_printf("killed %lu (%s): it ends when the world continues\n",
			   (unsigned long)p->pid, p->name);
	}
	return true;
}

static void print_region(struct proc *p, const struct vm_region *r)
{
	struct vm_census c;

	vm_region_census(&p->vm, r, &c);
	kdb_printf("%#014lx %#014lx %c%c%c%c %-12s %5u %6u %6u %5u %4u", (unsigned long)r->start,
		   (unsigned long)r->end, r->prot & PROT_READ ? 'r' : '-',
		   r->prot & PROT_WRITE ? 'w' : '-', r->prot & PROT_EXEC ? 'x' : '-',
		   (r->flags & VMR_PRIVATE) ? 'p' : (r->obj ? 's' : '-'), vm_region_kind(r),
		   c.resident, c.shared, c.shared_others, c.private_pages, c.swapped);
	if (r->obj)
		kdb_printf("  object %#lx (pager port %#lx, object %#lx at %#lx, %u mappings)",
			   (unsigned long)memobj_id(r->obj), (unsigned long)memobj_port(r->obj),
			   (unsigned long)r->pager_object, (unsigned long)r->pager_offset,
			   r->obj->nmappings);
	kdb_printf("%s\n", (r->flags & VMR_PINNED) ? "  pinned" : "");
}

static bool cmd_as(int argc, char **argv)
{
	struct proc *p = proc_arg(argc, argv);

	if (!p)
		return true;
	kdb_printf("pid %lu (%s%s%s) root %#lx resident %lu pages%s\n", (unsigned long)p->pid,
		   p->name, p->image[0] ? " from " : "", p->image, (unsigned long)p->vm.root,
		   (unsigned long)p->vm.resident_pages, p->vm.pinned ? " pinned" : "");
	kdb_printf("%-14s %-14s %-4s %-12s %5s %6s %6s %5s %4s\n", "START", "END", "PROT",
		   "KIND", "RES", "SHARED", "OTHERS", "PRIV", "SWAP");
	for (struct vm_region *r = p->vm.regions; r; r = r->next)
		print_region(p, r);
	kdb_printf("(PROT p: private, s: shared object; SHARED: the object's frames, OTHERS: of"
		   " them mapped elsewhere too; PRIV: its own)\n");
	return true;
}

/* One PTE in words: what the page is and where its contents are. */
void kdb_describe_pte(struct proc *p, uint64_t va);
void kdb_describe_pte(struct proc *p, uint64_t va)
{
	pte_t *pte = arch_pt_leaf(p->vm.root, va, false);
	uint64_t sw;

	kdb_printf("pid %-6lu %#018lx ", (unsigned long)p->pid, (unsigned long)va);
	if (!pte || !*pte) {
		kdb_printf("not mapped%s\n", vm_find(&p->vm, va) ? " (in a region: first touch)" : "");
		return;
	}
	if (arch_pte_present(*pte)) {
		unsigned f = arch_pte_vm_flags(*pte);

		kdb_printf("present frame %#lx %c%c%c%s%s\n", (unsigned long)arch_pte_frame(*pte),
			   'r', f & VM_WRITE ? 'w' : '-', f & VM_EXEC ? 'x' : '-',
			   arch_pte_accessed(*pte) ? " accessed" : "",
			   arch_pte_dirty(*pte) ? " dirty" : "");
		return;
	}
	sw = arch_pte_payload(*pte);
	if (pte_is_inflight(sw))
		kdb_printf("in flight: request %#lx\n", (unsigned long)pte_inflight_request(sw));
	else if (pte_is_swapped(sw))
		kdb_printf("swapped: provider %u slot %lu\n", pte_swap_provider(sw),
			   (unsigned long)pte_swap_slot(sw));
	else if (pte_is_pager(sw))
		kdb_printf("with its pager (dropped clean)\n");
	else
		kdb_printf("unknown payload %#lx\n", (unsigned long)sw);
}

static bool cmd_pte(int argc, char **argv)
{
	struct proc *p = proc_arg(argc, argv);
	uint64_t va, n = 1;

	if (!p)
		return true;
	if (argc < 3 || !kdb_number(argv[2], &va) || (argc > 3 && !kdb_number(argv[3], &n))) {
		kdb_printf("usage: pte PID ADDRESS [PAGES]\n");
		return true;
	}
	for (uint64_t i = 0; i < n && i < 64; i++)
		kdb_describe_pte(p, PAGE_ALIGN_DOWN(va) + i * PAGE_SIZE);
	return true;
}

/* Late answers are dropped without a log line each: this is where they show. */
static bool cmd_ipc(int argc, char **argv)
{
	const struct ipc_late *l = ipc_late_replies();

	(void)argc;
	(void)argv;
	kdb_printf("ports %lu live, late replies %lu dropped", (unsigned long)port_count(),
		   (unsigned long)l->count);
	if (l->count)
		kdb_printf(" (last from %s, pid %lu)", l->last_name, (unsigned long)l->last_pid);
	kdb_printf("\n");
	return true;
}

const struct kdb_cmd kdb_proc_cmds[] = {
	{ "ipc", "", "ports, and answers that came after their caller gave up", cmd_ipc },
	{ "ps", "", "threads: pid, state, priority, what a blocked one waits on", cmd_ps },
	{ "kill", "PID", "kill a process", cmd_kill },
	{ "as", "PID", "address space: regions", cmd_as },
	{ "pte", "PID VA [N]", "decode the PTEs of N pages at VA", cmd_pte },
	{ NULL, NULL, NULL, NULL },
};

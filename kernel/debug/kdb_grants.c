// SPDX-License-Identifier: MIT
/*
 * kdb: grants, live and ended, and the cross-check that proves a grant
 * from the page tables rather than by repeating the grant table.
 */
#include <ferry/abi.h>
#include <string.h>

#include "../arch/arch.h"
#include "../grant/grant.h"
#include "../iommu/iommu.h"
#include "../mm/fault_stats.h"
#include "../mm/pmm.h"
#include "../proc/proc.h"
#include "kdb.h"
#include "kdb_cmd.h"

void kdb_describe_pte(struct proc *p, uint64_t va);

static const char *const outcome_names[] = {
	[GRANT_COMPLETED] = "completed",
	[GRANT_FAILED] = "failed",
	[GRANT_REVOKED] = "revoked",
	[GRANT_OVERTIME] = "overtime",
};

static void print_header(void)
{
	kdb_printf("%-8s %-9s %-5s %-12s %-7s %-16s %-7s %-16s %-2s %-7s %s\n", "ID", "STATE",
		   "MODE", "FRAME", "FAULTER", "FAULT-VA", "HOLDER", "WINDOW", "RW", "FWDFROM",
		   "AGE-MS");
}

static void print_view(const struct grant_view *v)
{
	const char *state = v->live ? (v->revoked ? "revoked" : "lent") : outcome_names[v->outcome];

	kdb_printf("%#-8lx %-9s %-5s %#-12lx %-7lu %#-16lx %-7lu %#-16lx %-2s %-7lu %lu\n",
		   (unsigned long)v->id, state, fill_mode_name(v->mode), (unsigned long)v->frame0,
		   (unsigned long)v->fault_pid, (unsigned long)v->fault_va,
		   (unsigned long)v->holder_pid, (unsigned long)v->window,
		   v->writable ? "rw" : "ro", (unsigned long)v->forwarded_from,
		   (unsigned long)(v->age_ns / 1000000));
}

static bool cmd_grants(int argc, char **argv)
{
	struct grant_view v;

	(void)argc;
	(void)argv;
	print_header();
	for (int i = 0; grant_view_live(i, &v); i++)
		print_view(&v);
	kdb_printf("live grants: %d\n", grant_live_count());
	return true;
}

static bool cmd_history(int argc, char **argv)
{
	struct grant_view v;
	uint64_t n = 10;

	if (argc > 1 && !kdb_number(argv[1], &n))
		n = 10;
	print_header();
	for (int i = 0; (uint64_t)i < n && grant_view_history(i, &v); i++) {
		print_view(&v);
		kdb_printf("         phases (cycles from fault):");
		for (int ph = 0; ph < NPHASES; ph++)
			kdb_printf(" %s=%lu", fault_phase_name((enum fault_phase)ph),
				   (unsigned long)v.phase_cycles[ph]);
		kdb_printf("\n");
	}
	return true;
}

static bool find_view(uint64_t id, struct grant_view *v)
{
	for (int i = 0; grant_view_live(i, v); i++)
		if (v->id == id)
			return true;
	for (int i = 0; grant_view_history(i, v); i++)
		if (v->id == id)
			return true;
	return false;
}

/* What the holder's device reaches, from its domain's page table. */
static void device_view(const struct grant_view *v, int i)
{
	uint64_t iova = v->iova + (uint64_t)i * PAGE_SIZE, base;
	paddr_t pa;
	bool r, w, writes;
	int did;

	if (!v->live) {
		if (v->iova)
			kdb_printf("  device  no mapping: grant ended (was %#lx)\n",
				   (unsigned long)iova);
		return;
	}
	if (!iommu_translating()) {
		kdb_printf("  device  no IOMMU: the holder's device may reach any frame (DMA is"
			   " trusted)\n");
		return;
	}
	if (!iommu_grant_view(v->id, &did, &base, &writes)) {
		kdb_printf("  device  none: holder pid %lu has no device domain\n",
			   (unsigned long)v->holder_pid);
		return;
	}
	if (!iommu_device_frame(v->id, iova, &pa, &r, &w)) {
		kdb_printf("  device  domain %d %#018lx not mapped: MISMATCH\n", did,
			   (unsigned long)iova);
		return;
	}
	kdb_printf("  device  domain %d %#018lx -> frame %#lx %c%c %s\n", did, (unsigned long)iova,
		   (unsigned long)pa, r ? 'r' : '-', w ? 'w' : '-',
		   pa != v->frames[i] ? "MISMATCH" : w ? "(write-only: the device fills it)"
						     : "(read-only: the device drains it)");
}

/* What each address space maps at the grant's two ends, frame by frame. */
static void cross_check(const struct grant_view *v)
{
	struct proc *holder = proc_lookup(v->holder_pid);
	struct proc *faulter = proc_lookup(v->fault_pid);

	for (int i = 0; i < v->npages; i++) {
		paddr_t f = v->frames[i];
		struct frame *fr = pmm_frame(f);
		paddr_t pa;

		kdb_printf("page %d: frame %#lx (%s)\n", i, (unsigned long)f,
			   fr ? frame_use_name((enum frame_use)fr->use) : "?");
		if (holder && v->window) {
			kdb_printf("  holder  ");
			kdb_describe_pte(holder, v->window + (uint64_t)i * PAGE_SIZE);
			if (arch_pt_query(holder->vm.root, v->window + (uint64_t)i * PAGE_SIZE, &pa,
					  NULL))
				kdb_printf("  holder window -> frame %#lx: %s\n", (unsigned long)pa,
					   pa == f ? "the granted frame" : "MISMATCH");
		} else if (v->live && v->mode == FILL_GRANT_DMA) {
			kdb_printf("  holder  pid %lu has no mapping: DMA grant, device address only\n",
				   (unsigned long)v->holder_pid);
		} else {
			kdb_printf("  holder  no mapping: %s\n", v->live ? "revoked" : "grant ended");
		}
		device_view(v, i);
		if (faulter && v->fault_va == 0) {	/* a memory object's page, no fault */
			kdb_printf("  for pid %lu: %s\n", (unsigned long)v->fault_pid, v->writable
				   ? "the kernel reads a memory object's page (a program's headers)"
				   : "a memory object's dirty page, written back");
		} else if (faulter) {
			kdb_printf("  faulter ");
			kdb_describe_pte(faulter, v->fault_va + (uint64_t)i * PAGE_SIZE);
			if (arch_pt_query(faulter->vm.root, v->fault_va + (uint64_t)i * PAGE_SIZE, &pa,
					  NULL))
				kdb_printf("  faulter maps -> frame %#lx: %s\n", (unsigned long)pa,
					   pa == f ? "the granted frame" : "another frame");
		}
	}
}

static bool cmd_grant(int argc, char **argv)
{
	struct grant_view v;
	uint64_t id;

	if (argc < 2 || !kdb_number(argv[1], &id)) {
		kdb_printf("usage: grant ID\n");
		return true;
	}
	if (!find_view(id, &v)) {
		kdb_printf("no grant %#lx, live or in the last %d\n", (unsigned long)id,
			   GRANT_HISTORY);
		return true;
	}
	print_header();
	print_view(&v);
	kdb_printf("request %#lx, %d page%s, %s\n", (unsigned long)v.request, v.npages,
		   v.npages == 1 ? "" : "s", v.writable ? "page-in" : "page-out");
	cross_check(&v);
	kdb_prp_view(&v);
	return true;
}

static bool cmd_break(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "grant") && strcmp(argv[1], "off"))) {
		kdb_printf("usage: break grant | break off\n");
		return true;
	}
	kdb_break_on_grant = strcmp(argv[1], "grant") == 0;
	kdb_step_grant = 0;
	kdb_printf("break on next grant: %s\n", kdb_break_on_grant ? "armed" : "off");
	return true;
}

static bool cmd_step(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!kdb_step_grant) {
		kdb_printf("not stopped at a grant (use 'break grant', then continue)\n");
		return true;
	}
	kdb_printf("stepping grant %#lx to its next phase\n", (unsigned long)kdb_step_grant);
	return false;
}

const struct kdb_cmd kdb_grant_cmds[] = {
	{ "grants", "", "live grants", cmd_grants },
	{ "history", "[N]", "the last N ended grants, outcome and phase times", cmd_history },
	{ "grant", "ID", "one grant, cross-checked in both page tables and its device domain",
	  cmd_grant },
	{ "break", "grant|off", "stop the world when the next grant is lent", cmd_break },
	{ "step", "", "run the stopped grant to its next phase", cmd_step },
	{ NULL, NULL, NULL, NULL },
};

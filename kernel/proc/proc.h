/* SPDX-License-Identifier: MIT */
/*
 * Processes.  A process is an address space, its threads, the ports it
 * owns and the rights its boot configuration entry grants.  pids are
 * handles (index + generation).
 *
 * Life: spawn -> live (threads run) -> dying (exit, kill or fault: every
 * thread is woken and leaves at its next kernel exit) -> the last thread
 * out releases ports, IRQs and memory -> zombie until the parent collects
 * the status with sys_wait (or freed at once when nobody can).
 */
#ifndef PROC_H
#define PROC_H

#include <ferry/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "../policy.h"
#include "../list.h"
#include "../mm/vm.h"
#include "thread.h"

#define PROC_MAX	64
#define PROC_THREADS_MAX 16

enum proc_phase { PROC_FREE, PROC_LIVE, PROC_DYING, PROC_ZOMBIE };

struct proc {
	uint64_t pid;
	uint32_t gen;
	enum proc_phase phase;
	char name[PROC_NAME_MAX];
	char image[PROC_IMAGE_MAX];	/* the file it runs from; "" for a boot module */
	uint64_t parent;		/* pid, 0 for none */
	struct vm_space vm;
	const struct program_config *config;
	struct list_node threads;
	int nthreads;
	long exit_status;
	struct wait_queue child_wait;	/* own threads waiting in sys_wait */
	uint32_t irqs;			/* attached IRQ lines */
	uint64_t cpu_ns;		/* of threads that have exited */
};

void proc_init(void);
struct proc *proc_current(void);
struct proc *proc_lookup(uint64_t pid);	/* live or dying only */
/* => pid, or ERR_NOENT / ERR_NOEXEC / ERR_NOMEM. */
long proc_spawn(const char *module, const char *args, uint64_t parent);
/*
 * A program from a file: object `object` at the pager behind `port` (fs:
 * the file's handle), named `path` (its rights are the boot
 * configuration's line for that path, its name the path's last part).
 * The calling thread reads the headers through the file's memory object
 * (memobj.h), sleeping in pager-io meanwhile; its segments are mapped
 * from the object, nothing loaded.  => pid, or ERR_NOEXEC (logged with
 * the reason), ERR_BUSY (the file is mapped shared and writable), ERR_PERM,
 * ERR_NOMEM, or the page-in's error.
 */
long proc_spawn_file(uint64_t port, uint64_t object, const char *path, const char *args,
		     uint64_t parent);
/* For spawn: a live process with no threads yet, whose rights are the
 * configuration's for `config_name`; and undoing one. */
struct proc *proc_alloc(const char *name, const char *config_name, uint64_t parent);
/* The pid of the running instance (with its rights) of service `name`, or 0. */
uint64_t proc_service_running(const char *name);
void proc_abandon(struct proc *p);
/* Starts the death of p with `status`; the caller's own thread leaves at kernel exit. */
void proc_kill(struct proc *p, long status);
/* Asked on every fault, message and request end: one load, inline. */
static inline bool proc_is_dying(const struct proc *p)
{
	return p->phase != PROC_LIVE;
}
bool proc_has_right(const struct proc *p, uint32_t right);
void proc_activate(struct proc *p);
void proc_add_thread(struct proc *p, struct thread *t);
void proc_thread_exited(struct proc *p, struct thread *t);
/* sys_wait: => pid of an ended child with *status, ERR_NOENT, ERR_TIMEOUT. */
long proc_wait(struct proc *p, uint64_t pid, long *status, int64_t timeout_ns);
int proc_info(long index, struct proc_info *out);
uint64_t proc_count(void);
/* The live process in table slot i, or NULL (for scans like the page-out clock). */
struct proc *proc_by_index(int i);
/* Any non-free slot, zombies and dying included (for the debug console). */
struct proc *proc_slot(int i);
/* Kills the current process for a CPU exception in user mode, with a log line. */
_Noreturn void proc_fault(const char *reason, uint64_t addr, uint64_t pc);

/* Hooks other subsystems provide for process teardown. */
void port_release_all(struct proc *p);
void irq_release_all(struct proc *p);

#endif

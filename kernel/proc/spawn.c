// SPDX-License-Identifier: MIT
/*
 * Starting a program from a boot module: validate the ELF (elf.c), build
 * the address space segment by segment, give it a stack with its argument
 * string on top, and start its first thread at the entry point with
 * rdi = the argument string, rsi = its pid (the start-up ABI crt0 expects).
 */
#include <ferry/err.h>
#include <string.h>

#include "../bootinfo.h"
#include "../config.h"
#include "../log.h"
#include "../uaccess.h"
#include "elf.h"
#include "proc.h"

static int load_segment(struct proc *p, const uint8_t *image, const struct elf_segment *s)
{
	uint64_t start = PAGE_ALIGN_DOWN(s->vaddr), out;
	size_t len = PAGE_ALIGN_UP(s->vaddr + s->memsz) - start;
	int err = vm_map_anon(&p->vm, start, len, s->prot, VMR_IMAGE, &out);

	if (err)
		return err;
	/* Fresh zeroed pages: write the file part, whatever the final protection. */
	return vm_copy_in(&p->vm, s->vaddr, image + s->offset, s->filesz);
}

static int build_stack(struct proc *p, const char *args, uint64_t *rsp, uint64_t *uargs)
{
	size_t n = strlen(args) + 1;
	uint64_t base;
	int err = vm_map_anon(&p->vm, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_SIZE,
			      PROT_READ | PROT_WRITE, VMR_STACK, &base);

	if (err)
		return err;
	*uargs = (USER_STACK_TOP - n) & ~15UL;
	*rsp = *uargs - 16;	/* 16-byte aligned, as crt0 expects */
	return copy_to_user(p, *uargs, args, n);
}

long proc_spawn(const char *module, const char *args, uint64_t parent)
{
	const struct boot_module *m = boot_find_module(boot_info(), module);
	struct elf_image img;
	const char *why;
	uint64_t rsp, uargs;
	struct proc *p;
	int err = 0;

	if (!m)
		return ERR_NOENT;
	if (proc_has_right(proc_lookup(parent), RIGHT_RESTART) && proc_service_running(module)) {
		log_warn("spawn: service %s is already running (pid %lu): not starting another",
			 module, (unsigned long)proc_service_running(module));
		return ERR_EXIST;
	}
	if (elf_parse(phys_to_virt(m->start), m->end - m->start, USER_MIN, USER_STACK_TOP -
		      USER_STACK_SIZE, &img, &why)) {
		log_warn("spawn: module '%s' refused: %s", module, why);
		return ERR_NOEXEC;
	}
	p = proc_alloc(module, parent);
	if (!p)
		return ERR_NOMEM;
	for (int i = 0; i < img.nsegments && !err; i++)
		err = load_segment(p, phys_to_virt(m->start), &img.seg[i]);
	if (!err)
		err = build_stack(p, args && *args ? args : m->args, &rsp, &uargs);
	if (!err && !thread_create_user(p, img.entry, rsp, uargs, p->pid, p->config->priority))
		err = ERR_NOMEM;
	if (err) {
		proc_abandon(p);
		return err;
	}
	log_debug("spawn: %s as pid %lu", module, (unsigned long)p->pid);
	return (long)p->pid;
}

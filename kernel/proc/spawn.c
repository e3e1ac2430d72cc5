// SPDX-License-Identifier: MIT
/*
 * Starting a program, from a boot module or from a file.  Either way the
 * ELF is validated by elf.c before anything is built; then the address
 * space gets its segments, a stack with the argument string on top, and
 * its first thread starts at the entry point with rdi = the argument
 * string, rsi = its pid (the start-up ABI crt0 expects).
 *
 *   boot module  copied: each segment becomes anonymous memory filled now
 *                (the module stays in RAM for the next spawn)
 *   file         demand-paged: each segment maps the file's memory object
 *                (memobj.h): text and read-only data shared with every
 *                other mapping of the file, writable data private
 *                (copy-on-write), the bss past the file part demand-zero.
 *                The headers are read through the object, page-ins like
 *                any fault's, the calling thread waiting in pager-io; no
 *                other byte is loaded before it is touched.
 */
#include <ferry/err.h>
#include <string.h>

#include "../bootinfo.h"
#include "../config.h"
#include "../log.h"
#include "../mm/fault.h"
#include "../mm/memobj.h"
#include "../uaccess.h"
#include "elf.h"
#include "proc.h"

#define USER_IMAGE_TOP	(USER_STACK_TOP - USER_STACK_SIZE)

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

/* The stack and the first thread of a process whose segments are mapped. */
static long start(struct proc *p, const struct elf_image *img, const char *args)
{
	uint64_t rsp, uargs;
	int err = build_stack(p, args, &rsp, &uargs);

	if (!err && !thread_create_user(p, img->entry, rsp, uargs, p->pid, p->config->priority))
		err = ERR_NOMEM;
	if (err) {
		proc_abandon(p);
		return err;
	}
	log_debug("spawn: %s as pid %lu", p->image[0] ? p->image : p->name, (unsigned long)p->pid);
	return (long)p->pid;
}

long proc_spawn(const char *module, const char *args, uint64_t parent)
{
	const struct boot_module *m = boot_find_module(boot_info(), module);
	struct elf_image img;
	const char *why;
	struct proc *p;
	int err = 0;

	if (!m)
		return ERR_NOENT;
	if (proc_has_right(proc_lookup(parent), RIGHT_RESTART) && proc_service_running(module)) {
		log_warn("spawn: service %s is already running (pid %lu): not starting another",
			 module, (unsigned long)proc_service_running(module));
		return ERR_EXIST;
	}
	if (elf_parse(phys_to_virt(m->start), m->end - m->start, USER_MIN, USER_IMAGE_TOP, &img,
		      &why)) {
		log_warn("spawn: module '%s' refused: %s", module, why);
		return ERR_NOEXEC;
	}
	p = proc_alloc(module, module, parent);
	if (!p)
		return ERR_NOMEM;
	for (int i = 0; i < img.nsegments && !err; i++)
		err = load_segment(p, phys_to_virt(m->start), &img.seg[i]);
	if (err) {
		proc_abandon(p);
		return err;
	}
	return start(p, &img, args && *args ? args : m->args);
}

/* --- from a file --- */

struct file_source {
	struct proc *reader;	/* whose thread waits for the page-ins */
	struct memobj *obj;
};

static long read_object(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct file_source *f = ctx;

	return fault_read_object(f->reader, f->obj, off, buf, len);
}

/*
 * The file's size, which its pager tells with the first page it sends
 * (proto/pager.h).  => 0 with *size, or the page-in's error; ERR_NOSYS
 * when the pager does not say.
 */
static long file_size(struct file_source *f, uint64_t *size)
{
	uint8_t byte;
	long err = fault_read_object(f->reader, f->obj, 0, &byte, 1);

	*size = 0;
	if (err == ERR_RANGE)
		return 0;	/* not even one page: an empty file */
	if (err)
		return err;
	*size = f->obj->size;
	return *size ? 0 : ERR_NOSYS;
}

static const char *last_part(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Validates the file's ELF headers, read through its object.  => 0, or logged. */
static long check_file(struct file_source *f, const char *path, struct elf_image *img)
{
	struct elf_source src = { read_object, f, 0 };
	const char *why;
	long err = file_size(f, &src.size);

	if (err) {
		log_warn("spawn: %s refused: %s (%s)", path, err == ERR_NOSYS
			 ? "its pager does not tell the file's size" : "its first page could not be read",
			 err_str(err));
		return err == ERR_NOSYS ? ERR_NOEXEC : err;
	}
	err = elf_parse_from(&src, USER_MIN, USER_IMAGE_TOP, img, &why);
	if (err == ERR_NOEXEC)
		log_warn("spawn: %s refused: %s", path, why);
	else if (err)
		log_warn("spawn: %s refused: %s (%s)", path, why, err_str(err));
	return err;
}

/*
 * One segment from the object: [vaddr, vaddr + memsz) over the file's
 * [offset, offset + filesz); bytes past the file part are zero (a region
 * with memsz > filesz), and the pages the file part does not reach are
 * demand-zero (vm.h).
 */
static int map_segment(struct proc *p, struct memobj *o, const struct elf_segment *s)
{
	uint64_t start = PAGE_ALIGN_DOWN(s->vaddr), end = PAGE_ALIGN_UP(s->vaddr + s->memsz);
	uint64_t file_end = s->memsz > s->filesz ? s->vaddr + s->filesz : end;

	return vm_map_image(&p->vm, o, start, end, PAGE_ALIGN_DOWN(s->offset), file_end, s->prot);
}

static long build(struct memobj *o, const char *path, const char *args, uint64_t parent,
		  const struct elf_image *img)
{
	struct proc *p = proc_alloc(last_part(path), path, parent);
	int err = 0;

	if (!p)
		return ERR_NOMEM;
	strlcpy(p->image, path, sizeof(p->image));
	if (p->vm.pinned) {
		log_warn("spawn: %s refused: its configuration pins it, and a program from a file"
			 " pages", path);
		err = ERR_PERM;
	}
	for (int i = 0; i < img->nsegments && !err; i++)
		err = map_segment(p, o, &img->seg[i]);
	if (err == ERR_BUSY)
		log_warn("spawn: %s refused: the file is mapped shared and writable", path);
	if (err) {
		proc_abandon(p);
		return err;
	}
	return start(p, img, args && *args ? args : last_part(path));
}

long proc_spawn_file(uint64_t port, uint64_t object, const char *path, const char *args,
		     uint64_t parent)
{
	struct file_source f = { proc_lookup(parent), memobj_get(port, object) };
	struct elf_image img;
	long err;

	if (!f.obj)
		return ERR_NOMEM;
	err = f.obj->shared_writable ? ERR_BUSY : check_file(&f, path, &img);
	if (err == ERR_BUSY)
		log_warn("spawn: %s refused: the file is mapped shared and writable", path);
	if (!err)
		err = build(f.obj, path, args, parent, &img);
	memobj_put(f.obj);	/* the segments hold their own references */
	return err;
}

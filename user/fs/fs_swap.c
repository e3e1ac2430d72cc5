// SPDX-License-Identifier: MIT
/*
 * Swap files (<proto/fs.h>, FS_SWAPFILE) and open-for-writing leases.
 *
 * A swap provider asks for a file by path; fs checks it the way Linux's
 * swapon does, then gives the provider the file's block map once, as
 * extents, and makes the kernel stamp an allowance (kernel/ipc/allow.h)
 * naming the provider and those sectors of our partition.  The provider
 * then reads and writes the file's pages by raw block I/O through ata,
 * which serves it those sectors and nothing else (user/ata/access.c): fs
 * is not on the paging path, and no block of the file system outside the
 * file can be reached that way.
 *
 *   1. who: a process with the `swap` right (the kernel says so);
 *   2. what: a regular file of >= 2 whole pages, on a read-write mount;
 *   3. held by nobody: no live allowance for it, no lease of another
 *      process (FS_O_WRITE), no mapping (the kernel counts them);
 *   4. not sparse: every block of its whole pages allocated;
 *   5. a mkswap header: SWAPSPACE2, version 1 (swapd checks the rest);
 *   6. at most FS_SWAP_EXTENTS contiguous pieces on disk.
 *
 * While it is swap, every other use is refused with ERR_BUSY and a log
 * line: read (it holds other processes' pages), write, truncate, rename
 * (from or onto it), unlink, page-in and page-out of a mapping, open for
 * writing.  It stops being swap when its allowance is not live (the
 * provider died) and the kernel no longer keeps its pages for a restarted
 * provider (VM_CTL_SWAP_AREA): until then a successor may take it.  A
 * restarted fs learns which files are swap from the allowances its
 * predecessor made (ALLOW_LIST): the allowance names the swap area
 * (ai_area), and the kernel keeps it, suspended, after its grantee's
 * death for as long as it keeps the area for a successor, so even when
 * swapd and fs both die there is no moment at which a restarted fs could
 * let the file be written while it holds pages (kernel/ipc/allow.h).  The
 * block cache forgets the file's blocks when it becomes swap and
 * everything when it stops being swap: swapd wrote them behind the
 * cache's back.
 */
#include <ferry/sys.h>
#include <proc.h>
#include <proto/block.h>
#include <proto/fs.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"

#define SWAP_PAGE		4096
#define SWAP_MAGIC_AT		(SWAP_PAGE - 10)
#define SWAP_VERSION_AT		1024
#define SWAP_UUID_AT		(1024 + 12)
#define ALLOW_MAX_LISTED	16	/* more than the kernel keeps (ALLOW_MAX) */

/* --- is it swap now? --- */

static bool allowance_live(uint64_t id)
{
	return id && sys_allow(ALLOW_LIVE, (long)id, NULL) == 0;
}

/* Still swap: its provider lives, or the kernel keeps its pages for the next. */
static bool still_swap(struct fs_swapfile *sf, bool *orphaned)
{
	*orphaned = false;
	if (allowance_live(sf->allowance))
		return true;
	*orphaned = sys_vm_ctl(VM_CTL_SWAP_AREA, 0, sf->area) == 1;
	return *orphaned;
}

static struct fs_swapfile *swapfile_of(struct fs_server *s, uint32_t ino, bool *orphaned)
{
	for (int i = 0; i < FS_SWAPFILES; i++) {
		struct fs_swapfile *sf = &s->swapfiles[i];

		if (!sf->used || sf->ino != ino)
			continue;
		if (still_swap(sf, orphaned))
			return sf;
		sf->used = false;	/* its provider is gone for good */
		sys_allow(ALLOW_REVOKE, (long)sf->allowance, NULL);	/* if suspended still */
		/* Its blocks were written behind the cache's back: forget them
		 * all (nothing in it is dirty between requests). */
		bcache_drop_all(&s->bc);
	}
	return NULL;
}

long fs_swap_guard(struct fs_server *s, uint32_t ino, const char *what)
{
	bool orphaned;
	struct fs_swapfile *sf = swapfile_of(s, ino, &orphaned);

	if (!sf)
		return 0;
	if (orphaned)
		printf("fs: %s inode %u refused: it is swap (its pages wait for a restarted swap"
		       " provider)\n", what, ino);
	else
		printf("fs: %s inode %u refused: it is swap (allowance %#llx)\n", what, ino,
		       (unsigned long long)sf->allowance);
	return ERR_BUSY;
}

/* --- open-for-writing leases --- */

static bool alive(uint64_t pid, struct proc_info *info)
{
	return proc_find((long)pid, info) == 0;
}

/* A lease on ino of a live process other than `except`, or NULL. */
static struct fs_writer *writer_of(struct fs_server *s, uint32_t ino, uint64_t except,
				   struct proc_info *info)
{
	for (int i = 0; i < FS_WRITERS; i++) {
		struct fs_writer *w = &s->writers[i];

		if (!w->ino)
			continue;
		if (!alive(w->pid, info))
			w->ino = 0;	/* the client is gone: so is its lease */
		else if (w->ino == ino && w->pid != except)
			return w;
	}
	return NULL;
}

long fs_writer_open(struct fs_server *s, uint32_t ino, uint64_t pid)
{
	struct proc_info info;
	long err = fs_swap_guard(s, ino, "opening for writing");

	if (err)
		return err;
	writer_of(s, 0, 0, &info);	/* drop the leases of the dead */
	for (int i = 0; i < FS_WRITERS; i++) {
		if (!s->writers[i].ino) {
			s->writers[i] = (struct fs_writer){ .ino = ino, .pid = pid };
			return 0;
		}
	}
	printf("fs: opening inode %u for writing refused: %d files are open for writing\n", ino,
	       FS_WRITERS);
	return ERR_BUSY;
}

long fs_op_close(struct fs_server *s, const struct msg *m, struct msg *a)
{
	uint32_t ino = FS_HANDLE_INO(m->arg[0]);

	(void)a;
	for (int i = 0; i < FS_WRITERS; i++)
		if (s->writers[i].ino == ino && s->writers[i].pid == m->sender) {
			s->writers[i].ino = 0;
			break;	/* one lease per open */
		}
	return 0;
}

/* --- validation --- */

struct candidate {
	uint32_t ino;
	uint64_t handle, size, pages;
	struct fs_extent ext[FS_SWAP_EXTENTS];
	int next;
	uint8_t uuid[16];
};

/* Who asks, and what it asks for.  => 0 or the refusal (*why). */
static long check_file(struct fs_server *s, const struct msg *m, const char *path,
		       struct candidate *c, const char **why)
{
	struct proc_info info;
	struct ext2_stat st;
	long err;

	if (proc_find((long)m->sender, &info) || !(info.flags & PROC_INFO_SWAP)) {
		*why = "only a swap provider may ask";
		return ERR_PERM;
	}
	if (s->fs.read_only) {
		*why = "the file system is mounted read-only";
		return ERR_PERM;
	}
	err = ext2_lookup(&s->fs, path, &c->ino);
	if (!err)
		err = ext2_stat(&s->fs, c->ino, &st);
	if (err) {
		*why = err == ERR_NOENT ? "no such file" : "cannot look it up";
		return err;
	}
	if (FS_MODE_TYPE(st.mode) != FS_TYPE_REG) {
		*why = "not a regular file";
		return ERR_INVAL;
	}
	c->handle = FS_HANDLE(c->ino, st.generation);
	c->size = st.size;
	c->pages = st.size / SWAP_PAGE;
	if (c->pages < 2) {
		*why = "smaller than two pages (a header and one slot)";
		return ERR_INVAL;
	}
	return 0;
}

/* Nobody else holds it: not swap, not open for writing, not mapped. */
static long check_free(struct fs_server *s, const struct msg *m, const struct candidate *c,
		       const char **why)
{
	static char buf[96];
	struct proc_info info;
	bool orphaned;
	long maps;

	if (swapfile_of(s, c->ino, &orphaned) && !orphaned) {
		*why = "it is already swap for a live provider";
		return ERR_BUSY;
	}
	if (writer_of(s, c->ino, m->sender, &info)) {
		snprintf(buf, sizeof(buf), "it is open for writing by %s (pid %lld)", info.name,
			 (long long)info.pid);
		*why = buf;
		return ERR_BUSY;
	}
	maps = sys_vm_ctl(VM_CTL_OBJECT_MAPPED, s->port, (void *)&c->handle);
	if (maps != 0) {
		snprintf(buf, sizeof(buf), "it is mapped (%ld mapping%s)", maps,
			 maps == 1 ? "" : "s");
		*why = maps < 0 ? "cannot ask the kernel for its mappings" : buf;
		return ERR_BUSY;
	}
	return 0;
}

/* Every block of its whole pages, as extents of sectors.  => 0 or the refusal. */
static long block_map(struct fs_server *s, struct candidate *c, const char **why)
{
	static char buf[96];
	uint32_t bs = s->fs.block_size, spb = bs / 512;
	uint64_t blocks = c->pages * SWAP_PAGE / bs;

	c->next = 0;
	for (uint64_t fb = 0; fb < blocks; fb++) {
		struct fs_extent *e = c->next ? &c->ext[c->next - 1] : NULL;
		uint32_t block;
		uint64_t size;
		long err = ext2_file_block(&s->fs, c->ino, fb, false, &block, &size);

		if (err) {
			*why = "its block map is unreadable";
			return err;
		}
		if (!block) {
			snprintf(buf, sizeof(buf), "a hole at block %llu (byte %llu): a sparse file"
				 " cannot be swap", (unsigned long long)fb,
				 (unsigned long long)(fb * bs));
			*why = buf;
			return ERR_INVAL;
		}
		if (e && e->fe_sector + e->fe_count == (uint64_t)block * spb) {
			e->fe_count += spb;
			continue;
		}
		if (c->next == FS_SWAP_EXTENTS) {
			snprintf(buf, sizeof(buf), "too fragmented: more than %d extents on disk",
				 FS_SWAP_EXTENTS);
			*why = buf;
			return ERR_RANGE;
		}
		c->ext[c->next++] = (struct fs_extent){ .fe_logical = fb * spb,
							.fe_sector = (uint64_t)block * spb,
							.fe_count = spb };
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The first page: a mkswap header.  => 0 or the refusal. */
static long check_header(struct fs_server *s, struct candidate *c, const char **why)
{
	static uint8_t page[SWAP_PAGE];
	long n = ext2_read(&s->fs, c->ino, 0, page, sizeof(page));

	if (n != SWAP_PAGE) {
		*why = "its first page is unreadable";
		return ERR_IO;
	}
	if (memcmp(page + SWAP_MAGIC_AT, "SWAPSPACE2", 10) != 0) {
		*why = "no mkswap header (no SWAPSPACE2 at byte 4086)";
		return ERR_INVAL;
	}
	if (le32(page + SWAP_VERSION_AT) != 1) {
		*why = "a swap header of another version than 1";
		return ERR_INVAL;
	}
	memcpy(c->uuid, page + SWAP_UUID_AT, sizeof(c->uuid));
	return 0;
}

/* The kernel's allowance: the sender may have ata touch exactly these sectors. */
static long make_allowance(struct fs_server *s, const struct msg *m, const struct candidate *c,
			   const char **why)
{
	static struct allow_info ai;
	long id;

	memset(&ai, 0, sizeof(ai));
	ai.ai_grantee = m->sender;
	ai.ai_tag = s->part;
	ai.ai_object = c->handle;
	memcpy(ai.ai_area, c->uuid, sizeof(ai.ai_area));	/* kept past swapd's death */
	ai.ai_nranges = (uint32_t)c->next;
	for (int i = 0; i < c->next; i++)
		ai.ai_ranges[i] = (struct allow_range){ .ar_start = c->ext[i].fe_sector,
							.ar_count = c->ext[i].fe_count };
	id = sys_allow(ALLOW_CREATE, 0, &ai);
	if (id < 0)
		*why = "the kernel made no allowance";
	return id;
}

/*
 * A successor's allowance takes its predecessor's place, which is revoked
 * (suspended, it would outlive its use); a live one is never replaced by
 * one that is not (a restarted fs may list both).
 * => 0, or ERR_BUSY when every slot holds a file that is still swap.
 */
static long remember(struct fs_server *s, const struct candidate *c, uint64_t allowance)
{
	struct fs_swapfile *slot = NULL;
	bool orphaned;

	for (int i = 0; i < FS_SWAPFILES; i++) {
		struct fs_swapfile *sf = &s->swapfiles[i];

		if (sf->used && sf->ino == c->ino)
			slot = sf;
		else if (!slot && (!sf->used || !still_swap(sf, &orphaned)))
			slot = sf;
	}
	if (!slot)
		return ERR_BUSY;
	if (slot->used && slot->ino == c->ino && slot->allowance != allowance) {
		if (allowance_live(slot->allowance) && !allowance_live(allowance))
			return 0;
		sys_allow(ALLOW_REVOKE, (long)slot->allowance, NULL);
	}
	*slot = (struct fs_swapfile){ .used = true, .ino = c->ino, .handle = c->handle,
				      .allowance = allowance };
	memcpy(slot->area, c->uuid, sizeof(slot->area));
	return 0;
}

long fs_op_swapfile(struct fs_server *s, const struct msg *m, struct msg *a)
{
	static struct candidate c;
	const char *path, *why = NULL;
	long err;

	if (!(m->flags & MSG_PAGE) || strnlen(m->page, FS_PATH_MAX + 1) > FS_PATH_MAX)
		return ERR_INVAL;
	path = m->page;
	err = check_file(s, m, path, &c, &why);
	if (!err)
		err = check_free(s, m, &c, &why);
	if (!err)
		err = block_map(s, &c, &why);
	if (!err)
		err = check_header(s, &c, &why);
	if (!err)
		err = make_allowance(s, m, &c, &why);
	if (err > 0 && remember(s, &c, (uint64_t)err)) {
		sys_allow(ALLOW_REVOKE, err, NULL);	/* fs could not guard the file */
		why = "fs already guards as many swap files as it can (FS_SWAPFILES)";
		err = ERR_BUSY;
	}
	if (err < 0) {
		printf("fs: swap file %s refused for pid %llu: %s\n", path,
		       (unsigned long long)m->sender, why ? why : err_str(err));
		return err;
	}
	/* From now on swapd writes these blocks behind our cache's back. */
	for (int i = 0; i < c.next; i++)
		bcache_invalidate(&s->bc, c.ext[i].fe_sector * 512, c.ext[i].fe_count * 512);
	printf("fs: %s is swap for pid %llu: %llu pages in %d extent%s, allowance %#lx\n", path,
	       (unsigned long long)m->sender, (unsigned long long)c.pages, c.next,
	       c.next == 1 ? "" : "s", err);
	a->arg[0] = (uint64_t)err;
	a->arg[1] = s->part;
	a->arg[2] = c.size;
	a->arg[3] = (uint64_t)c.next;
	a->arg[4] = c.handle;
	a->arg[5] = (uint64_t)s->ata.pid;	/* our disk's driver: swapd must ask the same */
	memcpy(s->tx, c.ext, (size_t)c.next * sizeof(c.ext[0]));
	memset(s->tx + (size_t)c.next * sizeof(c.ext[0]), 0,
	       MSG_PAGE_SIZE - (size_t)c.next * sizeof(c.ext[0]));
	a->page = s->tx;
	a->flags = MSG_WITH_PAGES(1);
	return 0;
}

/*
 * Our predecessor's allowances, live or suspended (kernel/ipc/allow.h):
 * the files that are swap, or hold pages the kernel keeps for a restarted
 * swap provider.  ALLOW_LIST may name more than FS_SWAPFILES (a suspended
 * one beside its successor's): those remember() keeps in one slot.
 */
void fs_swap_recover(struct fs_server *s)
{
	static struct allow_info ai;
	static struct candidate c;
	long id;

	for (long i = 0; i < ALLOW_MAX_LISTED; i++) {
		ai.ai_nranges = 0;
		id = sys_allow(ALLOW_LIST, i, &ai);
		if (id < 0)
			return;
		memset(&c, 0, sizeof(c));
		c.ino = FS_HANDLE_INO(ai.ai_object);
		c.handle = ai.ai_object;
		memcpy(c.uuid, ai.ai_area, sizeof(c.uuid));
		if (remember(s, &c, (uint64_t)id))
			return;
		printf("fs: inode %u is swap (allowance %#lx, made before our restart%s)\n", c.ino,
		       id, ai.ai_flags & ALLOW_SUSPENDED ? "; its provider died: its pages wait for"
							   " a successor" : "");
	}
}

// SPDX-License-Identifier: MIT
/*
 * Running programs' files stay as they are.  A program run from a file
 * is read from it page by page for as long as it runs (the kernel's memory
 * objects page its text and data in through us, and drop clean pages
 * under pressure to read them again), so its bytes must not change under
 * it, nor its inode go: before a client op that would write, truncate or
 * remove a file, fs asks the kernel whether a program runs from it
 * (sys_pager_object_busy) and refuses the op with ERR_TXTBSY if one does.
 * A shared writable mapping of such a file the kernel refuses itself.
 *
 * Only the op's target counts: rename refuses to replace a running
 * program, but may move one (its inode stays).  An op whose handle or path
 * names nothing is not our concern: its handler fails it.
 */
#include <ferry/err.h>
#include <ferry/sys.h>
#include <proto/fs.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"

/* The i-th NUL-terminated path in the request's pages (0 or 1), or NULL. */
static const char *path_in(const struct msg *m, int i)
{
	size_t have = (m->flags & MSG_PAGE) ? (size_t)MSG_NPAGES(m->flags) * MSG_PAGE_SIZE : 0;
	const char *p = m->page;

	while (have && i--) {
		size_t n = strnlen(p, have);

		if (n == have)
			return NULL;
		p += n + 1;
		have -= n + 1;
	}
	return have && strnlen(p, have) < have ? p : NULL;
}

/* The inode an op changes or removes, if it is one of those and names one. */
static bool target(struct fs_server *s, const struct msg *m, uint32_t *ino)
{
	const char *path = NULL;

	switch (m->op) {
	case FS_WRITE:
	case FS_TRUNCATE:
		*ino = FS_HANDLE_INO(m->arg[0]);
		return ext2_check_handle(&s->fs, *ino, FS_HANDLE_GEN(m->arg[0])) == 0;
	case FS_OPEN:
		if (m->arg[0] & FS_O_TRUNC)
			path = path_in(m, 0);
		break;
	case FS_UNLINK:
		path = path_in(m, 0);
		break;
	case FS_RENAME:
		path = path_in(m, 1);	/* the name it replaces, if it exists */
		break;
	default:
		break;
	}
	return path && ext2_lookup(&s->fs, path, ino) == 0;
}

long fs_exec_guard(struct fs_server *s, const struct msg *m)
{
	struct ext2_stat st;
	uint32_t ino;
	long busy;

	if (!target(s, m, &ino) || ext2_stat(&s->fs, ino, &st))
		return 0;
	busy = sys_pager_object_busy(s->port, FS_HANDLE(ino, st.generation));
	if (busy <= 0)
		return 0;	/* an error here is the kernel's to log: the op goes on */
	printf("fs: %s of inode %u for pid %llu refused: a program runs from it\n",
	       m->op == FS_UNLINK ? "unlink" : m->op == FS_RENAME ? "rename over" :
	       m->op == FS_OPEN ? "truncating open" : m->op == FS_WRITE ? "write" : "truncate",
	       ino, (unsigned long long)m->sender);
	return ERR_TXTBSY;
}

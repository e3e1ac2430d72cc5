// SPDX-License-Identifier: MIT
/*
 * The client ops of <proto/fs.h>: decode a request (every argument is an
 * allegation: handles are checked against the inode's generation, lengths
 * against FS_IO_MAX and the pages that came), call the ext2 code, and fill
 * the answer.  Answers' pages leave from s->tx, zeroed past the data so
 * no byte of an earlier request reaches another client.
 */
#include <ferry/err.h>
#include <proto/fs.h>
#include <string.h>

#include "fs.h"

static uint32_t pages_for(uint64_t bytes)
{
	return (uint32_t)((bytes + MSG_PAGE_SIZE - 1) / MSG_PAGE_SIZE);
}

/* The request's pages: how many bytes arrived with it. */
static uint64_t bytes_in(const struct msg *m)
{
	return (m->flags & MSG_PAGE) ? (uint64_t)MSG_NPAGES(m->flags) * MSG_PAGE_SIZE : 0;
}

/* The path at the start of the request's page (NUL-terminated, <= FS_PATH_MAX). */
static long path_arg(const struct msg *m, const char **path)
{
	if (bytes_in(m) == 0)
		return ERR_INVAL;
	if (strnlen(m->page, FS_PATH_MAX + 1) > FS_PATH_MAX)
		return ERR_RANGE;
	*path = m->page;
	return 0;
}

static long handle_arg(struct fs_server *s, uint64_t h, uint32_t *ino)
{
	*ino = FS_HANDLE_INO(h);
	return ext2_check_handle(&s->fs, *ino, FS_HANDLE_GEN(h));
}

static void with_pages(struct fs_server *s, struct msg *a, uint64_t bytes, uint32_t pages)
{
	memset(s->tx + bytes, 0, (size_t)pages * MSG_PAGE_SIZE - bytes);
	if (pages) {
		a->page = s->tx;
		a->flags = MSG_WITH_PAGES(pages);
	}
}

static long answer_handle(struct fs_server *s, uint32_t ino, struct msg *a)
{
	struct ext2_stat st;
	long err = ext2_stat(&s->fs, ino, &st);

	if (err)
		return err;
	a->arg[0] = FS_HANDLE(ino, st.generation);
	a->arg[1] = st.size;
	a->arg[2] = st.mode;
	return 0;
}

long fs_op_open(struct fs_server *s, const struct msg *m, struct msg *a)
{
	uint64_t flags = m->arg[0];
	const char *path;
	struct ext2_stat st;
	uint32_t ino;
	long err = path_arg(m, &path);

	if (err)
		return err;
	if (flags & ~(uint64_t)(FS_O_CREATE | FS_O_EXCL | FS_O_TRUNC | FS_O_WRITE))
		return ERR_INVAL;
	err = ext2_lookup(&s->fs, path, &ino);
	if (err == ERR_NOENT && (flags & FS_O_CREATE)) {
		err = ext2_create(&s->fs, path, 0644, &ino);
		if (!err && (flags & FS_O_WRITE))
			err = fs_writer_open(s, ino, m->sender);
		return err ? err : answer_handle(s, ino, a);
	}
	if (err)
		return err;
	if ((flags & FS_O_CREATE) && (flags & FS_O_EXCL))
		return ERR_EXIST;
	if (flags & FS_O_TRUNC) {
		err = fs_swap_guard(s, ino, "truncating");
		if (err)
			return err;
		err = ext2_stat(&s->fs, ino, &st);
		if (!err && FS_MODE_TYPE(st.mode) != FS_TYPE_REG)
			err = ERR_INVAL;
		if (!err && st.size)
			err = ext2_truncate(&s->fs, ino, 0);
		if (err)
			return err;
	}
	if (flags & FS_O_WRITE) {
		err = fs_writer_open(s, ino, m->sender);
		if (err)
			return err;
	}
	return answer_handle(s, ino, a);
}

long fs_op_read(struct fs_server *s, const struct msg *m, struct msg *a)
{
	uint64_t off = m->arg[1], len = m->arg[2];
	uint32_t ino;
	long n = handle_arg(s, m->arg[0], &ino);

	if (!n)
		n = fs_swap_guard(s, ino, "reading");	/* it holds others' pages */
	if (n)
		return n;
	if (len > FS_IO_MAX)
		return ERR_RANGE;
	n = ext2_read(&s->fs, ino, off, s->tx, (size_t)len);
	if (n < 0)
		return n;
	a->arg[0] = (uint64_t)n;
	with_pages(s, a, (uint64_t)n, pages_for((uint64_t)n));
	return 0;
}

long fs_op_write(struct fs_server *s, const struct msg *m, struct msg *a)
{
	uint64_t off = m->arg[1], len = m->arg[2];
	struct ext2_stat st;
	uint32_t ino;
	long n = handle_arg(s, m->arg[0], &ino);

	if (!n)
		n = fs_swap_guard(s, ino, "writing");
	if (n)
		return n;
	if (len > FS_IO_MAX || len > bytes_in(m))
		return len > FS_IO_MAX ? ERR_RANGE : ERR_INVAL;
	if (off == FS_APPEND) {
		n = ext2_stat(&s->fs, ino, &st);
		if (n)
			return n;
		off = st.size;
	}
	n = ext2_write(&s->fs, ino, off, m->page, (size_t)len);
	if (n < 0)
		return n;
	if (ext2_stat(&s->fs, ino, &st))
		return ERR_IO;
	a->arg[0] = (uint64_t)n;
	a->arg[1] = st.size;
	a->arg[2] = off;
	return 0;
}

long fs_op_stat(struct fs_server *s, const struct msg *m, struct msg *a)
{
	struct ext2_stat st;
	uint32_t ino;
	long err = handle_arg(s, m->arg[0], &ino);

	if (!err)
		err = ext2_stat(&s->fs, ino, &st);
	if (err)
		return err;
	a->arg[0] = st.size;
	a->arg[1] = st.mode;
	a->arg[2] = st.links;
	a->arg[3] = st.ino;
	a->arg[4] = st.blocks;
	a->arg[5] = st.mtime;
	return 0;
}

long fs_op_readdir(struct fs_server *s, const struct msg *m, struct msg *a)
{
	struct fs_dirent *out = (struct fs_dirent *)s->tx;
	uint64_t cookie = m->arg[1];
	struct ext2_dirent e;
	uint32_t ino, n = 0;
	long err = handle_arg(s, m->arg[0], &ino);

	if (err)
		return err;
	memset(s->tx, 0, MSG_PAGE_SIZE);
	while (n < FS_DIRENTS_PER_PAGE && (err = ext2_readdir(&s->fs, ino, &cookie, &e)) == 1) {
		out[n].fd_ino = e.ino;
		out[n].fd_type = e.type;
		out[n].fd_name_len = e.name_len;
		memcpy(out[n].fd_name, e.name, (size_t)e.name_len + 1);
		n++;
	}
	if (err < 0)
		return err;
	a->arg[0] = n;
	a->arg[1] = cookie;
	with_pages(s, a, MSG_PAGE_SIZE, 1);
	return 0;
}

long fs_op_mkdir(struct fs_server *s, const struct msg *m, struct msg *a)
{
	const char *path;
	uint32_t ino;
	long err = path_arg(m, &path);

	if (!err)
		err = ext2_mkdir(&s->fs, path, 0755, &ino);
	return err ? err : answer_handle(s, ino, a);
}

/* The swap file is neither removed nor replaced: path names it? */
static long guard_path(struct fs_server *s, const char *path, const char *what)
{
	uint32_t ino;

	return ext2_lookup(&s->fs, path, &ino) ? 0 : fs_swap_guard(s, ino, what);
}

long fs_op_unlink(struct fs_server *s, const struct msg *m, struct msg *a)
{
	const char *path;
	long err = path_arg(m, &path);

	(void)a;
	if (!err)
		err = guard_path(s, path, "deleting");
	return err ? err : ext2_unlink(&s->fs, path);
}

long fs_op_rename(struct fs_server *s, const struct msg *m, struct msg *a)
{
	const char *from, *to;
	size_t n;
	long err = path_arg(m, &from);

	(void)a;
	if (err)
		return err;
	n = strlen(from) + 1;
	to = from + n;
	if (strnlen(to, bytes_in(m) - n) == bytes_in(m) - n)
		return ERR_INVAL;	/* the second path does not end inside the pages */
	if (strnlen(to, FS_PATH_MAX + 1) > FS_PATH_MAX)
		return ERR_RANGE;
	err = guard_path(s, from, "moving");
	if (!err)
		err = guard_path(s, to, "replacing");
	return err ? err : ext2_rename(&s->fs, from, to);
}

long fs_op_truncate(struct fs_server *s, const struct msg *m, struct msg *a)
{
	uint32_t ino;
	long err = handle_arg(s, m->arg[0], &ino);

	(void)a;
	if (!err)
		err = fs_swap_guard(s, ino, "truncating");
	return err ? err : ext2_truncate(&s->fs, ino, m->arg[1]);
}

long fs_op_statfs(struct fs_server *s, const struct msg *m, struct msg *a)
{
	struct ext2_statfs sf;

	(void)m;
	ext2_statfs(&s->fs, &sf);
	a->arg[0] = sf.block_size;
	a->arg[1] = sf.blocks;
	a->arg[2] = sf.free_blocks;
	a->arg[3] = sf.inodes;
	a->arg[4] = sf.free_inodes;
	a->arg[5] = sf.read_only;
	return 0;
}

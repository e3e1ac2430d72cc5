// SPDX-License-Identifier: MIT
/*
 * The file API (<file.h>) over fs's protocol.  Data and paths travel as
 * whole message pages, so they go through one bounce buffer of FS_IO_MAX
 * bytes, mapped on first use: callers' buffers need no alignment or
 * padding.
 *
 * fs may die and be restarted (init does): a call that finds fs's port
 * gone was never delivered and is asked again of the new fs; one that fs
 * took and died holding (ERR_DEAD) is asked again when doing it twice is
 * harmless (<proto/fs.h> says which ops are idempotent), else it fails
 * with ERR_DEAD: it may or may not have happened.  Handles stay valid
 * across the restart (inode + generation, checked by fs on every use).
 */
#include <ferry/sys.h>
#include <file.h>
#include <ipc.h>
#include <proc.h>
#include <stdbool.h>
#include <string.h>

/* How long a call waits for a restarted fs: init's back-off (at most 2 s),
 * ata's own restart and fs's mount, with room to spare on a loaded host. */
#define FS_WAIT_NS	(25 * SEC_NS)

struct open_file {
	uint64_t handle;
	uint64_t pos;		/* bytes for files, the readdir cookie for directories */
	int flags;
	int used;
};

static struct open_file files[FILE_MAX];
static long fs_port;
static uint8_t *bounce;

/* fs's port and the bounce buffer, found and made on first use. */
static long ready_within(long wait_ns)
{
	long ret;

	if (!bounce) {
		ret = sys_mem_map(NULL, FS_IO_MAX, PROT_READ | PROT_WRITE);
		if (ret < 0)
			return ret;
		bounce = (uint8_t *)ret;
	}
	if (fs_port <= 0) {
		fs_port = ipc_lookup(FS_PORT_NAME, wait_ns > 0 ? wait_ns : 0);
		if (fs_port < 0)
			return ERR_DEAD;
	}
	return 0;
}

static long ready(void)
{
	return ready_within(FS_WAIT_NS);
}

/* Whether fs doing req twice leaves the same result as doing it once. */
static bool idempotent(const struct msg *req)
{
	switch (req->op) {
	case FS_READ:
	case FS_STAT:
	case FS_READDIR:
	case FS_STATFS:
	case FS_TRUNCATE:
	case FS_CLOSE:
		return true;
	case FS_WRITE:
		return req->arg[1] != FS_APPEND;
	case FS_OPEN:
		return !(req->arg[0] & FS_O_EXCL);	/* create-if-missing is idempotent */
	default:
		return false;	/* mkdir, unlink, rename */
	}
}

static uint32_t pages_for(size_t bytes)
{
	return (uint32_t)((bytes + MSG_PAGE_SIZE - 1) / MSG_PAGE_SIZE);
}

/*
 * One call to fs.  req's pages, if any, are in the bounce buffer; so are
 * the answer's.  => 0 with *rep filled, or the error.
 */
static long fs_call(struct msg *req, struct msg *rep)
{
	long deadline = sys_clock_ns() + FS_WAIT_NS, err;

	for (;;) {
		err = ready_within(deadline - sys_clock_ns());
		if (err)
			return err;
		memset(rep, 0, sizeof(*rep));
		rep->page = bounce;
		rep->flags = MSG_WITH_PAGES(MSG_MAX_PAGES);
		err = sys_call(fs_port, req, rep, -1);
		if (err != ERR_BADHANDLE && err != ERR_DEAD)
			break;
		fs_port = 0;	/* fs went away; init starts a new one */
		if (err == ERR_DEAD && !idempotent(req))
			return ERR_DEAD;	/* it may have been done: the caller must look */
		if (sys_clock_ns() >= deadline)
			return ERR_DEAD;
	}
	if (err)
		return err;
	if (rep->op == FS_OK)
		return 0;
	return rep->op == FS_FAIL && (long)rep->arg[0] < 0 ? (long)rep->arg[0] : ERR_IO;
}

/* A call whose one page holds path (and path2 after it, if given). */
static long path_call(uint32_t op, const char *path, const char *path2, uint64_t arg0,
		      struct msg *rep)
{
	struct msg req = { .op = op, .arg = { arg0 } };
	size_t n = strnlen(path, FS_PATH_MAX + 1), n2 = 0;
	long err = ready();

	if (err)
		return err;
	if (n > FS_PATH_MAX || (path2 && (n2 = strnlen(path2, FS_PATH_MAX + 1)) > FS_PATH_MAX))
		return ERR_RANGE;
	memset(bounce, 0, 2 * MSG_PAGE_SIZE);
	memcpy(bounce, path, n);
	if (path2)
		memcpy(bounce + n + 1, path2, n2);
	req.page = bounce;
	req.flags = MSG_WITH_PAGES(pages_for(n + n2 + 2));
	return fs_call(&req, rep);
}

static struct open_file *file_of(int fd)
{
	return fd >= 0 && fd < FILE_MAX && files[fd].used ? &files[fd] : NULL;
}

long file_open(const char *path, int flags)
{
	uint64_t f = 0;
	struct msg rep;
	long err;
	int fd;

	for (fd = 0; fd < FILE_MAX && files[fd].used; fd++)
		;
	if (fd == FILE_MAX)
		return ERR_FULL;
	if (flags & O_CREAT)
		f |= FS_O_CREATE;
	if (flags & O_EXCL)
		f |= FS_O_EXCL;
	if (flags & O_TRUNC)
		f |= FS_O_TRUNC;
	if (flags & (O_WRONLY | O_RDWR))
		f |= FS_O_WRITE;	/* a lease: no swap file is made of it meanwhile */
	err = path_call(FS_OPEN, path, NULL, f, &rep);
	if (err)
		return err;
	files[fd] = (struct open_file){ .handle = rep.arg[0], .flags = flags, .used = 1 };
	return fd;
}

long file_close(int fd)
{
	struct open_file *f = file_of(fd);

	if (!f)
		return ERR_BADHANDLE;
	f->used = 0;
	if (f->flags & (O_WRONLY | O_RDWR)) {
		struct msg req = { .op = FS_CLOSE, .arg = { f->handle } }, rep;

		if (ready() == 0)
			fs_call(&req, &rep);	/* a lease fs lost is no failure of ours */
	}
	return 0;
}

long file_read(int fd, void *buf, size_t len)
{
	struct open_file *f = file_of(fd);
	size_t done = 0;

	if (!f)
		return ERR_BADHANDLE;
	while (done < len) {
		size_t n = len - done < FS_IO_MAX ? len - done : FS_IO_MAX;
		struct msg req = { .op = FS_READ, .arg = { f->handle, f->pos, n } }, rep;
		long err = fs_call(&req, &rep);

		if (err)
			return done ? (long)done : err;
		if (rep.arg[0] > n)
			return ERR_IO;
		memcpy((uint8_t *)buf + done, bounce, rep.arg[0]);
		f->pos += rep.arg[0];
		done += rep.arg[0];
		if (rep.arg[0] < n)
			break;	/* end of file */
	}
	return (long)done;
}

long file_write(int fd, const void *buf, size_t len)
{
	struct open_file *f = file_of(fd);
	size_t done = 0;
	long err;

	if (!f)
		return ERR_BADHANDLE;
	if ((f->flags & (O_WRONLY | O_RDWR)) == 0)
		return ERR_PERM;
	err = ready();
	if (err)
		return err;
	while (done < len) {
		size_t n = len - done < FS_IO_MAX ? len - done : FS_IO_MAX;
		uint64_t at = (f->flags & O_APPEND) ? FS_APPEND : f->pos;
		struct msg req = { .op = FS_WRITE, .arg = { f->handle, at, n } }, rep;

		memcpy(bounce, (const uint8_t *)buf + done, n);
		memset(bounce + n, 0, pages_for(n) * MSG_PAGE_SIZE - n);
		req.page = bounce;
		req.flags = MSG_WITH_PAGES(pages_for(n));
		err = fs_call(&req, &rep);
		if (err)
			return done ? (long)done : err;
		f->pos = rep.arg[2] + rep.arg[0];
		done += rep.arg[0];
		if (rep.arg[0] < n)
			break;	/* disk full */
	}
	return (long)done;
}

long file_seek(int fd, int64_t off, int whence)
{
	struct open_file *f = file_of(fd);
	struct file_stat st;
	int64_t base = 0;
	long err;

	if (!f)
		return ERR_BADHANDLE;
	if (whence == SEEK_CUR) {
		base = (int64_t)f->pos;
	} else if (whence == SEEK_END) {
		err = file_fstat(fd, &st);
		if (err)
			return err;
		base = (int64_t)st.size;
	} else if (whence != SEEK_SET) {
		return ERR_INVAL;
	}
	if (base + off < 0)
		return ERR_INVAL;
	f->pos = (uint64_t)(base + off);
	return (long)f->pos;
}

long file_truncate(int fd, uint64_t size)
{
	struct open_file *f = file_of(fd);
	struct msg req = { .op = FS_TRUNCATE }, rep;

	if (!f)
		return ERR_BADHANDLE;
	req.arg[0] = f->handle;
	req.arg[1] = size;
	return fs_call(&req, &rep);
}

static void stat_from(const struct msg *rep, uint64_t handle, struct file_stat *st)
{
	*st = (struct file_stat){ .size = rep->arg[0], .mode = (uint32_t)rep->arg[1],
				  .links = (uint32_t)rep->arg[2], .ino = (uint32_t)rep->arg[3],
				  .blocks = rep->arg[4], .handle = handle };
}

long file_fstat(int fd, struct file_stat *st)
{
	struct open_file *f = file_of(fd);
	struct msg req = { .op = FS_STAT }, rep;
	long err;

	if (!f)
		return ERR_BADHANDLE;
	req.arg[0] = f->handle;
	err = fs_call(&req, &rep);
	if (!err)
		stat_from(&rep, f->handle, st);
	return err;
}

long file_stat(const char *path, struct file_stat *st)
{
	long fd = file_open(path, O_RDONLY), err;

	if (fd < 0)
		return fd;
	err = file_fstat((int)fd, st);
	file_close((int)fd);
	return err;
}

long file_statfs(struct file_statfs *sf)
{
	struct msg req = { .op = FS_STATFS }, rep;
	long err = fs_call(&req, &rep);

	if (!err)
		*sf = (struct file_statfs){ rep.arg[0], rep.arg[1], rep.arg[2], rep.arg[3],
					    rep.arg[4], (int)rep.arg[5] };
	return err;
}

long file_readdir(int fd, struct fs_dirent *ents, int max)
{
	struct open_file *f = file_of(fd);
	struct msg req = { .op = FS_READDIR }, rep;
	uint64_t n;
	long err;

	if (!f)
		return ERR_BADHANDLE;
	if (max < (int)FS_DIRENTS_PER_PAGE)
		return ERR_RANGE;	/* one answer may bring a page of entries */
	req.arg[0] = f->handle;
	req.arg[1] = f->pos;
	err = fs_call(&req, &rep);
	if (err)
		return err;
	n = rep.arg[0];
	if (n > FS_DIRENTS_PER_PAGE)
		return ERR_IO;
	memcpy(ents, bounce, n * sizeof(*ents));
	f->pos = rep.arg[1];
	return (long)n;
}

long file_mkdir(const char *path)
{
	struct msg rep;

	return path_call(FS_MKDIR, path, NULL, 0, &rep);
}

long file_unlink(const char *path)
{
	struct msg rep;

	return path_call(FS_UNLINK, path, NULL, 0, &rep);
}

long file_rename(const char *from, const char *to)
{
	struct msg rep;

	return path_call(FS_RENAME, from, to, 0, &rep);
}

long file_mmap(int fd, uint64_t offset, size_t len, int prot)
{
	struct open_file *f = file_of(fd);
	struct file_stat st;
	long err;

	if (!f)
		return ERR_BADHANDLE;
	err = file_fstat(fd, &st);	/* a live regular file, before the kernel maps it */
	if (err)
		return err;
	if (FS_MODE_TYPE(st.mode) != FS_TYPE_REG)
		return ERR_INVAL;
	err = sys_mem_map_pager(fs_port, f->handle, (long)offset, (long)len, prot);
	if (err == ERR_BADHANDLE) {	/* fs died since the stat: map on the new one's port */
		fs_port = 0;
		err = ready();
		if (!err)
			err = sys_mem_map_pager(fs_port, f->handle, (long)offset, (long)len, prot);
	}
	return err;
}

long file_spawn(const char *path, const char *args)
{
	struct file_stat st;
	long fd = file_open(path, O_RDONLY), pid;

	if (fd < 0)
		return fd;
	pid = file_fstat((int)fd, &st);	/* a live regular file, on fs's port of now */
	if (!pid && FS_MODE_TYPE(st.mode) != FS_TYPE_REG)
		pid = ERR_INVAL;
	if (!pid) {
		pid = sys_spawn_file(fs_port, st.handle, path, args);
		if (pid == ERR_BADHANDLE) {	/* fs died since the stat: its successor's port */
			fs_port = 0;
			pid = ready();
			if (!pid)
				pid = sys_spawn_file(fs_port, st.handle, path, args);
		}
	}
	file_close((int)fd);
	return pid;
}

long file_msync(void *addr, size_t len)
{
	long ret = sys_vm_ctl(VM_CTL_SYNC, (long)len, addr);

	return ret < 0 ? ret : 0;	/* >= 0: pages written back */
}

long file_munmap(void *addr, size_t len)
{
	return sys_mem_unmap(addr, (long)len);
}

// SPDX-License-Identifier: MIT
/*
 * fs: the ext2 file server (see fs.h for the model).
 *
 *   fs [part=N] [ro]
 *
 * mounts the ext2 file system on partition N of disk 0 (default: the first
 * partition ata lets us use that holds ext2), read-write unless `ro`, and serves
 * <proto/fs.h> on the port "fs": programs' file ops, and the kernel's page
 * requests for file mappings.  If the disk or the file system cannot be
 * used, fs still answers, every op with the reason (ERR_IO), so programs
 * get a clear error and the system keeps running.
 */
#include <ferry/sys.h>
#include <ipc.h>
#include <proc.h>
#include <proto/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#include "fs.h"

#define FS_QUEUE	64

static const struct fs_handler {
	const char *name;
	fs_op_fn fn;
} fs_handlers[] = {
	[FS_OPEN - FS_OPEN] = { "open", fs_op_open },
	[FS_READ - FS_OPEN] = { "read", fs_op_read },
	[FS_WRITE - FS_OPEN] = { "write", fs_op_write },
	[FS_STAT - FS_OPEN] = { "stat", fs_op_stat },
	[FS_READDIR - FS_OPEN] = { "readdir", fs_op_readdir },
	[FS_MKDIR - FS_OPEN] = { "mkdir", fs_op_mkdir },
	[FS_UNLINK - FS_OPEN] = { "unlink", fs_op_unlink },
	[FS_RENAME - FS_OPEN] = { "rename", fs_op_rename },
	[FS_TRUNCATE - FS_OPEN] = { "truncate", fs_op_truncate },
	[FS_STATFS - FS_OPEN] = { "statfs", fs_op_statfs },
	[FS_CLOSE - FS_OPEN] = { "close", fs_op_close },
	[FS_SWAPFILE - FS_OPEN] = { "swapfile", fs_op_swapfile },
};

#define FS_NHANDLERS	(sizeof(fs_handlers) / sizeof(fs_handlers[0]))

/* One client request: dispatch, write back, answer. */
static void serve_client(struct fs_server *s, const struct msg *m)
{
	struct msg a = { .op = FS_OK };
	uint32_t i = m->op - FS_OPEN;
	long err;

	if (!m->reply)
		return;	/* a send, not a call: nobody to answer */
	if (m->op < FS_OPEN || i >= FS_NHANDLERS || !fs_handlers[i].fn) {
		err = ERR_NOSYS;
	} else if (s->mount_err) {
		err = s->mount_err;
	} else {
		err = fs_exec_guard(s, m);
		if (!err)
			err = fs_handlers[i].fn(s, m, &a);
		if (ext2_sync(&s->fs) && !err)
			err = ERR_IO;
		if (err == ERR_IO)
			printf("fs: %s for pid %llu: %s\n", fs_handlers[i].name,
			       (unsigned long long)m->sender, err_str(err));
	}
	if (err) {
		s->failures++;
		a = (struct msg){ .op = FS_FAIL, .arg = { (uint64_t)err } };
	}
	s->requests++;
	err = sys_reply(m->reply, &a);
	if (err && err != ERR_BADHANDLE && err != ERR_TIMEOUT)	/* a caller that gave up is no news */
		printf("fs: answer to pid %llu: %s\n", (unsigned long long)m->sender, err_str(err));
}

static void serve_kernel(struct fs_server *s, const struct msg *m)
{
	struct pager_request rq;
	long err = pager_request_decode(m, &rq);

	if (err) {
		printf("fs: malformed page request op %#x: %s\n", m->op, err_str(err));
		return;
	}
	fs_pager_serve(s, &rq);
	if (ext2_sync(&s->fs))
		printf("fs: write-back after a %s failed\n", pager_op_name(rq.op));
}

static noreturn void serve(struct fs_server *s)
{
	struct msg m;
	long err;

	for (;;) {
		pager_recv_prepare(&m, s->rx);
		err = sys_recv(s->port, &m, -1);
		if (err) {
			printf("fs: recv: %s\n", err_str(err));
			continue;
		}
		if (m.sender == 0)
			serve_kernel(s, &m);
		else
			serve_client(s, &m);
	}
}

static void parse_args(int argc, char **argv, int *part, bool *rw)
{
	uint64_t v;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "part=", 5) && !str_to_u64(argv[i] + 5, 10, &v, NULL) &&
		    v >= 1 && v <= 16)
			*part = (int)v;
		else if (!strcmp(argv[i], "ro"))
			*rw = false;
		else
			printf("fs: option '%s' ignored (fs [part=1..16] [ro])\n", argv[i]);
	}
}

static long mount(struct fs_server *s, int part, bool rw)
{
	static struct bcache_buf bufs[FS_CACHE_CHUNKS];
	static uint8_t chunks[FS_CACHE_CHUNKS * BCACHE_CHUNK];
	static struct ext2_group groups[FS_GROUPS_MAX];
	struct ext2_statfs sf;
	long err;

	err = fs_ata_attach(s, part);
	if (err)
		return err;
	bcache_init(&s->bc, &s->dev, bufs, FS_CACHE_CHUNKS, chunks);
	err = ext2_mount(&s->fs, &s->bc, s->dev.nsectors * 512, rw, groups, FS_GROUPS_MAX);
	if (err)
		return err;
	ext2_statfs(&s->fs, &sf);
	printf("fs: ext2 \"%s\" mounted %s: %u-byte blocks, %u of %u free, %u of %u inodes free\n",
	       s->fs.label, sf.read_only ? "read-only" : "read-write", sf.block_size,
	       sf.free_blocks, sf.blocks, sf.free_inodes, sf.inodes);
	return 0;
}

/*
 * Grant requests go on to ata with the grant, so we serve the modes ata
 * serves: with dma=off, none by DMA, and the kernel then lends us mapped
 * frames instead (and counts the fault as grant-map, which it is).
 */
static void declare_modes(struct fs_server *s)
{
	uint32_t modes = s->mount_err ? FILL_MODE_BIT(FILL_COPY) : s->modes;
	long err = sys_pager_modes(s->port, modes);

	if (err)
		printf("fs: declaring fill modes %#x: %s\n", modes, err_str(err));
}

/*
 * The pager of this file system, named by its UUID: the kernel then sends
 * the faults on mappings a dead fs made to us (kernel/mm/objpager.h); our
 * handles (inode + generation) mean what they meant to it.  Without the
 * `pager` right (a copy typed at the shell) mappings still work, but do
 * not outlive us.
 */
static void register_store(struct fs_server *s)
{
	long idx;

	if (s->mount_err)
		return;
	idx = sys_pager_register(s->port, s->modes, s->fs.uuid);
	if (idx >= 0)
		printf("fs: pager of file system %02x%02x%02x%02x-..., object pager %ld\n",
		       s->fs.uuid[0], s->fs.uuid[1], s->fs.uuid[2], s->fs.uuid[3], idx);
	else
		printf("fs: cannot register as the pager of this file system: %s (its mappings"
		       " will not survive a restart)\n", err_str(idx));
}

int main(int argc, char **argv)
{
	static struct fs_server s;
	static uint8_t rx[PAGER_BUF_SIZE], tx[PAGER_BUF_SIZE];
	int part = 0;
	bool rw = true;
	long err;

	parse_args(argc, argv, &part, &rw);
	s.rx = rx;
	s.tx = tx;
	s.mount_err = mount(&s, part, rw);
	if (s.mount_err) {
		printf("fs: no file system (%s): every request will fail with I/O error\n",
		       err_str(s.mount_err));
		s.mount_err = ERR_IO;
	}
	/* The pager of the store before anyone can find us: a mapping made on
	 * our port then names the store and outlives us. */
	s.port = sys_port_create(FS_QUEUE);
	if (s.port >= 0) {
		declare_modes(&s);
		register_store(&s);
	}
	if (!s.mount_err)
		fs_swap_recover(&s);	/* before any request can touch a swap file */
	err = s.port < 0 ? s.port : sys_port_publish(FS_PORT_NAME, s.port);
	if (err) {
		printf("fs: cannot publish \"%s\": %s\n", FS_PORT_NAME, err_str(err));
		return 1;
	}
	serve(&s);
}

/* SPDX-License-Identifier: MIT */
/*
 * fs: the ext2 file server, and the pager of memory-mapped files.  This
 * header is the interface between its files:
 *
 *   main.c      the server: start-up, the request loop (receive -> stamped
 *               sender -> dispatch table -> reply), the client ops' table
 *   fs_ops.c    the client ops of <proto/fs.h> over the ext2 code
 *   fs_pager.c  the kernel's page-ins and page-outs of file mappings
 *   fs_exec.c   running programs' files: writes and removals refused
 *   fs_ata.c    the disk: a struct blockdev over ata (<proto/block.h>),
 *               and moving grants to ata
 *   fs_swap.c   swap files (FS_SWAPFILE): validation, the block map, the
 *               allowance for swapd, and refusing everyone else the file;
 *               open-for-writing leases (FS_O_WRITE, FS_CLOSE)
 *   ext2_*.c, bcache.c   the file system, also host-tested (ext2.h)
 *
 * The model
 * ---------
 * One thread serves one request at a time, start to end: a client's op or
 * a kernel page request, each answered before the next is received, with
 * ext2_sync() at the end of each, so between requests the disk holds
 * everything and the cache holds nothing dirty.  That is what lets the
 * grant paths move file pages between the disk and a faulting process's
 * frames without passing through fs: fs maps the file range to disk
 * sectors, forwards the kernel's grant to ata and asks ata for those
 * sectors; afterwards it forgets cached copies of sectors ata wrote.
 *
 * fs is pinned (boot configuration `pin`): a pager that faulted on its own
 * memory would wait for itself.  All its memory is fixed at start-up.
 */
#ifndef FS_FS_H
#define FS_FS_H

#include <ferry/msg.h>
#include <pager.h>
#include <block.h>
#include <stdbool.h>
#include <stdint.h>

#include "bcache.h"
#include "blockdev.h"
#include "ext2.h"

#define FS_CACHE_CHUNKS	128	/* 512 KiB of block cache */
#define FS_GROUPS_MAX	256
#define FS_SWAPFILES	4	/* files in use as swap */
#define FS_WRITERS	32	/* open-for-writing leases */

/* A file in use as swap: fs refuses everyone but the kernel's allowance. */
struct fs_swapfile {
	bool used;
	uint32_t ino;
	uint64_t handle;
	uint64_t allowance;	/* for the swapd that asked (kernel/ipc/allow.h) */
	uint8_t area[16];	/* its swap header's UUID (VM_CTL_SWAP_AREA) */
};

/* An open-for-writing lease: a file opened with FS_O_WRITE, until FS_CLOSE
 * or the client is gone. */
struct fs_writer {
	uint32_t ino;		/* 0: free */
	uint64_t pid;
};

struct fs_server {
	long port;
	/* the disk */
	struct block_client ata;	/* <block.h>: retries, reconnects, grants */
	uint64_t part;			/* BLOCK_PART(disk, n) */
	uint32_t modes;			/* FILL_MODE_BIT()s ata serves: ours as a pager */
	struct blockdev dev;
	struct bcache bc;
	/* the file system, if it mounted */
	struct ext2_fs fs;
	long mount_err;			/* 0 when mounted */
	/* buffers (pinned): requests' pages arrive in rx, answers' leave from tx */
	uint8_t *rx, *tx;
	struct fs_swapfile swapfiles[FS_SWAPFILES];
	struct fs_writer writers[FS_WRITERS];
	uint64_t requests, failures, pages_in, pages_out;
};

/* fs_ata.c */
/* Finds ata and our partition; fills s->dev and s->modes.  => 0 or error (logged). */
long fs_ata_attach(struct fs_server *s, int want_part);
/* One grant request to ata: runs of {sector, count, grant offset}. */
struct fs_run {
	uint64_t sector;
	uint32_t count, offset;
};
long fs_ata_grant_io(struct fs_server *s, bool write, uint64_t grant, uint32_t mode,
		     const struct fs_run *runs, int nruns);

/* fs_ops.c: one client op; fills *a (op, args, pages from s->tx). => 0 or error. */
typedef long (*fs_op_fn)(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_open(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_read(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_write(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_stat(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_readdir(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_mkdir(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_unlink(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_rename(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_truncate(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_statfs(struct fs_server *s, const struct msg *m, struct msg *a);

/* fs_exec.c: ERR_TXTBSY if client op m would change or remove the file a
 * program runs from (the kernel says which, sys_pager_object_busy), else 0. */
long fs_exec_guard(struct fs_server *s, const struct msg *m);
/* fs_swap.c */
long fs_op_swapfile(struct fs_server *s, const struct msg *m, struct msg *a);
long fs_op_close(struct fs_server *s, const struct msg *m, struct msg *a);
/* May `what` ("writing", "deleting", ...) be done to inode ino now?
 * => 0, or ERR_BUSY (logged) while it is a swap file. */
long fs_swap_guard(struct fs_server *s, uint32_t ino, const char *what);
/* A lease for the sender (FS_O_WRITE).  => 0, ERR_BUSY (a swap file, or
 * no room). */
long fs_writer_open(struct fs_server *s, uint32_t ino, uint64_t pid);
/* After a restart: the files our predecessor made swap, from the kernel. */
void fs_swap_recover(struct fs_server *s);

/* fs_pager.c: serves and answers one kernel request. */
void fs_pager_serve(struct fs_server *s, const struct pager_request *rq);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The file protocol: what programs ask of fs, the ext2 file server, on its
 * port ("fs"), with sys_call; fs answers each call once.  lib's file API
 * (<file.h>) is the usual client.
 *
 * Files are named by handles: FS_HANDLE(inode, generation), which stay
 * valid as long as the file exists (a deleted file's handle fails with
 * ERR_BADHANDLE, even once its inode is reused), and across a restart of
 * fs: they are checked against the on-disk inode on every use.  fs
 * registers as the pager of its file system's UUID (sys_pager_register),
 * so the mappings made on a dead fs are served by its successor
 * (kernel/mm/objpager.h).  fs keeps no state per
 * client: no positions; a client that dies leaves nothing behind but a
 * lease (FS_O_WRITE) fs drops once it sees the client is gone.  Any
 * process may use any file: there are no owners or permissions yet, but a
 * swap file in use (FS_SWAPFILE) can be neither read, written, truncated,
 * moved, deleted nor mapped (ERR_BUSY, and fs logs why).  Paths are
 * absolute, NUL-terminated, in the request's one message page, at most
 * FS_PATH_MAX bytes.
 *
 *   FS_OPEN      anyone; no grant; idempotent without FS_O_CREATE/TRUNC.
 *   FS_READ      anyone; no grant; idempotent.
 *   FS_WRITE     anyone; no grant; idempotent at an offset, not FS_APPEND.
 *   FS_STAT      anyone; no grant; idempotent.
 *   FS_READDIR   anyone; no grant; idempotent.
 *   FS_MKDIR     anyone; no grant; not idempotent (ERR_EXIST the 2nd time).
 *   FS_UNLINK    anyone; no grant; not idempotent (ERR_NOENT the 2nd time).
 *   FS_RENAME    anyone; no grant; not idempotent.
 *   FS_TRUNCATE  anyone; no grant; idempotent.
 *   FS_STATFS    anyone; no grant; idempotent.
 *   FS_CLOSE     anyone; no grant; idempotent: ends the sender's
 *                open-for-writing lease on the file (FS_O_WRITE).
 *   FS_SWAPFILE  a swap provider (the `swap` right: PROC_INFO_SWAP); no
 *                grant; not idempotent (a second ask, while the first
 *                asker lives, is ERR_BUSY).  Makes the file swap: see below.
 *
 * Request arguments, answers (op FS_OK):
 *   FS_OPEN      page: path; arg[0] FS_O_* flags
 *                => arg[0] handle, arg[1] size, arg[2] mode
 *   FS_READ      arg[0] handle, arg[1] offset, arg[2] bytes (<= FS_IO_MAX)
 *                => arg[0] bytes read (0 at end of file), the data as
 *                   MSG_WITH_PAGES(ceil(bytes / 4096)): the caller's reply
 *                   buffer must hold as many pages as it asked bytes for
 *   FS_WRITE     arg[0] handle, arg[1] offset or FS_APPEND, arg[2] bytes
 *                (<= FS_IO_MAX), the data as MSG_WITH_PAGES(ceil(bytes / 4096))
 *                => arg[0] bytes written (fewer only when the disk is
 *                   full), arg[1] file size after, arg[2] offset written at
 *   FS_STAT      arg[0] handle
 *                => arg[0] size, arg[1] mode, arg[2] links, arg[3] inode,
 *                   arg[4] 512-byte blocks, arg[5] modification time
 *   FS_READDIR   arg[0] handle of a directory, arg[1] cookie (0: from the start)
 *                => arg[0] entries (0: the end), arg[1] next cookie, one
 *                   page of struct fs_dirent[arg[0]] ("." and ".." included)
 *   FS_MKDIR     page: path => arg[0] handle
 *   FS_UNLINK    page: path (a file, or an empty directory) => nothing
 *   FS_RENAME    page: "from\0to\0" => nothing
 *   FS_TRUNCATE  arg[0] handle, arg[1] size => nothing
 *   FS_STATFS    => arg[0] block size, arg[1] blocks, arg[2] free blocks,
 *                   arg[3] inodes, arg[4] free inodes, arg[5] 1 if read-only
 *   FS_CLOSE     arg[0] handle => nothing
 *   FS_SWAPFILE  page: path => arg[0] the allowance (kernel/ipc/allow.h)
 *                   that lets the sender have ata touch the file's blocks,
 *                   arg[1] the partition (BLOCK_PART), arg[2] the file's
 *                   size, arg[3] extents, arg[4] handle, arg[5] the pid of
 *                   fs's disk driver (ata or nvme: the one to ask); the
 *                   page: struct fs_extent[arg[3]], the file's whole 4 KiB
 *                   pages in order
 *
 * Swap files, as Linux's swapon wants them: a regular file of at least two
 * whole pages on a read-write file system, every block allocated (no hole:
 * not sparse), a mkswap header (SWAPSPACE2, version 1) in its first page,
 * nobody else's swap, not open for writing (FS_O_WRITE) by another
 * process, not mapped, and at most FS_SWAP_EXTENTS contiguous pieces on
 * disk.  Refused with ERR_INVAL (hole, header, kind), ERR_BUSY (held,
 * open, mapped), ERR_RANGE (too fragmented), ERR_PERM (read-only, or the
 * asker is no swap provider), each logged with its reason.  The block map
 * is given once: swapd reads and writes the file's sectors itself, through
 * ata, never through fs.  While the file is swap (its allowance lives, or
 * the kernel keeps its pages for a restarted swapd: VM_CTL_SWAP_AREA) fs
 * refuses to read, write, truncate, move, delete, map or open it for
 * writing (ERR_BUSY), so e2fsck finds it as mkswap and the host left it.
 * Or op FS_FAIL, arg[0] = (negative) enum ferry_err:
 *   ERR_NOENT no such file; ERR_EXIST name taken, or directory not empty;
 *   ERR_INVAL a directory where a file must be (or the reverse), a bad
 *   name, a malformed request; ERR_RANGE name, path or file too long;
 *   ERR_FULL disk full; ERR_PERM mounted read-only; ERR_BADHANDLE stale
 *   handle; ERR_IO the disk failed or the file system is corrupt (fs logs
 *   which); ERR_TXTBSY a program runs from the file (FS_WRITE, FS_TRUNCATE,
 *   FS_OPEN with FS_O_TRUNC, FS_UNLINK, FS_RENAME over it: fs asks the
 *   kernel, sys_pager_object_busy); ERR_NOSYS unknown op.
 *
 * Memory-mapped files: fs is also the pager of file mappings.  A client
 * maps a file with sys_mem_map_pager(fs port, handle, offset, length,
 * prot); faults come to fs from the kernel (sender 0) as PAGER_PAGE_IN
 * with key = byte offset in the file and object = the handle, and dirty
 * pages of shared mappings return as PAGER_PAGE_OUT (<proto/pager.h>); a
 * page-in's answer says the file's size (the kernel runs programs from
 * files, sys_spawn_file, and checks their segments against it).
 * The tail of the page holding the end of the file reads as zero; a page
 * wholly past the end fails with ERR_RANGE (the faulting thread dies).
 * Mappings do not make the file longer, and pages written back past its
 * end are dropped; so are pages written back to a file deleted meanwhile
 * (its page-ins then fail with ERR_NOENT).  read/write and mappings are not coherent with each
 * other: a mapped page is the file as it was at fault time, until the
 * mapping writes it back (msync, munmap, exit, eviction) or drops it.
 */
#ifndef PROTO_FS_H
#define PROTO_FS_H

#include <ferry/msg.h>
#include <stdint.h>

#define FS_PORT_NAME	"fs"
#define FS_PATH_MAX	1024
#define FS_NAME_MAX	255
#define FS_IO_MAX	(MSG_MAX_PAGES * MSG_PAGE_SIZE)	/* 128 KiB per read or write */
#define FS_APPEND	UINT64_MAX

#define FS_HANDLE(ino, gen)	((uint64_t)(gen) << 32 | (uint32_t)(ino))
#define FS_HANDLE_INO(h)	((uint32_t)(h))
#define FS_HANDLE_GEN(h)	((uint32_t)((h) >> 32))

enum fs_op {
	FS_OPEN = MSG_OP_USER + 0x300,
	FS_READ,
	FS_WRITE,
	FS_STAT,
	FS_READDIR,
	FS_MKDIR,
	FS_UNLINK,
	FS_RENAME,
	FS_TRUNCATE,
	FS_STATFS,
	FS_OK,
	FS_FAIL,
	FS_CLOSE,
	FS_SWAPFILE,
};

/* One piece of a swap file: `count` sectors of the file from sector
 * `logical` on lie at sector `sector` of the partition. */
struct fs_extent {
	uint64_t fe_logical;
	uint64_t fe_sector;
	uint64_t fe_count;
};

_Static_assert(sizeof(struct fs_extent) == 24, "struct fs_extent ABI");

#define FS_SWAP_EXTENTS	128	/* as many as an allowance has ranges (ALLOW_RANGES_MAX) */

/* FS_OPEN flags */
#define FS_O_CREATE	0x1	/* make a regular file if the name is free */
#define FS_O_EXCL	0x2	/* with FS_O_CREATE: ERR_EXIST if it exists */
#define FS_O_TRUNC	0x4	/* a regular file loses its contents */
#define FS_O_WRITE	0x8	/* opened for writing: a lease until FS_CLOSE */

/* Mode: the type in the high 4 bits (stat's S_IFMT), permissions below. */
#define FS_MODE_TYPE(m)	(((m) >> 12) & 0xF)
#define FS_TYPE_DIR	4
#define FS_TYPE_REG	8
#define FS_TYPE_LNK	10

/* One FS_READDIR entry; type as FS_MODE_TYPE (0 if the fs does not record it). */
struct fs_dirent {
	uint32_t fd_ino;
	uint8_t fd_type;
	uint8_t fd_name_len;
	char fd_name[FS_NAME_MAX + 1];	/* NUL-terminated */
	uint8_t fd_pad[2];
};

_Static_assert(sizeof(struct fs_dirent) == 264, "struct fs_dirent ABI");

#define FS_DIRENTS_PER_PAGE	(MSG_PAGE_SIZE / sizeof(struct fs_dirent))

#endif

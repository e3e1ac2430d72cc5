/* SPDX-License-Identifier: MIT */
/*
 * ext2: the file system code of the fs server, independent of how the
 * disk is reached (a struct blockdev behind a struct bcache), so the same
 * files are host-tested against images made by mke2fs.
 *
 * The model
 * ---------
 * A mounted file system is a struct ext2_fs: the superblock's geometry,
 * checked once at mount, and the group descriptors, kept in memory and
 * written through the cache whenever a count changes.  Everything else
 * (bitmaps, inodes, directories, indirect blocks, data) is read through
 * the cache on demand and checked where it is used, since the disk is
 * untrusted input: a bad field ends the operation with ERR_IO and one log
 * line starting "ext2: corrupt", never a crash, a loop or an access
 * outside the partition; the superblock's state then says "errors", so
 * e2fsck checks it and the next mount is read-only.
 *
 * Files are named by inode number; the server adds the inode's generation
 * to make its handles (ext2_check_handle).  An operation changes the
 * cache; the caller ends each request with ext2_sync(), which writes every
 * changed chunk.  Block and inode counts (bitmaps, group descriptors,
 * superblock) change together in one operation, so `e2fsck -fn` finds a
 * consistent file system between requests.
 *
 * Features: revision 0 or 1, 1/2/4 KiB blocks, incompat `filetype` only
 * (anything else refuses the mount); read-only-compatible features other
 * than sparse_super and large_file mount read-only; compatible ones are
 * kept valid (dir_index: a directory we change loses its index flag, as
 * with Linux's ext2; ext_attr: a file's attribute block is released with
 * it; resize_inode: its reserved blocks are never allocated).
 *
 * Errors (negated enum ferry_err): ERR_NOENT no such name; ERR_EXIST name
 * taken, or directory not empty; ERR_INVAL wrong kind of file or bad name;
 * ERR_RANGE name or file too long; ERR_FULL no free block or inode;
 * ERR_PERM mounted read-only; ERR_IO disk error or corruption;
 * ERR_BADHANDLE a stale (ino, generation).
 */
#ifndef FS_EXT2_H
#define FS_EXT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bcache.h"

#define EXT2_ROOT_INO		2
#define EXT2_NAME_MAX		255
#define EXT2_PATH_MAX		1024

/* File types, as stat reports them (the mode's S_IFMT >> 12). */
#define EXT2_TYPE_FIFO		1
#define EXT2_TYPE_CHR		2
#define EXT2_TYPE_DIR		4
#define EXT2_TYPE_BLK		6
#define EXT2_TYPE_REG		8
#define EXT2_TYPE_LNK		10
#define EXT2_TYPE_SOCK		12

/* A group descriptor as on disk. */
struct ext2_group_desc {
	uint32_t bg_block_bitmap, bg_inode_bitmap, bg_inode_table;
	uint16_t bg_free_blocks_count, bg_free_inodes_count, bg_used_dirs_count, bg_flags;
	uint32_t bg_reserved[3];
};

_Static_assert(sizeof(struct ext2_group_desc) == 32, "group descriptor size");

/* A group descriptor plus where it lives, kept in memory. */
struct ext2_group {
	struct ext2_group_desc d;
	uint32_t first, nblocks;	/* blocks of the group */
	uint32_t meta_end;		/* superblock + GDT copy end here (== first if none) */
	uint32_t itable_blocks;
};

struct ext2_fs {
	struct bcache *bc;
	uint64_t dev_bytes;
	uint32_t block_size, log_block_size;	/* 1024 << log */
	uint32_t blocks_count, first_data_block, blocks_per_group;
	uint32_t inodes_count, inodes_per_group, inode_size, first_ino;
	uint32_t ngroups, gdt_blocks, reserved_gdt_blocks;
	uint32_t ptrs_per_block;		/* block pointers in an indirect block */
	uint32_t compat, incompat, ro_compat;
	uint32_t free_blocks, free_inodes;	/* the superblock's counts */
	uint32_t r_blocks;
	uint16_t want_extra_isize;
	uint32_t now;				/* time stamp for what we write */
	bool read_only;
	bool sb_dirty;
	bool errors;				/* corruption seen: marked in the superblock */
	struct ext2_group *groups;
	char label[17];
	uint8_t uuid[16];			/* names the store to the kernel (objpager.h) */
};

struct ext2_stat {
	uint32_t ino, generation;
	uint16_t mode;			/* type (high 4 bits) and permissions */
	uint16_t links;
	uint64_t size;
	uint64_t blocks;		/* 512-byte units, as i_blocks */
	uint32_t mtime;
};

struct ext2_statfs {
	uint32_t block_size;
	uint32_t blocks, free_blocks, inodes, free_inodes;
	bool read_only;
};

/* One directory entry, as ext2_readdir hands them out. */
struct ext2_dirent {
	uint32_t ino;
	uint8_t type;			/* EXT2_TYPE_*, 0 if the fs has no filetype */
	uint8_t name_len;
	char name[EXT2_NAME_MAX + 1];	/* NUL-terminated */
};

/*
 * Checks the superblock and group descriptors at byte 1024 of the device
 * and fills fs; `groups` is caller memory for up to max_groups groups.
 * want_rw false mounts read-only.
 * => 0; ERR_INVAL (not ext2, or a layout we do not support; logged),
 *    ERR_IO (corrupt or unreadable; logged), ERR_RANGE (too many groups).
 */
long ext2_mount(struct ext2_fs *fs, struct bcache *bc, uint64_t dev_bytes, bool want_rw,
		struct ext2_group *groups, uint32_t max_groups);
/* Writes the superblock's counts if they changed, then every dirty chunk. */
long ext2_sync(struct ext2_fs *fs);
void ext2_statfs(const struct ext2_fs *fs, struct ext2_statfs *out);

/* Path names are absolute ("/a/b"); "//" and a trailing "/" are allowed. */
long ext2_lookup(struct ext2_fs *fs, const char *path, uint32_t *ino);
long ext2_stat(struct ext2_fs *fs, uint32_t ino, struct ext2_stat *st);
/* => 0 if ino is live with that generation, else ERR_BADHANDLE (or ERR_IO). */
long ext2_check_handle(struct ext2_fs *fs, uint32_t ino, uint32_t generation);
/* ext2_check_handle() and ext2_stat() from one read of the inode. */
long ext2_stat_handle(struct ext2_fs *fs, uint32_t ino, uint32_t generation,
		      struct ext2_stat *st);

/* Creates a regular file (ERR_EXIST if the name is taken). */
long ext2_create(struct ext2_fs *fs, const char *path, uint16_t perm, uint32_t *ino);
long ext2_mkdir(struct ext2_fs *fs, const char *path, uint16_t perm, uint32_t *ino);
/* Removes a name; a directory only when empty. */
long ext2_unlink(struct ext2_fs *fs, const char *path);
/* Moves from to `to`, replacing a file there (or an empty directory, by a directory). */
long ext2_rename(struct ext2_fs *fs, const char *from, const char *to);

/* Regular files.  => bytes moved (short at end of file or when the disk is full). */
long ext2_read(struct ext2_fs *fs, uint32_t ino, uint64_t off, void *buf, size_t len);
long ext2_write(struct ext2_fs *fs, uint32_t ino, uint64_t off, const void *buf, size_t len);
long ext2_truncate(struct ext2_fs *fs, uint32_t ino, uint64_t size);

/*
 * The entry at *cookie (a byte offset in the directory) or after it;
 * advances *cookie.  => 1 with *out filled, 0 at the end, or an error.
 */
long ext2_readdir(struct ext2_fs *fs, uint32_t dir, uint64_t *cookie, struct ext2_dirent *out);

/*
 * For pagers: the disk block holding file block `fblock` of regular file
 * ino, 0 for a hole; with `alloc` a hole gets a zeroed block first.  Also
 * gives the file size.
 */
long ext2_file_block(struct ext2_fs *fs, uint32_t ino, uint64_t fblock, bool alloc,
		     uint32_t *block, uint64_t *size);
/* The same for file blocks first..first+n-1 into blocks[], from one read
 * (and, with `alloc`, one write) of the inode. */
long ext2_file_blocks(struct ext2_fs *fs, uint32_t ino, uint64_t first, uint32_t n, bool alloc,
		      uint32_t *blocks, uint64_t *size);
/*
 * Makes sure the bytes after end of file in the file's last block read as
 * zero on disk (they are what a mapping shows past the end).  => 0 or error.
 */
long ext2_zero_tail(struct ext2_fs *fs, uint32_t ino);

#endif

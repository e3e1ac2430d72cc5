/* SPDX-License-Identifier: MIT */
/*
 * The on-disk format of ext2 (revision 1, little-endian like the CPU) and
 * what the ext2_*.c files share among themselves.  Nothing outside them
 * includes this; their interface is ext2.h.
 */
#ifndef FS_EXT2_IMPL_H
#define FS_EXT2_IMPL_H

#include <ferry/err.h>
#include <stdint.h>

#include "ext2.h"

#define EXT2_MAGIC		0xEF53
#define EXT2_SB_OFFSET		1024
#define EXT2_GOOD_OLD_INODE_SIZE 128
#define EXT2_GOOD_OLD_FIRST_INO	11
#define EXT2_NDIR_BLOCKS	12
#define EXT2_IND_BLOCK		12
#define EXT2_DIND_BLOCK		13
#define EXT2_TIND_BLOCK		14
#define EXT2_N_BLOCKS		15

#define EXT2_VALID_FS		0x0001

/* Features: what we do with each is in ext2.h. */
#define EXT2_COMPAT_DIR_INDEX		0x0020
#define EXT2_COMPAT_EXT_ATTR		0x0008
#define EXT2_INCOMPAT_FILETYPE		0x0002
#define EXT2_INCOMPAT_SUPPORTED		EXT2_INCOMPAT_FILETYPE
#define EXT2_RO_COMPAT_SPARSE_SUPER	0x0001
#define EXT2_RO_COMPAT_LARGE_FILE	0x0002
#define EXT2_RO_COMPAT_SUPPORTED	(EXT2_RO_COMPAT_SPARSE_SUPER | EXT2_RO_COMPAT_LARGE_FILE)

/* i_flags */
#define EXT2_INDEX_FL		0x00001000	/* hashed-indexed directory */
#define EXT2_UNSUPPORTED_FL	0x10280000	/* inline data, EA inode, extents */

/* i_mode */
#define EXT2_S_IFMT		0xF000
#define EXT2_S_IFREG		0x8000
#define EXT2_S_IFDIR		0x4000
#define EXT2_S_IFLNK		0xA000

/* Directory entry file_type (with the filetype feature). */
#define EXT2_FT_REG		1
#define EXT2_FT_DIR		2
#define EXT2_FT_MAX		7

#define EXT2_XATTR_MAGIC	0xEA020000

struct ext2_super {
	uint32_t s_inodes_count, s_blocks_count, s_r_blocks_count;
	uint32_t s_free_blocks_count, s_free_inodes_count;
	uint32_t s_first_data_block, s_log_block_size, s_log_frag_size;
	uint32_t s_blocks_per_group, s_frags_per_group, s_inodes_per_group;
	uint32_t s_mtime, s_wtime;
	uint16_t s_mnt_count;
	int16_t s_max_mnt_count;
	uint16_t s_magic, s_state, s_errors, s_minor_rev_level;
	uint32_t s_lastcheck, s_checkinterval, s_creator_os, s_rev_level;
	uint16_t s_def_resuid, s_def_resgid;
	/* revision 1 */
	uint32_t s_first_ino;
	uint16_t s_inode_size, s_block_group_nr;
	uint32_t s_feature_compat, s_feature_incompat, s_feature_ro_compat;
	uint8_t s_uuid[16];
	char s_volume_name[16];
	char s_last_mounted[64];
	uint32_t s_algorithm_usage_bitmap;
	uint8_t s_prealloc_blocks, s_prealloc_dir_blocks;
	uint16_t s_reserved_gdt_blocks;
	uint8_t s_journal_uuid[16];
	uint32_t s_journal_inum, s_journal_dev, s_last_orphan;
	uint32_t s_hash_seed[4];
	uint8_t s_def_hash_version, s_jnl_backup_type;
	uint16_t s_desc_size;
	uint32_t s_default_mount_opts, s_first_meta_bg, s_mkfs_time;
	uint32_t s_jnl_blocks[17];
	uint32_t s_blocks_count_hi, s_r_blocks_count_hi, s_free_blocks_hi;
	uint16_t s_min_extra_isize, s_want_extra_isize;
	uint8_t s_rest[1024 - 352];
};

_Static_assert(sizeof(struct ext2_super) == 1024, "superblock size");
_Static_assert(__builtin_offsetof(struct ext2_super, s_magic) == 56, "s_magic");
_Static_assert(__builtin_offsetof(struct ext2_super, s_rev_level) == 76, "s_rev_level");
_Static_assert(__builtin_offsetof(struct ext2_super, s_feature_compat) == 92, "features");
_Static_assert(__builtin_offsetof(struct ext2_super, s_reserved_gdt_blocks) == 206, "rsv gdt");
_Static_assert(__builtin_offsetof(struct ext2_super, s_desc_size) == 254, "s_desc_size");
_Static_assert(__builtin_offsetof(struct ext2_super, s_want_extra_isize) == 350, "extra isize");


struct ext2_inode {
	uint16_t i_mode, i_uid;
	uint32_t i_size, i_atime, i_ctime, i_mtime, i_dtime;
	uint16_t i_gid, i_links_count;
	uint32_t i_blocks, i_flags, i_osd1;
	uint32_t i_block[EXT2_N_BLOCKS];
	uint32_t i_generation, i_file_acl, i_size_high, i_faddr;
	uint8_t i_osd2[12];
};

_Static_assert(sizeof(struct ext2_inode) == EXT2_GOOD_OLD_INODE_SIZE, "inode size");
_Static_assert(__builtin_offsetof(struct ext2_inode, i_block) == 40, "i_block");
_Static_assert(__builtin_offsetof(struct ext2_inode, i_generation) == 100, "i_generation");

struct ext2_dir_entry {
	uint32_t inode;
	uint16_t rec_len;
	uint8_t name_len, file_type;	/* without filetype: name_len's high byte */
	char name[];
};

_Static_assert(sizeof(struct ext2_dir_entry) == 8, "dirent header");

#define EXT2_DIR_REC_LEN(n)	((8u + (n) + 3u) & ~3u)


/* A held disk block: release with ext2_brelse. */
struct ext2_bh {
	struct bcache_buf *buf;
	uint8_t *data;
};

/* ext2_super.c */
long ext2_corrupt(struct ext2_fs *fs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long ext2_bread(struct ext2_fs *fs, uint32_t block, bool fresh, struct ext2_bh *bh);
void ext2_bdirty(struct ext2_bh *bh);
void ext2_brelse(struct ext2_bh *bh);
/* Is b a block a file may own: inside the fs and not group metadata? */
bool ext2_block_ok(const struct ext2_fs *fs, uint32_t b);
long ext2_group_write(struct ext2_fs *fs, uint32_t g);

/* ext2_alloc.c */
long ext2_balloc(struct ext2_fs *fs, uint32_t goal, uint32_t *block);
long ext2_bfree(struct ext2_fs *fs, uint32_t block);
/* => 1 if data block `block` is marked in use, 0 if free or not a data block, or an error. */
long ext2_block_used(struct ext2_fs *fs, uint32_t block);
long ext2_ialloc(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *ino);
long ext2_ifree(struct ext2_fs *fs, uint32_t ino, bool dir);

/* ext2_inode.c */
long ext2_iget(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
long ext2_iput(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in);
/* A fresh on-disk inode: zeroed (extra fields too), generation bumped. */
long ext2_inew(struct ext2_fs *fs, uint32_t ino, uint16_t mode, struct ext2_inode *in);
uint64_t ext2_isize(const struct ext2_inode *in);
void ext2_set_isize(struct ext2_fs *fs, struct ext2_inode *in, uint64_t size);
long ext2_bmap(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t fblock,
	       bool alloc, uint32_t *block);
long ext2_itruncate(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t size);
/* Frees everything of an inode with no links left, and the inode. */
long ext2_idelete(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
/*
 * Checks, changing nothing, that deleting the inode can free all it names:
 * every block pointer (indirect blocks too) is a data block marked in use
 * and named once, and the attribute block is sound.  => 0, or ERR_IO
 * (logged as corruption) when the delete would stop half-way.
 */
long ext2_check_delete(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in);
bool ext2_is_dir(const struct ext2_inode *in);
bool ext2_is_reg(const struct ext2_inode *in);

/* ext2_dir.c: each reads and writes the directory's inode itself. */
long ext2_dir_find(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len,
		   uint32_t *ino);
long ext2_dir_add(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t ino,
		  uint16_t mode);
long ext2_dir_remove(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len);
/* Points an existing entry (or "..") at another inode. */
long ext2_dir_retarget(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len,
		       uint32_t ino, uint16_t mode);
/* => 1 if only "." and ".." are left, 0 if not, or an error. */
long ext2_dir_is_empty(struct ext2_fs *fs, uint32_t dir);
/* The first block of a new directory: "." and "..". */
long ext2_dir_init(struct ext2_fs *fs, uint32_t dir, uint32_t parent);

#endif

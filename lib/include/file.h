/* SPDX-License-Identifier: MIT */
/*
 * Files for user programs: a thin layer over the fs server's protocol
 * (<proto/fs.h>).  A file descriptor is a small index into this process's
 * table of open files, each a handle and a position; fs itself keeps only
 * a lease per file opened for writing (O_WRONLY, O_RDWR), until
 * file_close() or exit, so no swap file is made of it meanwhile.  Like stdout, the table is not locked: one thread of
 * a process uses files.
 *
 * Every call returns >= 0 on success or a negative enum ferry_err
 * (ERR_NOENT no such file, ERR_EXIST exists or directory not empty,
 * ERR_INVAL wrong kind of file, ERR_FULL disk full, ERR_BADHANDLE a bad fd
 * or a deleted file, ERR_IO disk error or corruption, ERR_DEAD no fs within
 * 25 s, or fs died during a mkdir, unlink, rename, append or exclusive
 * create, which may or may not have been done).  Open files and mappings
 * survive a restart of fs: idempotent calls are asked again of the new fs.
 *
 * Mapping a file: file_mmap() maps [offset, offset + len) of an open
 * file (offset a multiple of 4096) with PROT_READ / PROT_WRITE, or'ed with
 * MAP_PRIVATE for a private copy (written pages are this process's own and
 * never reach the file); otherwise the mapping is shared and what is
 * written reaches the file on file_msync(), file_munmap(), exit, or when
 * the kernel evicts the page; if the process is killed instead, the kernel
 * writes it back soon after (within the page-out daemon's 100 ms tick,
 * or when a dead fs's successor is back).  Touching a page wholly past the end of the
 * file kills the thread; the tail of the last page reads as zero.  The
 * mapping outlives file_close().  Every mapping of one file shares the
 * file's pages in memory (one frame per page: the kernel's memory objects),
 * a private one until it writes a page.
 *
 * A file that runs as a program (file_spawn) cannot be written, truncated
 * or removed while it runs: ERR_TXTBSY.
 */
#ifndef FERRY_FILE_H
#define FERRY_FILE_H

#include <ferry/abi.h>
#include <proto/fs.h>
#include <stddef.h>
#include <stdint.h>

#define FILE_MAX	16	/* open files per process */

/* file_open flags */
#define O_RDONLY	0x0
#define O_WRONLY	0x1
#define O_RDWR		0x2
#define O_CREAT		0x10
#define O_EXCL		0x20
#define O_TRUNC		0x40
#define O_APPEND	0x80	/* every write goes to the end of the file */

/* file_seek whence */
#define SEEK_SET	0
#define SEEK_CUR	1
#define SEEK_END	2

struct file_stat {
	uint64_t size;
	uint32_t mode;		/* FS_MODE_TYPE(mode) is FS_TYPE_DIR, FS_TYPE_REG, ... */
	uint32_t links;
	uint32_t ino;
	uint64_t blocks;	/* 512-byte units on disk */
	uint64_t handle;	/* fs's name for the file (sys_mem_map_pager's object) */
};

struct file_statfs {
	uint64_t block_size, blocks, free_blocks, inodes, free_inodes;
	int read_only;
};

/* => fd */
long file_open(const char *path, int flags);
long file_close(int fd);
/* => bytes moved; 0 at end of file */
long file_read(int fd, void *buf, size_t len);
long file_write(int fd, const void *buf, size_t len);
/* => the new position */
long file_seek(int fd, int64_t off, int whence);
long file_truncate(int fd, uint64_t size);
long file_fstat(int fd, struct file_stat *st);
long file_stat(const char *path, struct file_stat *st);
long file_statfs(struct file_statfs *sf);
/*
 * The next entries of a directory opened with file_open: up to max into
 * ents; => how many, 0 at the end.
 */
long file_readdir(int fd, struct fs_dirent *ents, int max);
long file_mkdir(const char *path);
/* A file, or an empty directory. */
long file_unlink(const char *path);
long file_rename(const char *from, const char *to);

/* => the address */
long file_mmap(int fd, uint64_t offset, size_t len, int prot);

/*
 * Runs the program in file `path` with the argument string `args`
 * (argv[0] first, as the shell passes its line; NULL: the path's last
 * part).  The kernel reads its headers through fs and maps its segments
 * from the file, paged in as they are touched (<ferry/abi.h>
 * sys_spawn_file).  => pid; ERR_NOEXEC not a valid program (the kernel
 * log says why), ERR_INVAL not a regular file, ERR_BUSY the file is
 * mapped shared and writable, or file_open's errors.
 */
long file_spawn(const char *path, const char *args);
/* Writes a shared mapping's dirty pages back (they are dropped and read again if touched). */
long file_msync(void *addr, size_t len);
/* The whole mapping, as file_mmap made it. */
long file_munmap(void *addr, size_t len);

#endif

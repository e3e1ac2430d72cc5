/* SPDX-License-Identifier: MIT */
/*
 * What the ext2 host tests share: user/fs's ext2 and cache code built for
 * the host, a struct blockdev over an image file, and the host's e2fsprogs
 * (mke2fs to make images, e2fsck -fn to judge them, debugfs to look
 * inside) run on temporary files.  Include once, from a test_ext2*.c.
 */
#ifndef EXT2_HOST_H
#define EXT2_HOST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "htest.h"

#include "../../user/fs/bcache.c"
#include "../../user/fs/ext2_alloc.c"
#include "../../user/fs/ext2_dir.c"
#include "../../user/fs/ext2_inode.c"
#include "../../user/fs/ext2_namei.c"
#include "../../user/fs/ext2_super.c"

#define E2PATH		"PATH=$PATH:/sbin:/usr/sbin "
#define HOST_BUFS	24	/* small, so eviction happens all the time */
#define HOST_GROUPS	64

/* The repository's root: tests run from it (make), or FERRY_ROOT says. */
static const char *repo_root(void)
{
	const char *r = getenv("FERRY_ROOT");

	return r ? r : ".";
}

static char tmp_dir[256];

static const char *tmp_path(const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];

	if (!tmp_dir[0]) {
		strcpy(tmp_dir, "/tmp/ferry-ext2-XXXXXX");
		if (!mkdtemp(tmp_dir)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	snprintf(p, 512, "%s/%s", tmp_dir, name);
	return p;
}

__attribute__((destructor)) static void remove_tmp(void)
{
	char cmd[300];

	if (tmp_dir[0] && !getenv("FERRY_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp_dir);
	}
}

/* Runs a shell command; => its exit status, output in out (may be NULL). */
static int run(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int run(char *out, size_t size, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	FILE *f;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (out) {
		n = fread(out, 1, size - 1, f);
		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* mke2fs -t ext2 (Debian's defaults for a small fs) of src into a new image. */
static const char *make_image(const char *name, int block_size, const char *src, int kib)
{
	const char *img = tmp_path(name);
	char out[4096];
	int st;

	st = run(out, sizeof(out), E2PATH "mke2fs -q -F -t ext2 -b %d %s%s '%s' %dk 2>&1",
		 block_size, src ? "-d " : "", src ? src : "", img, kib);
	if (st != 0) {
		fprintf(stderr, "mke2fs failed (%d): %s\n", st, out);
		return NULL;
	}
	return img;
}

static const char *samples_dir(void)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/disk/files", repo_root());
	return p;
}

/* e2fsck -fn: 0 when it finds nothing to fix; prints its report otherwise. */
static inline int fsck_clean(const char *img)
{
	static char out[65536];
	int st = run(out, sizeof(out), E2PATH "e2fsck -fn '%s' 2>&1", img);

	if (st != 0)
		fprintf(stderr, "e2fsck -fn %s: status %d\n%s\n", img, st, out);
	return st == 0;
}

/* debugfs's view of a file's bytes (dump); => length or -1. */
static inline long debugfs_dump(const char *img, const char *path, uint8_t *buf, size_t size)
{
	const char *out = tmp_path("dump.out");
	long n;
	FILE *f;

	unlink(out);
	if (run(NULL, 0, E2PATH "debugfs -R 'dump %s %s' '%s' 2>&1", path, out, img) != 0)
		return -1;
	f = fopen(out, "rb");
	if (!f)
		return -1;
	n = (long)fread(buf, 1, size, f);
	fclose(f);
	return n;
}

/* --- a struct blockdev over an image file --- */

struct hostdev {
	struct blockdev dev;
	int fd;
	uint64_t reads, writes;
};

static long host_read(struct blockdev *d, uint64_t sector, uint32_t count, void *buf)
{
	struct hostdev *h = d->ctx;
	size_t len = (size_t)count * 512;

	if (sector + count > d->nsectors)
		return ERR_RANGE;
	h->reads++;
	return pread(h->fd, buf, len, (off_t)(sector * 512)) == (ssize_t)len ? 0 : ERR_IO;
}

static long host_write(struct blockdev *d, uint64_t sector, uint32_t count, const void *buf)
{
	struct hostdev *h = d->ctx;
	size_t len = (size_t)count * 512;

	if (sector + count > d->nsectors)
		return ERR_RANGE;
	h->writes++;
	return pwrite(h->fd, buf, len, (off_t)(sector * 512)) == (ssize_t)len ? 0 : ERR_IO;
}

/* One mounted image: device, cache and file system together. */
struct mnt {
	struct hostdev hd;
	struct bcache bc;
	struct bcache_buf bufs[HOST_BUFS];
	uint8_t data[HOST_BUFS * BCACHE_CHUNK];
	struct ext2_group groups[HOST_GROUPS];
	struct ext2_fs fs;
};

/* => 0 or the mount's error; m->fs is usable only on 0. */
static inline long mnt_open(struct mnt *m, const char *img, bool rw)
{
	struct stat st;

	memset(m, 0, sizeof(*m));
	m->hd.fd = open(img, rw ? O_RDWR : O_RDONLY);
	if (m->hd.fd < 0 || fstat(m->hd.fd, &st) < 0) {
		perror(img);
		return ERR_IO;
	}
	m->hd.dev = (struct blockdev){ .ctx = &m->hd, .nsectors = (uint64_t)st.st_size / 512,
				       .read = host_read, .write = host_write };
	bcache_init(&m->bc, &m->hd.dev, m->bufs, HOST_BUFS, m->data);
	return ext2_mount(&m->fs, &m->bc, m->hd.dev.nsectors * 512, rw, m->groups, HOST_GROUPS);
}

/* Writes back and closes; => ext2_sync's result. */
static inline long mnt_close(struct mnt *m)
{
	long err = m->fs.bc ? ext2_sync(&m->fs) : 0;

	for (int i = 0; i < HOST_BUFS; i++)
		if (m->bufs[i].refs)
			fprintf(stderr, "cache buffer %d still held (%d)\n", i, m->bufs[i].refs);
	close(m->hd.fd);
	return err;
}

/* Whole host file into a malloc'ed buffer; => length or -1. */
static inline long slurp(const char *path, uint8_t **out)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*out = malloc((size_t)n + 1);
	if ((long)fread(*out, 1, (size_t)n, f) != n)
		n = -1;
	fclose(f);
	return n;
}

/* A known byte pattern for writes: depends on the position and a seed. */
static inline uint8_t pattern_byte(uint64_t pos, unsigned seed)
{
	uint64_t x = (pos + 1) * 0x9E3779B97F4A7C15ull ^ seed;

	return (uint8_t)(x >> 56 ^ x >> 13);
}

static inline void fill_pattern(uint8_t *buf, size_t n, uint64_t pos, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern_byte(pos + i, seed);
}

#endif

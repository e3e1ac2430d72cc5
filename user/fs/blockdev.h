/* SPDX-License-Identifier: MIT */
/*
 * What the ext2 code needs of a disk: read and write runs of 512-byte
 * sectors of one partition.  The server backs it with ata (fs_ata.c, over
 * <proto/block.h>); host tests with an image file.  Sector numbers are
 * relative to the partition; a request reaching past `nsectors` is the
 * callback's to refuse (ERR_RANGE), though bcache never makes one.
 */
#ifndef FS_BLOCKDEV_H
#define FS_BLOCKDEV_H

#include <stdint.h>

#define BLOCKDEV_SECTOR	512

struct blockdev {
	void *ctx;
	uint64_t nsectors;	/* partition size */
	/* => 0, or ERR_IO / ERR_RANGE; count >= 1 */
	long (*read)(struct blockdev *dev, uint64_t sector, uint32_t count, void *buf);
	long (*write)(struct blockdev *dev, uint64_t sector, uint32_t count, const void *buf);
	/* Optional: what was written reaches the medium (a drive's write cache). */
	long (*flush)(struct blockdev *dev);
};

#endif

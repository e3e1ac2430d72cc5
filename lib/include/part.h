/* SPDX-License-Identifier: MIT */
/*
 * Partitions, for every disk driver (lib/user/part.c): the table (MBR, or
 * the GPT a protective MBR points to), what each partition holds (found
 * by its signature, not by its type byte), and who may use it.  Pure
 * code: a driver gives it a function that reads sectors and one that logs
 * a line; tests/host/test_part.c gives it a disk in memory.
 *
 * The model
 * ---------
 * A disk's table is read once, when its driver starts:
 *
 *   1. part_scan: sector 0; an MBR's four primary entries, or, behind a
 *      protective entry (0xEE), the GPT header at LBA 1 and its entries.
 *      Disk contents are untrusted: an entry that leaves the disk, overlaps
 *      the table or the GPT's reserved area, or fails a CRC is dropped with
 *      a log line, never trusted half-way.
 *   2. part_probe_all: the first 4 KiB of each partition says what is on
 *      it: a swap area (mkswap's "SWAPSPACE2" ending the first page, its
 *      UUID), an ext2/3/4 file system (superblock magic 0xEF53 at byte
 *      1080, its UUID), a FAT file system (boot sector), or nothing known.
 *   3. The policy decides, per partition, which programs may use it.  By
 *      default the content does: a swap area is served to swapd, an ext2
 *      file system to fs, anything else (FAT, unknown, unreadable) to
 *      nobody.  The driver's boot configuration may override that:
 *        swap=NAMES ext2=NAMES fat=NAMES  who gets each kind of content
 *        partN=NAMES  partition N of disk 0, whatever it holds ("partN="
 *                     alone: nobody)
 *        raw=NAMES    every disk as a whole
 *      NAMES is "prog[,prog...]" (at most PART_POLICY_NAMES), matched
 *      against the name the kernel gives the sender's process, never
 *      anything in a message.  Only disk 0's partitions are served; other
 *      disks only whole (raw=).
 * The driver still decides whether a process is the configured one (the
 * kernel's rights), and the servers check what they find themselves: an
 * override that gives a swap area to fs is refused by fs ("no ext2").
 */
#ifndef FERRY_PART_H
#define FERRY_PART_H

#include <ferry/abi.h>
#include <ferry/err.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PART_MAX		16	/* partitions of one disk: 1..PART_MAX */
#define PART_SECTOR		512
#define PART_SCAN_BUF		(32 * PART_SECTOR)	/* part_scan's, part_probe_all's buffer */
#define PART_PROBE_BYTES	4096	/* what a probe reads of each partition */
#define PART_POLICY_NAMES	4	/* programs per policy entry */

#define PART_CONTENTS(X)				\
	X(PART_UNKNOWN, "unknown")			\
	X(PART_UNREADABLE, "unreadable")		\
	X(PART_SWAP, "swap area")			\
	X(PART_EXT2, "ext2 file system")		\
	X(PART_FAT, "FAT file system")

enum part_content {
#define PART_CONTENT_ENUM(name, text) name,
	PART_CONTENTS(PART_CONTENT_ENUM)
#undef PART_CONTENT_ENUM
	PART_NCONTENTS
};

struct part {
	bool present;
	uint8_t type;		/* MBR type byte; GPT types mapped (0x82 swap, 0x83 Linux
				 * data, 0xEF EFI, else 0x7F) */
	uint64_t start, sectors;
	enum part_content content;
	uint8_t uuid[16];	/* the swap area's or the file system's; zero if none */
};

struct part_table {
	const char *scheme;	/* "MBR", "GPT", "none" */
	struct part part[PART_MAX + 1];	/* [0]: the whole disk */
};

/* A disk as the parser sees it. */
struct part_disk {
	const char *name;	/* "disk0": log lines */
	uint64_t sectors;
	/* Reads count sectors at lba into buf.  => 0 or an error. */
	long (*read)(void *ctx, uint64_t lba, uint32_t count, void *buf);
	/* One log line, without a newline. */
	void (*log)(void *ctx, const char *line);
	void *ctx;
};

/*
 * Reads d's partition table into t; buf holds PART_SCAN_BUF bytes.
 * => 0 (no table is no error: t->scheme is "none", only part[0] present),
 *    or the read's error.
 */
long part_scan(struct part_table *t, const struct part_disk *d, uint8_t *buf);
/* Sets each present partition's content and uuid by its first 4 KiB. */
void part_probe_all(struct part_table *t, const struct part_disk *d, uint8_t *buf);
/* The content of a partition whose first `bytes` (<= 4096) bytes are p. */
enum part_content part_probe(const uint8_t *p, size_t bytes, uint8_t uuid[16]);
const char *part_content_name(enum part_content c);
/* "46455252-5900-4000-8000-000000000001"; buf holds 37 bytes. */
const char *part_uuid_str(const uint8_t uuid[16], char *buf);
uint32_t part_crc32(const void *data, size_t n);

/* --- who may use what --- */

struct part_policy_entry {
	bool set;		/* given in the configuration (or a default) */
	int n;
	char name[PART_POLICY_NAMES][PROC_NAME_MAX];
};

struct part_policy {
	struct part_policy_entry part[PART_MAX + 1];	/* partN=; [0] raw= */
	struct part_policy_entry content[PART_NCONTENTS];	/* swap=, ext2=, fat= */
};

/* swap=swapd ext2=fs, nothing else. */
void part_policy_init(struct part_policy *pol);
/* One argument "key=prog,prog"; => 0, ERR_INVAL (*why says what is wrong,
 * and nothing changed), ERR_NOENT when key is not a policy key. */
long part_policy_parse(struct part_policy *pol, const char *arg, const char **why);
/* Who may use partition n of a disk whose table is t: the explicit entry,
 * else the one for its content.  Never NULL. */
const struct part_policy_entry *part_policy_entry(const struct part_policy *pol,
						  const struct part_table *t, unsigned n);
/* May prog use partition `part` of disk `disk` (table t; 0: whole)? */
bool part_policy_allows(const struct part_policy *pol, const struct part_table *t,
			unsigned disk, unsigned part, const char *prog);
/* "swapd,blktest" or "nobody", into buf. */
const char *part_policy_names(const struct part_policy_entry *e, char *buf, size_t size);
/* Logs through d each present partition of t (what it holds, who gets it),
 * then who gets the disks whole: a driver's start-up report. */
void part_policy_report(const struct part_policy *pol, const struct part_table *t,
			const struct part_disk *d);

/* --- a request's access, the same for every driver --- */

/* A client as the kernel describes the sender of a request. */
struct part_client {
	uint64_t pid;		/* index + generation: never names another process */
	const char *name;	/* its program */
	bool stripped;		/* a service's copy without its rights (PROC_INFO_STRIPPED) */
};

/* What one request may touch. */
struct part_access {
	unsigned disk, partno;
	const struct part *part;	/* partition partno of the disk, [0]: all of it */
	/* Through an allowance: only these ranges of it (sectors relative to
	 * the partition); nranges 0: all of the partition. */
	uint64_t allowance;
	const char *creator;		/* the allowance's creator's program */
	uint32_t nranges;
	const struct allow_range *ranges;
};

/* The kernel's word on allowance `id` (the driver asks sys_allow; host
 * tests fake it): the live allowance, or NULL. */
typedef const struct allow_info *(*part_allowance_fn)(uint64_t id);

/*
 * Who may do what, the same for every disk driver.  The client must run
 * with its configuration's rights, and either the policy gives its program
 * the partition (any partition of the disk, for BLOCK_INFO: `info`), or
 * the request names an allowance (BLOCK_PART_ALLOW) that is live, is for
 * this client, names this partition, and was made by a program the policy
 * gives the partition: then only the allowance's ranges
 * (part_access_covers).  Rights are checked before existence, so a
 * stranger learns nothing.  tables[d]: disk d's table (disks other than
 * 0: only part[0]).
 * => 0 with *acc set; ERR_PERM (*why says why, when it is not plain), ERR_NOENT.
 */
long part_access_resolve(const struct part_policy *pol, const struct part_table *const *tables,
			 int ndisks, const struct part_client *c, uint64_t part_arg, bool info,
			 part_allowance_fn allowance, struct part_access *acc, const char **why);
/* Are sectors [first, first + count) of the partition inside one of acc's
 * ranges (always, when it has none)? */
bool part_access_covers(const struct part_access *acc, uint64_t first, uint64_t count);
/* Bit n: partition n of disk `disk` (table t) exists and is c's to use
 * (BLOCK_REPLY_MINE). */
uint64_t part_access_mine(const struct part_policy *pol, const struct part_table *t,
			  unsigned disk, const struct part_client *c);

#endif

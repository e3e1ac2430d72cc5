// SPDX-License-Identifier: MIT
/*
 * Partition tables and the access policy.
 *
 * Disk contents are untrusted input: a table entry is taken only if it
 * lies inside the disk and past the table itself; anything else is
 * dropped with a log line, never trusted half-way.
 *
 *   MBR  sector 0, signature 55 AA; four primary entries.  An entry of
 *        type 0xEE (protective) means the disk is GPT.  Extended
 *        partitions are logged and not followed.
 *   GPT  header at LBA 1 ("EFI PART", CRC32 of the header), entries
 *        (CRC32 over the array) wherever the header says, inside the
 *        first 32 sectors' worth read at once; the entries in use become
 *        partitions 1.. in table order.  The backup header is not used.
 *
 * Policy: ata's module arguments name, for each partition of disk 0
 * (partN=prog,prog) and for whole disks (raw=prog,...), the programs that
 * may use it.  A program is matched by the name the kernel gives the
 * sender's process, never by anything in a message.
 */
#include <string.h>

#include "ata.h"

#define MBR_SIGNATURE_AT	510
#define MBR_ENTRIES_AT		446
#define MBR_TYPE_EMPTY		0x00
#define MBR_TYPE_GPT		0xEE
#define GPT_ENTRIES_SECTORS	32	/* read at once: 128 entries of 128 bytes */
#define GPT_HEADER_MIN		92

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

uint32_t ata_crc32(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint32_t crc = 0xFFFFFFFFu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* Takes an entry if it lies in the disk after the first `reserved` sectors. */
static bool add_part(struct ata_disk *d, int n, uint8_t type, uint64_t start, uint64_t count,
		     uint64_t reserved)
{
	if (count == 0 || start < reserved || start >= d->sectors || count > d->sectors - start) {
		ata_log("disk%d: partition %d (type %#x, %llu sectors at %llu) is outside the disk:"
			" ignored", d->index, n, type, (unsigned long long)count,
			(unsigned long long)start);
		return false;
	}
	d->part[n] = (struct ata_part){ .present = true, .type = type, .start = start,
					.sectors = count };
	return true;
}

/* Well-known GPT partition type GUIDs (as stored: mixed-endian), as MBR types. */
static uint8_t gpt_type(const uint8_t guid[16])
{
	static const struct {
		uint8_t guid[16];
		uint8_t type;
	} known[] = {
		/* 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F Linux swap */
		{ { 0x6D, 0xFD, 0x57, 0x06, 0xAB, 0xA4, 0xC4, 0x43, 0x84, 0xE5, 0x09, 0x33, 0xC8, 0x4B,
		    0x4F, 0x4F }, BLOCK_TYPE_SWAP },
		/* 0FC63DAF-8483-4772-8E79-3D69D8477DE4 Linux filesystem data */
		{ { 0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47,
		    0x7D, 0xE4 }, BLOCK_TYPE_LINUX },
		/* C12A7328-F81F-11D2-BA4B-00A0C93EC93B EFI system partition */
		{ { 0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E,
		    0xC9, 0x3B }, 0xEF },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (memcmp(guid, known[i].guid, 16) == 0)
			return known[i].type;
	return 0x7F;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* => 0 with the GPT's partitions taken; ERR_INVAL if the header or entries are bad. */
static long scan_gpt(struct ata_disk *d, ata_read_fn read, void *ctx, uint8_t *buf)
{
	uint8_t hdr[ATA_SECTOR];
	uint32_t hsize, crc, nent, esize, nsect;
	uint64_t first_usable, last_usable, entries_lba;
	long err = read(ctx, 1, 1, hdr);
	int n = 0;

	if (err)
		return err;
	hsize = le32(hdr + 12);
	if (memcmp(hdr, "EFI PART", 8) || hsize < GPT_HEADER_MIN || hsize > ATA_SECTOR)
		return ERR_INVAL;
	crc = le32(hdr + 16);
	memset(hdr + 16, 0, 4);	/* the CRC covers the header with its own field zeroed */
	if (ata_crc32(hdr, hsize) != crc)
		return ERR_INVAL;
	first_usable = le64(hdr + 40);
	last_usable = le64(hdr + 48);
	entries_lba = le64(hdr + 72);
	nent = le32(hdr + 80);
	esize = le32(hdr + 84);
	if (esize < 128 || esize % 8 || nent == 0 || (uint64_t)nent * esize >
	    (uint64_t)GPT_ENTRIES_SECTORS * ATA_SECTOR)
		return ERR_INVAL;
	nsect = (nent * esize + ATA_SECTOR - 1) / ATA_SECTOR;
	if (entries_lba < 2 || entries_lba >= d->sectors || nsect > d->sectors - entries_lba ||
	    last_usable >= d->sectors || first_usable > last_usable)
		return ERR_INVAL;
	err = read(ctx, entries_lba, nsect, buf);
	if (err)
		return err;
	if (ata_crc32(buf, (size_t)nent * esize) != le32(hdr + 88))
		return ERR_INVAL;
	for (uint32_t i = 0; i < nent; i++) {
		const uint8_t *e = buf + (size_t)i * esize;
		uint64_t first = le64(e + 32), last = le64(e + 40);

		if (all_zero(e, 16))
			continue;	/* unused entry */
		if (++n > BLOCK_PARTS_MAX) {
			ata_log("disk%d: GPT has more than %d partitions: the rest ignored", d->index,
				BLOCK_PARTS_MAX);
			break;
		}
		if (first < first_usable || last > last_usable || first > last)
			ata_log("disk%d: GPT partition %d outside the usable area: ignored", d->index, n);
		else
			add_part(d, n, gpt_type(e), first, last - first + 1, first_usable);
	}
	d->table = "GPT";
	return 0;
}

long ata_part_scan(struct ata_disk *d, ata_read_fn read, void *ctx, uint8_t *buf)
{
	uint8_t mbr[ATA_SECTOR];
	long err = read(ctx, 0, 1, mbr);

	for (int i = 1; i <= BLOCK_PARTS_MAX; i++)
		d->part[i] = (struct ata_part){ 0 };
	d->part[0] = (struct ata_part){ .present = true, .start = 0, .sectors = d->sectors };
	d->table = "none";
	if (err)
		return err;
	if (mbr[MBR_SIGNATURE_AT] != 0x55 || mbr[MBR_SIGNATURE_AT + 1] != 0xAA)
		return 0;
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + MBR_ENTRIES_AT + i * 16;

		if (e[4] != MBR_TYPE_GPT)
			continue;
		err = scan_gpt(d, read, ctx, buf);
		if (err != ERR_INVAL)
			return err;
		ata_log("disk%d: protective MBR but no valid GPT header or entries", d->index);
		return 0;
	}
	d->table = "MBR";
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + MBR_ENTRIES_AT + i * 16;
		uint8_t type = e[4];

		if (type == MBR_TYPE_EMPTY)
			continue;
		if (type == 0x05 || type == 0x0F || type == 0x85)
			ata_log("disk%d: partition %d is extended: its logical partitions are not"
				" served", d->index, i + 1);
		else
			add_part(d, i + 1, type, le32(e + 8), le32(e + 12), 1);
	}
	return 0;
}

/* --- policy --- */

static long parse_names(struct ata_policy_entry *e, const char *list, const char **why)
{
	struct ata_policy_entry out = { 0 };
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0 || len >= PROC_NAME_MAX) {
			*why = len ? "program name too long" : "empty program name";
			return ERR_INVAL;
		}
		if (out.n == ATA_POLICY_NAMES) {
			*why = "too many programs for one partition";
			return ERR_INVAL;
		}
		memcpy(out.name[out.n], p, len);
		out.name[out.n++][len] = '\0';
		p += len + (comma ? 1 : 0);
		if (comma && !*p) {
			*why = "empty program name";
			return ERR_INVAL;
		}
	}
	*e = out;
	return 0;
}

long ata_policy_parse(struct ata_policy *pol, const char *arg, const char **why)
{
	const char *eq = strchr(arg, '=');
	uint64_t n;

	*why = NULL;
	if (!eq)
		return ERR_NOENT;
	if ((size_t)(eq - arg) == 3 && strncmp(arg, "raw", 3) == 0)
		return parse_names(&pol->part[0], eq + 1, why);
	if (strncmp(arg, "part", 4) != 0)
		return ERR_NOENT;
	{
		char num[8];
		size_t len = (size_t)(eq - arg) - 4;

		if (len == 0 || len >= sizeof(num)) {
			*why = "bad partition number";
			return ERR_INVAL;
		}
		memcpy(num, arg + 4, len);
		num[len] = '\0';
		if (str_to_u64(num, 10, &n, NULL) || n < 1 || n > BLOCK_PARTS_MAX) {
			*why = "partition number out of range (1..16)";
			return ERR_INVAL;
		}
	}
	return parse_names(&pol->part[n], eq + 1, why);
}

static bool entry_names(const struct ata_policy_entry *e, const char *prog)
{
	for (int i = 0; i < e->n; i++)
		if (strcmp(e->name[i], prog) == 0)
			return true;
	return false;
}

bool ata_policy_allows(const struct ata_policy *pol, unsigned disk, unsigned part,
		       const char *prog)
{
	if (part > BLOCK_PARTS_MAX || (disk > 0 && part > 0))
		return false;	/* only disk 0's partitions are named */
	return entry_names(&pol->part[part], prog);
}

bool ata_policy_any(const struct ata_policy *pol, unsigned disk, const char *prog)
{
	for (unsigned n = 0; n <= BLOCK_PARTS_MAX; n++)
		if (ata_policy_allows(pol, disk, n, prog))
			return true;
	return false;
}

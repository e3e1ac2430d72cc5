// SPDX-License-Identifier: MIT
/*
 * Partition tables, what is on each partition, and who may use it (model
 * in <part.h>).
 *
 *   MBR  sector 0, signature 55 AA; four primary entries.  An entry of
 *        type 0xEE (protective) means the disk is GPT.  Extended
 *        partitions are logged and not followed.
 *   GPT  header at LBA 1 ("EFI PART", CRC32 of the header), entries
 *        (CRC32 over the array) wherever the header says, inside the
 *        first 32 sectors' worth read at once; the entries in use become
 *        partitions 1.. in table order.  The backup header is not used.
 *
 * Signatures, at their byte offsets from the partition's start:
 *   swap  "SWAPSPACE2" (or the old "SWAP-SPACE") at 4086; UUID at 1036
 *   ext2  0xEF53 at 1080 (the superblock's s_magic); UUID at 1128
 *   FAT   0x55AA at 510, a jump at 0, a sane BPB, "FAT" at 54 or 82
 */
#include <fmt.h>
#include <part.h>
#include <proto/block.h>
#include <string.h>

#define MBR_SIGNATURE_AT	510
#define MBR_ENTRIES_AT		446
#define MBR_TYPE_EMPTY		0x00
#define MBR_TYPE_GPT		0xEE
#define GPT_ENTRIES_SECTORS	32	/* read at once: 128 entries of 128 bytes */
#define GPT_HEADER_MIN		92

#define SWAP_MAGIC_AT		4086
#define SWAP_UUID_AT		(1024 + 12)
#define EXT2_MAGIC_AT		(1024 + 56)
#define EXT2_MAGIC		0xEF53
#define EXT2_UUID_AT		(1024 + 104)

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void say(const struct part_disk *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct part_disk *d, const char *fmt, ...)
{
	char line[160];
	int len = snprintf(line, sizeof(line), "%s: ", d->name);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + len, sizeof(line) - (size_t)len, fmt, ap);
	va_end(ap);
	d->log(d->ctx, line);
}

uint32_t part_crc32(const void *data, size_t n)
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
static bool add_part(struct part_table *t, const struct part_disk *d, int n, uint8_t type,
		     uint64_t start, uint64_t count, uint64_t reserved)
{
	if (count == 0 || start < reserved || start >= d->sectors || count > d->sectors - start) {
		say(d, "partition %d (type %#x, %llu sectors at %llu) is outside the disk: ignored",
		    n, type, (unsigned long long)count, (unsigned long long)start);
		return false;
	}
	t->part[n] = (struct part){ .present = true, .type = type, .start = start,
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
		    0x4F, 0x4F }, 0x82 },
		/* 0FC63DAF-8483-4772-8E79-3D69D8477DE4 Linux filesystem data */
		{ { 0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47,
		    0x7D, 0xE4 }, 0x83 },
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
static long scan_gpt(struct part_table *t, const struct part_disk *d, uint8_t *buf)
{
	uint8_t hdr[PART_SECTOR];
	uint32_t hsize, crc, nent, esize, nsect;
	uint64_t first_usable, last_usable, entries_lba;
	long err = d->read(d->ctx, 1, 1, hdr);
	int n = 0;

	if (err)
		return err;
	hsize = le32(hdr + 12);
	if (memcmp(hdr, "EFI PART", 8) || hsize < GPT_HEADER_MIN || hsize > PART_SECTOR)
		return ERR_INVAL;
	crc = le32(hdr + 16);
	memset(hdr + 16, 0, 4);	/* the CRC covers the header with its own field zeroed */
	if (part_crc32(hdr, hsize) != crc)
		return ERR_INVAL;
	first_usable = le64(hdr + 40);
	last_usable = le64(hdr + 48);
	entries_lba = le64(hdr + 72);
	nent = le32(hdr + 80);
	esize = le32(hdr + 84);
	if (esize < 128 || esize % 8 || nent == 0 ||
	    (uint64_t)nent * esize > (uint64_t)GPT_ENTRIES_SECTORS * PART_SECTOR)
		return ERR_INVAL;
	nsect = (nent * esize + PART_SECTOR - 1) / PART_SECTOR;
	if (entries_lba < 2 || entries_lba >= d->sectors || nsect > d->sectors - entries_lba ||
	    last_usable >= d->sectors || first_usable > last_usable)
		return ERR_INVAL;
	err = d->read(d->ctx, entries_lba, nsect, buf);
	if (err)
		return err;
	if (part_crc32(buf, (size_t)nent * esize) != le32(hdr + 88))
		return ERR_INVAL;
	for (uint32_t i = 0; i < nent; i++) {
		const uint8_t *e = buf + (size_t)i * esize;
		uint64_t first = le64(e + 32), last = le64(e + 40);

		if (all_zero(e, 16))
			continue;	/* unused entry */
		if (++n > PART_MAX) {
			say(d, "GPT has more than %d partitions: the rest ignored", PART_MAX);
			break;
		}
		if (first < first_usable || last > last_usable || first > last)
			say(d, "GPT partition %d outside the usable area: ignored", n);
		else
			add_part(t, d, n, gpt_type(e), first, last - first + 1, first_usable);
	}
	t->scheme = "GPT";
	return 0;
}

long part_scan(struct part_table *t, const struct part_disk *d, uint8_t *buf)
{
	uint8_t mbr[PART_SECTOR];
	long err = d->read(d->ctx, 0, 1, mbr);

	memset(t, 0, sizeof(*t));
	t->part[0] = (struct part){ .present = true, .start = 0, .sectors = d->sectors };
	t->scheme = "none";
	if (err)
		return err;
	if (mbr[MBR_SIGNATURE_AT] != 0x55 || mbr[MBR_SIGNATURE_AT + 1] != 0xAA)
		return 0;
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + MBR_ENTRIES_AT + i * 16;

		if (e[4] != MBR_TYPE_GPT)
			continue;
		err = scan_gpt(t, d, buf);
		if (err != ERR_INVAL)
			return err;
		say(d, "protective MBR but no valid GPT header or entries");
		return 0;
	}
	t->scheme = "MBR";
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + MBR_ENTRIES_AT + i * 16;
		uint8_t type = e[4];

		if (type == MBR_TYPE_EMPTY)
			continue;
		if (type == 0x05 || type == 0x0F || type == 0x85)
			say(d, "partition %d is extended: its logical partitions are not served",
			    i + 1);
		else
			add_part(t, d, i + 1, type, le32(e + 8), le32(e + 12), 1);
	}
	return 0;
}

/* --- what is on a partition --- */

/* A FAT boot sector: jump, signature, a power-of-two sector and cluster size, "FAT". */
static bool is_fat(const uint8_t *p, size_t bytes)
{
	uint16_t bps;
	uint8_t spc;

	if (bytes < PART_SECTOR || p[510] != 0x55 || p[511] != 0xAA ||
	    (p[0] != 0xEB && p[0] != 0xE9))
		return false;
	bps = le16(p + 11);
	spc = p[13];
	if (bps < 512 || bps > 4096 || (bps & (bps - 1)) || spc == 0 || (spc & (spc - 1)))
		return false;
	return memcmp(p + 54, "FAT", 3) == 0 || memcmp(p + 82, "FAT32", 5) == 0;
}

enum part_content part_probe(const uint8_t *p, size_t bytes, uint8_t uuid[16])
{
	memset(uuid, 0, 16);
	if (bytes >= PART_PROBE_BYTES && (memcmp(p + SWAP_MAGIC_AT, "SWAPSPACE2", 10) == 0 ||
					  memcmp(p + SWAP_MAGIC_AT, "SWAP-SPACE", 10) == 0)) {
		memcpy(uuid, p + SWAP_UUID_AT, 16);
		return PART_SWAP;
	}
	if (bytes >= EXT2_UUID_AT + 16 && le16(p + EXT2_MAGIC_AT) == EXT2_MAGIC) {
		memcpy(uuid, p + EXT2_UUID_AT, 16);
		return PART_EXT2;
	}
	return is_fat(p, bytes) ? PART_FAT : PART_UNKNOWN;
}

const char *part_content_name(enum part_content c)
{
	static const char *const names[] = {
#define PART_CONTENT_NAME(name, text) [name] = text,
		PART_CONTENTS(PART_CONTENT_NAME)
#undef PART_CONTENT_NAME
	};

	return (unsigned)c < PART_NCONTENTS ? names[c] : "?";
}

const char *part_uuid_str(const uint8_t u[16], char *buf)
{
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
	return buf;
}

void part_probe_all(struct part_table *t, const struct part_disk *d, uint8_t *buf)
{
	for (int n = 1; n <= PART_MAX; n++) {
		struct part *p = &t->part[n];
		uint32_t count = PART_PROBE_BYTES / PART_SECTOR;
		long err;

		if (!p->present)
			continue;
		if (p->sectors < count)
			count = (uint32_t)p->sectors;
		memset(buf, 0, PART_PROBE_BYTES);
		err = d->read(d->ctx, p->start, count, buf);
		if (err) {
			say(d, "partition %d: cannot read its first sectors: nobody gets it", n);
			p->content = PART_UNREADABLE;
			continue;
		}
		p->content = part_probe(buf, (size_t)count * PART_SECTOR, p->uuid);
	}
}

/* --- policy --- */

static const struct {
	const char *key;
	enum part_content content;
} content_keys[] = {
	{ "swap", PART_SWAP },
	{ "ext2", PART_EXT2 },
	{ "fat", PART_FAT },
};

static void set_names(struct part_policy_entry *e, int n, const char *const *names)
{
	*e = (struct part_policy_entry){ .set = true, .n = n };
	for (int i = 0; i < n; i++)
		strlcpy(e->name[i], names[i], sizeof(e->name[i]));
}

void part_policy_init(struct part_policy *pol)
{
	static const char *const swapd[] = { "swapd" }, *const fs[] = { "fs" };

	memset(pol, 0, sizeof(*pol));
	set_names(&pol->content[PART_SWAP], 1, swapd);
	set_names(&pol->content[PART_EXT2], 1, fs);
}

static long parse_names(struct part_policy_entry *e, const char *list, const char **why)
{
	struct part_policy_entry out = { .set = true };
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0 || len >= PROC_NAME_MAX) {
			*why = len ? "program name too long" : "empty program name";
			return ERR_INVAL;
		}
		if (out.n == PART_POLICY_NAMES) {
			*why = "too many programs for one entry";
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

/* "partN": => N, or 0 with *why set. */
static unsigned part_number(const char *arg, size_t keylen, const char **why)
{
	char num[8];
	size_t len = keylen - 4;
	uint64_t n;

	if (len == 0 || len >= sizeof(num)) {
		*why = "bad partition number";
		return 0;
	}
	memcpy(num, arg + 4, len);
	num[len] = '\0';
	if (str_to_u64(num, 10, &n, NULL) || n < 1 || n > PART_MAX) {
		*why = "partition number out of range (1..16)";
		return 0;
	}
	return (unsigned)n;
}

long part_policy_parse(struct part_policy *pol, const char *arg, const char **why)
{
	const char *eq = strchr(arg, '=');
	size_t keylen;
	unsigned n;

	*why = NULL;
	if (!eq)
		return ERR_NOENT;
	keylen = (size_t)(eq - arg);
	if (keylen == 3 && strncmp(arg, "raw", 3) == 0)
		return parse_names(&pol->part[0], eq + 1, why);
	for (size_t i = 0; i < sizeof(content_keys) / sizeof(content_keys[0]); i++)
		if (keylen == strlen(content_keys[i].key) &&
		    strncmp(arg, content_keys[i].key, keylen) == 0)
			return parse_names(&pol->content[content_keys[i].content], eq + 1, why);
	if (strncmp(arg, "part", 4) != 0)
		return ERR_NOENT;
	n = part_number(arg, keylen, why);
	if (!n)
		return ERR_INVAL;
	return parse_names(&pol->part[n], eq + 1, why);
}

const struct part_policy_entry *part_policy_entry(const struct part_policy *pol,
						  const struct part_table *t, unsigned n)
{
	static const struct part_policy_entry nobody;

	if (n > PART_MAX)
		return &nobody;
	if (n == 0 || pol->part[n].set || !t || !t->part[n].present)
		return &pol->part[n];
	return &pol->content[t->part[n].content];
}

static bool entry_names(const struct part_policy_entry *e, const char *prog)
{
	for (int i = 0; i < e->n; i++)
		if (strcmp(e->name[i], prog) == 0)
			return true;
	return false;
}

bool part_policy_allows(const struct part_policy *pol, const struct part_table *t,
			unsigned disk, unsigned part, const char *prog)
{
	if (part > PART_MAX || (disk > 0 && part > 0))
		return false;	/* only disk 0's partitions are named */
	return entry_names(part_policy_entry(pol, t, part), prog);
}

const char *part_policy_names(const struct part_policy_entry *e, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < e->n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "", e->name[i]);
	return e->n ? buf : "nobody";
}

/* --- a request's access --- */

static bool access_allowed(const struct part_policy *pol, const struct part_table *t,
			   unsigned disk, const struct part_client *c, unsigned part)
{
	return !c->stripped && part_policy_allows(pol, t, disk, part, c->name);
}

uint64_t part_access_mine(const struct part_policy *pol, const struct part_table *t,
			  unsigned disk, const struct part_client *c)
{
	uint64_t mine = 0;

	for (unsigned n = 0; n <= PART_MAX; n++)
		if (t->part[n].present && access_allowed(pol, t, disk, c, n))
			mine |= 1ULL << n;
	return mine;
}

/* The request names an allowance: is it one that lets c use partition n? */
static long through_allowance(const struct part_policy *pol, const struct part_table *t,
			      unsigned disk, unsigned n, const struct part_client *c,
			      part_allowance_fn allowance, uint64_t id, struct part_access *acc,
			      const char **why)
{
	const struct allow_info *a = allowance(id);

	if (!a)
		*why = "its allowance is not live";
	else if ((uint64_t)a->ai_grantee != c->pid)
		*why = "its allowance is another process's";
	else if (a->ai_tag != BLOCK_PART(disk, n))
		*why = "its allowance is for another partition";
	else if (!part_policy_allows(pol, t, disk, n, a->ai_creator_name))
		*why = "its allowance comes from a program that may not use this partition";
	else if (n > PART_MAX || !t->part[n].present)
		return ERR_NOENT;
	else {
		*acc = (struct part_access){ .disk = disk, .partno = n, .part = &t->part[n],
					     .allowance = id, .creator = a->ai_creator_name,
					     .nranges = a->ai_nranges, .ranges = a->ai_ranges };
		return 0;
	}
	return ERR_PERM;
}

long part_access_resolve(const struct part_policy *pol, const struct part_table *const *tables,
			 int ndisks, const struct part_client *c, uint64_t part_arg, bool info,
			 part_allowance_fn allowance, struct part_access *acc, const char **why)
{
	uint64_t id = BLOCK_PART_ALLOW(part_arg);
	uint64_t disk = BLOCK_PART_DISK(part_arg), n = BLOCK_PART_NUM(part_arg);
	const struct part_table *t;

	if (disk >= BLOCK_DISKS_MAX)
		return ERR_PERM;
	if ((int)disk >= ndisks)	/* only raw= can name a disk that is not there */
		return !c->stripped && (info || n == 0) &&
				       part_policy_allows(pol, NULL, (unsigned)disk, 0, c->name)
			       ? ERR_NOENT
			       : ERR_PERM;
	t = tables[disk];
	if (c->stripped)
		return ERR_PERM;
	if (id && !access_allowed(pol, t, (unsigned)disk, c, (unsigned)n))
		return through_allowance(pol, t, (unsigned)disk, (unsigned)n, c, allowance, id, acc,
					 why);
	if (info ? part_access_mine(pol, t, (unsigned)disk, c) == 0
		 : !access_allowed(pol, t, (unsigned)disk, c, (unsigned)n))
		return ERR_PERM;
	if (n > PART_MAX || !t->part[n].present)
		return ERR_NOENT;
	*acc = (struct part_access){ .disk = (unsigned)disk, .partno = (unsigned)n,
				     .part = &t->part[n] };
	return 0;
}

bool part_access_covers(const struct part_access *acc, uint64_t first, uint64_t count)
{
	if (!acc->nranges)
		return true;
	for (uint32_t k = 0; k < acc->nranges; k++)
		if (first >= acc->ranges[k].ar_start &&
		    first + count <= acc->ranges[k].ar_start + acc->ranges[k].ar_count)
			return true;
	return false;
}

/* "swap area 46455252-..." or "FAT file system" */
static const char *content_str(const struct part *p, char *buf, size_t size)
{
	char uuid[37];
	bool named = p->content == PART_SWAP || p->content == PART_EXT2;

	snprintf(buf, size, "%s%s%s", part_content_name(p->content), named ? " " : "",
		 named ? part_uuid_str(p->uuid, uuid) : "");
	return buf;
}

void part_policy_report(const struct part_policy *pol, const struct part_table *t,
			const struct part_disk *d)
{
	char line[256], who[80], what[80];

	for (int n = 1; n <= PART_MAX; n++) {
		const struct part *p = &t->part[n];

		if (!p->present)
			continue;
		snprintf(line, sizeof(line), "%s: %s part%d: type %#x, %llu sectors at %llu, %s (%s%s)",
			 d->name, t->scheme, n, p->type, (unsigned long long)p->sectors,
			 (unsigned long long)p->start, content_str(p, what, sizeof(what)),
			 part_policy_names(part_policy_entry(pol, t, (unsigned)n), who, sizeof(who)),
			 pol->part[n].set ? ", by the arguments" : "");
		d->log(d->ctx, line);
	}
	snprintf(line, sizeof(line), "disks whole (raw): %s",
		 part_policy_names(&pol->part[0], who, sizeof(who)));
	d->log(d->ctx, line);
}

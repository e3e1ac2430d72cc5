/* SPDX-License-Identifier: MIT */
/* kernel/acpi/tables.c: good RSDPs and tables pass; every broken one is refused with a reason. */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdint.h>
#include <stdlib.h>

#include "../../kernel/acpi/tables.c"
#include "../../kernel/acpi/dmar.c"

static void fix_checksum(uint8_t *p, size_t n, size_t at)
{
	p[at] = 0;
	p[at] = (uint8_t)(0x100 - acpi_sum(p, n));
}

static struct acpi_rsdp good_rsdp(int revision)
{
	struct acpi_rsdp r = { .signature = "RSD PTR ", .revision = (uint8_t)revision,
			       .rsdt_address = 0x7fe1000 };

	if (revision >= 2) {
		r.length = sizeof(r);
		r.xsdt_address = 0x7fe2000;
	}
	fix_checksum((uint8_t *)&r, 20, offsetof(struct acpi_rsdp, checksum));
	if (revision >= 2)
		fix_checksum((uint8_t *)&r, sizeof(r), offsetof(struct acpi_rsdp, extended_checksum));
	return r;
}

HTEST(rsdp_v1_names_rsdt)
{
	struct acpi_rsdp r = good_rsdp(0);
	struct acpi_root root;
	const char *why;

	HCHECK_EQ(acpi_rsdp_check(&r, 20, &root, &why), 0);
	HCHECK_EQ(root.address, 0x7fe1000);
	HCHECK_EQ(root.entry_size, 4);
	HCHECK(why == NULL);
}

HTEST(rsdp_v2_prefers_xsdt)
{
	struct acpi_rsdp r = good_rsdp(2);
	struct acpi_root root;
	const char *why;

	HCHECK_EQ(acpi_rsdp_check(&r, sizeof(r), &root, &why), 0);
	HCHECK_EQ(root.address, 0x7fe2000);
	HCHECK_EQ(root.entry_size, 8);
}

HTEST(rsdp_broken_refused)
{
	struct acpi_rsdp r;
	struct acpi_root root;
	const char *why;

	r = good_rsdp(0);
	HCHECK(acpi_rsdp_check(&r, 19, &root, &why) < 0);
	r.signature[0] = 'X';
	HCHECK(acpi_rsdp_check(&r, 20, &root, &why) < 0);
	HCHECK(strstr(why, "signature") != NULL);
	r = good_rsdp(0);
	r.rsdt_address++;	/* checksum now wrong */
	HCHECK(acpi_rsdp_check(&r, 20, &root, &why) < 0);
	HCHECK(strstr(why, "checksum") != NULL);
	r = good_rsdp(2);
	r.xsdt_address++;	/* extended checksum wrong, 1.0 part fine */
	HCHECK(acpi_rsdp_check(&r, sizeof(r), &root, &why) < 0);
	HCHECK(strstr(why, "extended") != NULL);
	r = good_rsdp(2);
	HCHECK(acpi_rsdp_check(&r, 30, &root, &why) < 0);	/* 2.0 length past what is readable */
	r = good_rsdp(0);
	r.rsdt_address = 0;
	fix_checksum((uint8_t *)&r, 20, offsetof(struct acpi_rsdp, checksum));
	HCHECK(acpi_rsdp_check(&r, 20, &root, &why) < 0);
}

static size_t make_table(uint8_t *buf, const char *sig, uint32_t len)
{
	struct acpi_header h = { .length = len, .revision = 1 };

	memcpy(h.signature, sig, 4);
	memset(buf, 0x5a, len);
	memcpy(buf, &h, sizeof(h));
	fix_checksum(buf, len, offsetof(struct acpi_header, checksum));
	return len;
}

HTEST(table_good_passes)
{
	uint8_t buf[128];
	const char *why;

	make_table(buf, "APIC", 100);
	HCHECK_EQ(acpi_table_check(buf, sizeof(buf), "APIC", &why), 0);
	HCHECK_EQ(acpi_table_check(buf, 100, NULL, &why), 0);
}

HTEST(table_broken_refused)
{
	uint8_t buf[128];
	struct acpi_header h;
	const char *why;

	make_table(buf, "APIC", 100);
	HCHECK(acpi_table_check(buf, sizeof(buf), "DMAR", &why) < 0);
	HCHECK(strstr(why, "signature") != NULL);
	HCHECK(acpi_table_check(buf, 99, "APIC", &why) < 0);	/* length past the memory */
	HCHECK(acpi_table_check(buf, 20, "APIC", &why) < 0);	/* not even a header */
	buf[50] ^= 1;
	HCHECK(acpi_table_check(buf, sizeof(buf), "APIC", &why) < 0);
	HCHECK(strstr(why, "checksum") != NULL);
	make_table(buf, "APIC", 100);
	memcpy(&h, buf, sizeof(h));
	h.length = 10;	/* shorter than its header */
	memcpy(buf, &h, sizeof(h));
	HCHECK(acpi_table_check(buf, sizeof(buf), "APIC", &why) < 0);
}

/* --- the DMAR table (kernel/acpi/dmar.c) --- */

struct dmar_buf {
	uint8_t b[512];
	size_t len;
};

static void put(struct dmar_buf *d, const void *p, size_t n)
{
	memcpy(d->b + d->len, p, n);
	d->len += n;
}

static void put8(struct dmar_buf *d, uint8_t v) { put(d, &v, 1); }
static void put16(struct dmar_buf *d, uint16_t v) { put(d, &v, 2); }
static void put64(struct dmar_buf *d, uint64_t v) { put(d, &v, 8); }

static void dmar_start(struct dmar_buf *d, uint8_t haw_minus_1)
{
	static const uint8_t zero[10];

	d->len = sizeof(struct acpi_header);
	memset(d->b, 0, sizeof(d->b));
	put8(d, haw_minus_1);
	put8(d, 1);	/* interrupt remapping, as QEMU says with intremap=on */
	put(d, zero, 10);
}

static void dmar_finish(struct dmar_buf *d)
{
	struct acpi_header h = { .signature = "DMAR", .length = (uint32_t)d->len, .revision = 1 };

	memcpy(d->b, &h, sizeof(h));
	fix_checksum(d->b, d->len, offsetof(struct acpi_header, checksum));
}

/* A scope: type, start bus, then npath (device, function) pairs. */
static void put_scope(struct dmar_buf *d, uint8_t type, uint8_t bus, int npath, const uint8_t *path)
{
	put8(d, type);
	put8(d, (uint8_t)(6 + 2 * npath));
	put16(d, 0);
	put8(d, 0);	/* enumeration id */
	put8(d, bus);
	put(d, path, (size_t)(2 * npath));
}

/* A DRHD with room for scopes; => where its length field is. */
static size_t put_drhd(struct dmar_buf *d, bool all, uint16_t segment, uint64_t base)
{
	size_t at = d->len;

	put16(d, 0);
	put16(d, 16);
	put8(d, all ? 1 : 0);
	put8(d, 0);
	put16(d, segment);
	put64(d, base);
	return at;
}

static void close_struct(struct dmar_buf *d, size_t at)
{
	uint16_t len = (uint16_t)(d->len - at);

	memcpy(d->b + at + 2, &len, 2);
}

/* What QEMU 7.2 builds for -device intel-iommu: one catch-all unit and its IOAPIC. */
static void qemu_dmar(struct dmar_buf *d)
{
	static const uint8_t ioapic_path[2] = { 0x1f, 0x00 };
	size_t at;

	dmar_start(d, 38);
	at = put_drhd(d, true, 0, 0xfed90000);
	put_scope(d, DMAR_SCOPE_IOAPIC, 0xff, 1, ioapic_path);
	close_struct(d, at);
	dmar_finish(d);
}

static int no_bridges(void *ctx, uint8_t bus, uint8_t devfn, uint8_t *sec, uint8_t *sub)
{
	(void)ctx, (void)bus, (void)devfn, (void)sec, (void)sub;
	return -1;
}

/* One bridge: 00:01.0, buses 2..3 below it. */
static int one_bridge(void *ctx, uint8_t bus, uint8_t devfn, uint8_t *sec, uint8_t *sub)
{
	(void)ctx;
	if (bus != 0 || devfn != (1 << 3))
		return -1;
	*sec = 2;
	*sub = 3;
	return 0;
}

HTEST(dmar_qemu_table_parses)
{
	struct dmar_buf d;
	struct dmar_info info;
	struct dmar_pci_ops pci = { no_bridges, NULL };
	const char *why;

	qemu_dmar(&d);
	HCHECK_EQ(acpi_table_check(d.b, d.len, "DMAR", &why), 0);
	HCHECK_EQ(acpi_dmar_parse(d.b, d.len, &info, &why), 0);
	HCHECK(why == NULL);
	HCHECK_EQ(info.host_address_width, 39);
	HCHECK_EQ(info.nunits, 1);
	HCHECK_EQ(info.unit[0].base, 0xfed90000);
	HCHECK(info.unit[0].include_all);
	HCHECK_EQ(info.unit[0].nscopes, 1);
	HCHECK_EQ(info.unit[0].scope[0].type, DMAR_SCOPE_IOAPIC);
	HCHECK_EQ(info.unit[0].scope[0].start_bus, 0xff);
	HCHECK_EQ(info.unit[0].scope[0].path[0].device, 0x1f);
	HCHECK_EQ(acpi_dmar_unit_for(&info, 0, 0, 3 << 3, &pci), 0);
	HCHECK_EQ(acpi_dmar_unit_for(&info, 1, 0, 3 << 3, &pci), -1);	/* another segment */
}

/* QEMU 7.2's q35 as it is: no catch-all flag, the IOAPIC, then every PCI
 * function as an endpoint scope; with an NVMe controller that is 10. */
HTEST(dmar_qemu_q35_lists_every_function)
{
	static const uint8_t ioapic_path[2] = { 0x1f, 0x00 };
	static const uint8_t fns[9][2] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 0 },
					   { 0x1f, 0 }, { 0x1f, 2 }, { 0x1f, 3 }, { 5, 0 } };
	struct dmar_pci_ops pci = { no_bridges, NULL };
	struct dmar_buf d;
	struct dmar_info info;
	const char *why;
	size_t at;

	dmar_start(&d, 38);
	at = put_drhd(&d, false, 0, 0xfed90000);
	put_scope(&d, DMAR_SCOPE_IOAPIC, 0xff, 1, ioapic_path);
	for (int i = 0; i < 9; i++)
		put_scope(&d, DMAR_SCOPE_ENDPOINT, 0, 1, fns[i]);
	close_struct(&d, at);
	dmar_finish(&d);
	HCHECK_EQ(acpi_dmar_parse(d.b, d.len, &info, &why), 0);
	HCHECK_EQ(info.nunits, 1);
	HCHECK(!info.unit[0].include_all);
	HCHECK_EQ(info.unit[0].nscopes, 10);
	HCHECK_EQ(acpi_dmar_unit_for(&info, 0, 0, 4 << 3, &pci), 0);	/* the NVMe function */
	HCHECK_EQ(acpi_dmar_unit_for(&info, 0, 0, 6 << 3, &pci), -1);	/* not listed */
}

HTEST(dmar_units_by_scope)
{
	static const uint8_t ide[2] = { 3, 0 }, behind[4] = { 1, 0, 0, 0 }, bridge[2] = { 1, 0 };
	struct dmar_buf d;
	struct dmar_info info;
	struct dmar_pci_ops pci = { one_bridge, NULL };
	const char *why;
	size_t at;

	dmar_start(&d, 47);
	at = put_drhd(&d, false, 0, 0xfed91000);	/* 00:03.0 and 02:00.0 */
	put_scope(&d, DMAR_SCOPE_ENDPOINT, 0, 1, ide);
	put_scope(&d, DMAR_SCOPE_ENDPOINT, 0, 2, behind);
	close_struct(&d, at);
	at = put_drhd(&d, false, 0, 0xfed92000);	/* the bridge 00:01.0 and below */
	put_scope(&d, DMAR_SCOPE_BRIDGE, 0, 1, bridge);
	close_struct(&d, at);
	at = put_drhd(&d, true, 0, 0xfed90000);		/* the rest */
	close_struct(&d, at);
	at = d.len;					/* an RMRR for 00:03.0 */
	put16(&d, 1);
	put16(&d, 0);
	put16(&d, 0);
	put16(&d, 0);
	put64(&d, 0xe8000);
	put64(&d, 0xe8fff);
	put_scope(&d, DMAR_SCOPE_ENDPOINT, 0, 1, ide);
	close_struct(&d, at);
	put16(&d, 2);					/* an ATSR: skipped */
	put16(&d, 8);
	put16(&d, 0);
	put16(&d, 0);
	dmar_finish(&d);
	HCHECK_EQ(acpi_dmar_parse(d.b, d.len, &info, &why), 0);
	HCHECK_EQ(info.host_address_width, 48);
	HCHECK_EQ(info.nunits, 3);
	HCHECK_EQ(info.nrmrr, 1);
	HCHECK_EQ(info.nother, 1);
	HCHECK_EQ(info.rmrr[0].base, 0xe8000);
	HCHECK_EQ(info.rmrr[0].limit, 0xe8fff);
	HCHECK_EQ(acpi_dmar_unit_for(&info, 0, 0, 3 << 3, &pci), 0);	/* endpoint */
	HCHECK_EQ(acpi_dmar_unit_for(&info, 0, 2, 0, &pci), 0);	/* endpoint behind the bridge */
	HCHECK_EQ(acpi_dmar_unit_for(&info, 0, 3, 0, &pci), 1);	/* below the bridge */
	HCHECK_EQ(acpi_dmar_unit_for(&info, 0, 0, 1 << 3, &pci), 1);	/* the bridge itself */
	HCHECK_EQ(acpi_dmar_unit_for(&info, 0, 0, 4 << 3, &pci), 2);	/* anything else */
	HCHECK_EQ(acpi_dmar_unit_for(&info, 0, 4, 0, &pci), 2);
}

/* Builds QEMU's table, lets `spoil` change it, fixes the checksum: must be refused with `reason`. */
static void refused_for(void (*spoil)(struct dmar_buf *d), const char *reason)
{
	struct dmar_buf d;
	struct dmar_info info;
	const char *why = NULL;

	qemu_dmar(&d);
	spoil(&d);
	dmar_finish(&d);
	HCHECK(acpi_dmar_parse(d.b, d.len, &info, &why) < 0);
	HCHECK(why && strstr(why, reason) != NULL);
	if (why && !strstr(why, reason))
		fprintf(stderr, "  refused for '%s', want '%s'\n", why, reason);
}

static void spoil_width(struct dmar_buf *d) { d->b[36] = 20; }
static void spoil_no_unit(struct dmar_buf *d) { d->len = 48; }
static void spoil_base(struct dmar_buf *d) { d->b[48 + 8] = 0x10; }
static void spoil_struct_len0(struct dmar_buf *d) { d->b[48 + 2] = 0; d->b[48 + 3] = 0; }
static void spoil_struct_long(struct dmar_buf *d) { d->b[48 + 2] = 200; }
static void spoil_scope_short(struct dmar_buf *d) { d->b[48 + 16 + 1] = 2; }
static void spoil_scope_long(struct dmar_buf *d) { d->b[48 + 16 + 1] = 40; }
static void spoil_scope_odd(struct dmar_buf *d) { d->b[48 + 16 + 1] = 7; d->b[48 + 2] = 23; d->len++; }
static void spoil_scope_type(struct dmar_buf *d) { d->b[48 + 16] = 9; }
static void spoil_scope_device(struct dmar_buf *d) { d->b[48 + 16 + 6] = 40; }
static void spoil_header_cut(struct dmar_buf *d) { d->len = 50; }

static void spoil_two_catch_alls(struct dmar_buf *d)
{
	size_t at = put_drhd(d, true, 0, 0xfed91000);

	close_struct(d, at);
}

static void spoil_five_units(struct dmar_buf *d)
{
	for (int i = 0; i < 4; i++) {
		size_t at = put_drhd(d, false, 0, 0xfed91000 + 0x1000 * (uint64_t)i);

		close_struct(d, at);
	}
}

HTEST(dmar_broken_refused)
{
	refused_for(spoil_width, "host address width");
	refused_for(spoil_no_unit, "no remapping unit");
	refused_for(spoil_base, "register base");
	refused_for(spoil_struct_len0, "shorter than 4 bytes");
	refused_for(spoil_struct_long, "past the table");
	refused_for(spoil_scope_short, "shorter than 6 bytes");
	refused_for(spoil_scope_long, "past its structure");
	refused_for(spoil_scope_odd, "whole (device, function) pairs");
	refused_for(spoil_scope_type, "unknown type");
	refused_for(spoil_scope_device, "device > 31");
	refused_for(spoil_header_cut, "runs past the table");
	refused_for(spoil_two_catch_alls, "two DRHDs include every device");
	refused_for(spoil_five_units, "more remapping units");
}

/* Every byte of a good table flipped, every length cut short: refused or parsed, never out of bounds (ASan). */
HTEST(dmar_every_corruption_is_safe)
{
	struct dmar_buf d;
	struct dmar_info info;
	const char *why;

	qemu_dmar(&d);
	for (size_t cut = 0; cut < d.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, d.b, cut);
		HCHECK(acpi_dmar_parse(copy, cut, &info, &why) < 0);
		free(copy);
	}
	for (size_t i = 0; i < d.len; i++)
		for (int bit = 0; bit < 8; bit++) {
			uint8_t *copy = malloc(d.len);

			memcpy(copy, d.b, d.len);
			copy[i] ^= (uint8_t)(1 << bit);
			(void)acpi_dmar_parse(copy, d.len, &info, &why);
			free(copy);
		}
}

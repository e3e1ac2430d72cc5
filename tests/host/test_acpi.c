/* SPDX-License-Identifier: MIT */
/* kernel/acpi/tables.c: good RSDPs and tables pass; every broken one is refused with a reason. */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdint.h>

#include "../../kernel/acpi/tables.c"

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

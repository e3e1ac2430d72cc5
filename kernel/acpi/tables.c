// SPDX-License-Identifier: MIT
/*
 * The checks every ACPI structure passes before anything reads it: pure
 * code over a buffer and the number of bytes that may be read there, so
 * the host tests feed it every kind of broken table (tests/host/test_acpi.c).
 */
#include <string.h>

#include "acpi.h"

#define RSDP_V1_LEN	20

uint8_t acpi_sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

int acpi_rsdp_check(const void *p, size_t avail, struct acpi_root *root, const char **why)
{
	struct acpi_rsdp r = { 0 };

	*why = "RSDP shorter than 20 bytes";
	if (avail < RSDP_V1_LEN)
		return -1;
	memcpy(&r, p, avail < sizeof(r) ? avail : sizeof(r));
	*why = "no \"RSD PTR \" signature";
	if (memcmp(r.signature, "RSD PTR ", 8) != 0)
		return -1;
	*why = "RSDP checksum wrong";
	if (acpi_sum(p, RSDP_V1_LEN) != 0)
		return -1;
	if (r.revision >= 2) {
		*why = "ACPI 2.0 RSDP length out of bounds";
		if (r.length < sizeof(r) || r.length > avail)
			return -1;
		*why = "ACPI 2.0 RSDP extended checksum wrong";
		if (acpi_sum(p, r.length) != 0)
			return -1;
		if (r.xsdt_address) {
			root->address = r.xsdt_address;
			root->entry_size = 8;
			*why = NULL;
			return 0;
		}
	}
	*why = "RSDP names no root table";
	if (!r.rsdt_address)
		return -1;
	root->address = r.rsdt_address;
	root->entry_size = 4;
	*why = NULL;
	return 0;
}

int acpi_table_check(const void *p, size_t avail, const char *sig, const char **why)
{
	struct acpi_header h;

	*why = "shorter than an ACPI header";
	if (avail < sizeof(h))
		return -1;
	memcpy(&h, p, sizeof(h));
	*why = "signature is not what its entry names";
	if (sig && memcmp(h.signature, sig, 4) != 0)
		return -1;
	*why = "length shorter than its header";
	if (h.length < sizeof(h))
		return -1;
	*why = "length past the end of the table's memory";
	if (h.length > avail || h.length > ACPI_TABLE_LEN_MAX)
		return -1;
	*why = "checksum wrong";
	if (acpi_sum(p, h.length) != 0)
		return -1;
	*why = NULL;
	return 0;
}

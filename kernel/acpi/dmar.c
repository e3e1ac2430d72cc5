// SPDX-License-Identifier: MIT
/*
 * The DMAR table (Intel VT-d specification, chapter 8): which DMA
 * remapping units the platform has, where their registers are, and which
 * PCI devices each one translates.  Pure code over a buffer, so the host
 * tests (tests/host/test_acpi.c) feed it every kind of broken table; the
 * table itself has passed acpi_table_check() (length, checksum) already.
 *
 *   header (36) | host address width (1) | flags (1) | reserved (10)
 *   then remapping structures, each: type (2) | length (2) | body
 *     0 DRHD  a remapping unit: flags, size, segment, register base, scopes
 *     1 RMRR  memory a device keeps using (legacy USB, graphics): scopes
 *     2.. ATSR, RHSA, ANDD, SATC: nothing Ferry uses; counted and skipped
 *   a device scope: type (1) | length (1) | reserved (2) | enumeration id
 *     (1) | start bus (1) | path: (device, function) pairs, one per bridge
 */
#include <string.h>

#include "acpi.h"

#define DMAR_FIXED_LEN		48	/* header, width, flags, reserved */
#define DMAR_STRUCT_MIN		4
#define DMAR_DRHD_MIN		16
#define DMAR_RMRR_MIN		24
#define DMAR_SCOPE_MIN		6

enum { DMAR_TYPE_DRHD = 0, DMAR_TYPE_RMRR = 1 };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);	/* little-endian host; fields are unaligned */
	return v;
}

/* The device scopes in [p, end) into scope[0..max).  => count, or -1 with *why. */
static int parse_scopes(const uint8_t *p, const uint8_t *end, struct dmar_scope *scope, int max,
			const char **why)
{
	int n = 0;

	while (p < end) {
		struct dmar_scope *s = &scope[n];
		size_t len;

		*why = "device scope shorter than 6 bytes";
		if (end - p < DMAR_SCOPE_MIN || p[1] < DMAR_SCOPE_MIN)
			return -1;
		len = p[1];
		*why = "device scope runs past its structure";
		if (len > (size_t)(end - p))
			return -1;
		*why = "device scope path is not whole (device, function) pairs";
		if ((len - DMAR_SCOPE_MIN) % 2 || len == DMAR_SCOPE_MIN)
			return -1;
		*why = "device scope of an unknown type";
		if (p[0] < DMAR_SCOPE_ENDPOINT || p[0] > DMAR_SCOPE_NAMESPACE)
			return -1;
		*why = "device scope path deeper than Ferry follows";
		if ((len - DMAR_SCOPE_MIN) / 2 > DMAR_PATH_MAX)
			return -1;
		*why = "too many device scopes in one structure";
		if (n == max)
			return -1;
		memset(s, 0, sizeof(*s));
		s->type = p[0];
		s->enum_id = p[4];
		s->start_bus = p[5];
		s->npath = (uint8_t)((len - DMAR_SCOPE_MIN) / 2);
		for (int i = 0; i < s->npath; i++) {
			s->path[i].device = p[DMAR_SCOPE_MIN + 2 * i];
			s->path[i].function = p[DMAR_SCOPE_MIN + 2 * i + 1];
			*why = "device scope path names device > 31 or function > 7";
			if (s->path[i].device > 31 || s->path[i].function > 7)
				return -1;
		}
		n++;
		p += len;
	}
	return n;
}

static int parse_drhd(const uint8_t *p, size_t len, struct dmar_info *out, const char **why)
{
	struct dmar_unit *u = &out->unit[out->nunits];
	int n;

	*why = "DRHD shorter than 16 bytes";
	if (len < DMAR_DRHD_MIN)
		return -1;
	*why = "more remapping units than Ferry drives";
	if (out->nunits == DMAR_UNITS_MAX)
		return -1;
	memset(u, 0, sizeof(*u));
	u->include_all = p[4] & 1;
	u->segment = get16(p + 6);
	u->base = get64(p + 8);
	*why = "DRHD register base is 0 or not page aligned";
	if (!u->base || (u->base & 0xfff))
		return -1;
	n = parse_scopes(p + DMAR_DRHD_MIN, p + len, u->scope, DMAR_SCOPES_MAX, why);
	if (n < 0)
		return -1;
	u->nscopes = n;
	/* The spec puts a segment's catch-all unit last: one per segment. */
	for (int i = 0; i < out->nunits; i++) {
		*why = "two DRHDs include every device of the same segment";
		if (u->include_all && out->unit[i].include_all &&
		    out->unit[i].segment == u->segment)
			return -1;
	}
	out->nunits++;
	return 0;
}

static int parse_rmrr(const uint8_t *p, size_t len, struct dmar_info *out, const char **why)
{
	struct dmar_rmrr *r = &out->rmrr[out->nrmrr];
	int n;

	*why = "RMRR shorter than 24 bytes";
	if (len < DMAR_RMRR_MIN)
		return -1;
	*why = "more RMRRs than Ferry keeps";
	if (out->nrmrr == DMAR_RMRR_MAX)
		return -1;
	memset(r, 0, sizeof(*r));
	r->segment = get16(p + 6);
	r->base = get64(p + 8);
	r->limit = get64(p + 16);
	*why = "RMRR range is not whole pages, or ends before it starts";
	if ((r->base & 0xfff) || (r->limit & 0xfff) != 0xfff || r->limit < r->base)
		return -1;
	n = parse_scopes(p + DMAR_RMRR_MIN, p + len, r->scope, DMAR_SCOPES_MAX, why);
	if (n < 0)
		return -1;
	r->nscopes = n;
	out->nrmrr++;
	return 0;
}

int acpi_dmar_parse(const void *table, size_t avail, struct dmar_info *out, const char **why)
{
	const uint8_t *t = table;
	struct acpi_header h;
	size_t at;

	memset(out, 0, sizeof(*out));
	*why = "DMAR shorter than its fixed part (48 bytes)";
	if (avail < DMAR_FIXED_LEN)
		return -1;
	memcpy(&h, t, sizeof(h));
	*why = "DMAR length shorter than its fixed part, or past its memory";
	if (h.length < DMAR_FIXED_LEN || h.length > avail)
		return -1;
	out->host_address_width = (uint8_t)(t[36] + 1);
	out->flags = t[37];
	*why = "host address width outside 32..64 bits";
	if (out->host_address_width < 32 || out->host_address_width > 64)
		return -1;
	for (at = DMAR_FIXED_LEN; at < h.length;) {
		uint16_t type, len;
		int err = 0;

		*why = "remapping structure header runs past the table";
		if (h.length - at < DMAR_STRUCT_MIN)
			return -1;
		type = get16(t + at);
		len = get16(t + at + 2);
		*why = "remapping structure shorter than 4 bytes or past the table";
		if (len < DMAR_STRUCT_MIN || len > h.length - at)
			return -1;
		if (type == DMAR_TYPE_DRHD)
			err = parse_drhd(t + at, len, out, why);
		else if (type == DMAR_TYPE_RMRR)
			err = parse_rmrr(t + at, len, out, why);
		else
			out->nother++;
		if (err)
			return -1;
		at += len;
	}
	*why = "no remapping unit (DRHD)";
	if (!out->nunits)
		return -1;
	*why = NULL;
	return 0;
}

/* Does scope s name the function at bus:devfn (an endpoint), or a bridge above it? */
static bool scope_covers(const struct dmar_scope *s, uint8_t bus, uint8_t devfn,
			 const struct dmar_pci_ops *pci)
{
	uint8_t at = s->start_bus, sec, sub;

	if (s->type != DMAR_SCOPE_ENDPOINT && s->type != DMAR_SCOPE_BRIDGE)
		return false;
	for (int i = 0; i < s->npath; i++) {
		uint8_t fn = (uint8_t)(s->path[i].device << 3 | s->path[i].function);

		if (i == s->npath - 1 && s->type == DMAR_SCOPE_ENDPOINT)
			return at == bus && fn == devfn;
		if (pci->bridge_buses(pci->ctx, at, fn, &sec, &sub))
			return false;	/* the path names no bridge: it covers nothing */
		if (i == s->npath - 1)
			return (at == bus && fn == devfn) || (bus >= sec && bus <= sub);
		at = sec;
	}
	return false;
}

int acpi_dmar_unit_for(const struct dmar_info *d, uint16_t segment, uint8_t bus, uint8_t devfn,
		       const struct dmar_pci_ops *pci)
{
	int all = -1;

	for (int u = 0; u < d->nunits; u++) {
		const struct dmar_unit *unit = &d->unit[u];

		if (unit->segment != segment)
			continue;
		if (unit->include_all) {
			all = u;
			continue;
		}
		for (int k = 0; k < unit->nscopes; k++)
			if (scope_covers(&unit->scope[k], bus, devfn, pci))
				return u;
	}
	return all;
}

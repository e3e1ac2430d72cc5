// SPDX-License-Identifier: MIT
/* Finding a driver's PCI function by class (pci.h). */
#include <ferry/err.h>
#include <ferry/sys.h>
#include <pci.h>

#define PCI_ID		0x00
#define PCI_CLASS	0x08	/* class << 24 | subclass << 16 | prog-if << 8 | revision */
#define PCI_HEADER	0x0E
#define PCI_SECONDARY	0x19	/* bridges: the bus behind them */
#define PCI_CLASS_BRIDGE 0x0604	/* PCI-to-PCI */
#define PCI_BUSES_MAX	8	/* bus 0 and bridges found from it */

uint32_t pci_config_read(uint32_t bdf, int offset, int size)
{
	long v = sys_pci_read(bdf, offset, size);

	return v < 0 ? 0xFFFFFFFFu : (uint32_t)v;
}

long pci_find_class(uint32_t class, unsigned bits)
{
	uint8_t buses[PCI_BUSES_MAX] = { 0 };
	int nbuses = 1;

	for (int b = 0; b < nbuses; b++) {
		for (uint32_t dev = 0; dev < 32; dev++) {
			int nfn = 1;

			for (int fn = 0; fn < nfn; fn++) {
				uint32_t bdf = (uint32_t)buses[b] << 8 | dev << 3 | (uint32_t)fn;
				uint32_t code;

				if ((uint16_t)pci_config_read(bdf, PCI_ID, 2) == 0xFFFF)
					continue;
				if (fn == 0 && (pci_config_read(bdf, PCI_HEADER, 1) & 0x80))
					nfn = 8;
				code = pci_config_read(bdf, PCI_CLASS, 4) >> 8;
				if (code >> (24 - bits) == class)
					return bdf;
				if (code >> 8 == PCI_CLASS_BRIDGE && nbuses < PCI_BUSES_MAX) {
					uint8_t sec = (uint8_t)pci_config_read(bdf, PCI_SECONDARY, 1);

					if (sec > buses[b])	/* a sane bridge leads further */
						buses[nbuses++] = sec;
				}
			}
		}
	}
	return ERR_NOENT;
}

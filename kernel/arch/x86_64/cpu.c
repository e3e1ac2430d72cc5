// SPDX-License-Identifier: MIT
/* CPU bring-up and the small machine controls of arch.h. */
#include "../arch.h"
#include "cpu.h"
#include "trap.h"

#define QEMU_DEBUG_EXIT_PORT	0xF4	/* -device isa-debug-exit,iobase=0xf4 */
#define KBC_STATUS		0x64
#define KBC_RESET		0xFE
#define ACPI_PM1A_CNT_QEMU	0x604	/* PIIX4 PM in QEMU's pc machine */
#define ACPI_PM1A_CNT_BOCHS	0xB004
#define ACPI_SLP_EN		0x2000

void arch_init_cpu(void)
{
	gdt_init();
	idt_init();
}

void arch_init_interrupts(void)
{
	pic_init();
	timer_init();
}

bool arch_irqs_enabled(void)
{
	return read_rflags() & RFLAGS_IF;
}

unsigned long arch_irq_save(void)
{
	unsigned long flags = read_rflags();

	__asm__ volatile("cli" ::: "memory");
	return flags & RFLAGS_IF;
}

void arch_irq_restore(unsigned long state)
{
	if (state)
		__asm__ volatile("sti" ::: "memory");
}

/* sti takes effect after the next instruction, so no wake-up is lost
 * between enabling interrupts and halting. */
void arch_wait_for_interrupt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

_Noreturn void arch_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

_Noreturn void arch_qemu_exit(int code)
{
	outl(QEMU_DEBUG_EXIT_PORT, (uint32_t)code);
	arch_halt_forever();	/* not under QEMU, or no exit device */
}

_Noreturn void arch_reboot(void)
{
	while (inb(KBC_STATUS) & 0x02)
		;
	outb(KBC_STATUS, KBC_RESET);
	arch_halt_forever();
}

_Noreturn void arch_power_off(void)
{
	outw(ACPI_PM1A_CNT_QEMU, ACPI_SLP_EN);
	outw(ACPI_PM1A_CNT_BOCHS, ACPI_SLP_EN);
	arch_halt_forever();
}

/*
 * Frame records are {saved rbp, return address}.  Stop at a null or
 * misaligned frame pointer, or one outside the kernel's halves, so a
 * corrupted stack cannot fault the panic report itself.
 */
int arch_backtrace(uint64_t fp, uint64_t *pcs, int max)
{
	int n = 0;

	while (n < max && fp && !(fp & 7) && fp >= DIRECT_MAP_BASE) {
		uint64_t *frame = (uint64_t *)fp;

		if (!frame[1])
			break;
		pcs[n++] = frame[1];
		if (frame[0] <= fp)	/* stacks grow down: callers are above */
			break;
		fp = frame[0];
	}
	return n;
}

// SPDX-License-Identifier: MIT
/* CPU bring-up and the small machine controls of arch.h. */
#include "../../cpu.h"
#include "../arch.h"
#include "cpu.h"
#include "trap.h"

#define QEMU_DEBUG_EXIT_PORT	0xF4	/* -device isa-debug-exit,iobase=0xf4 */
#define KBC_STATUS		0x64
#define KBC_RESET		0xFE
#define ACPI_PM1A_CNT_QEMU	0x604	/* PIIX4 PM in QEMU's pc machine */
#define ACPI_PM1A_CNT_BOCHS	0xB004
#define ACPI_SLP_EN		0x2000

extern char syscall_entry[], thread_trampoline[];

#define SFMASK_BITS	((1u << 8) | (1u << 9) | (1u << 10) | (1u << 18))	/* TF IF DF AC */

/* syscall/sysret: kernel CS 0x08 (SS 0x10); sysret adds 16/8 to 0x18. */
static void syscall_init(void)
{
	wrmsr(MSR_STAR, ((uint64_t)0x18 << 48) | ((uint64_t)GDT_KERNEL_CODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, SFMASK_BITS);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

void arch_init_cpu(void)
{
	gdt_init();
	idt_init();
	syscall_init();
}

/* In the kernel GS.base is the per-CPU block; user GS.base starts at 0. */
void arch_set_cpu_local(struct cpu *c)
{
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void arch_set_kernel_stack(uint64_t top)
{
	tss_set_kernel_stack(top);
	this_cpu()->kernel_rsp = top;
}

/*
 * A new stack as arch_context_switch leaves one: six callee-saved slots
 * (rbx = start), then the return into thread_trampoline, placed so that
 * start() is entered with the ABI's alignment (rsp + 8 a multiple of 16).
 */
uint64_t arch_thread_stack_init(uint64_t top, void (*start)(void))
{
	uint64_t *sp = (uint64_t *)((top & ~15UL) - 72);

	for (int i = 0; i < 6; i++)
		sp[i] = 0;
	sp[4] = (uint64_t)start;		/* rbx */
	sp[6] = (uint64_t)thread_trampoline;	/* return address */
	sp[7] = sp[8] = 0;
	return (uint64_t)sp;
}

void arch_user_frame_init(void *frame_top, uint64_t entry, uint64_t stack, uint64_t arg0,
			  uint64_t arg1)
{
	struct trap_frame *tf = (struct trap_frame *)((uint8_t *)frame_top - sizeof(*tf));

	*tf = (struct trap_frame){
		.rip = entry,
		.cs = GDT_USER_CODE | 3,
		.rflags = RFLAGS_IF | 0x2,	/* bit 1 is always set */
		.rsp = stack,
		.ss = GDT_USER_DATA | 3,
		.rdi = arg0,
		.rsi = arg1,
	};
}

void arch_irq_mask(unsigned irq)
{
	pic_mask(irq);
}

void arch_irq_unmask(unsigned irq)
{
	pic_unmask(irq);
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

void arch_cache_writeback(const void *p, size_t n)
{
	uintptr_t line = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)p + n;

	for (; line < end; line += 64)
		__asm__ volatile("clflush (%0)" : : "r"(line) : "memory");
	__asm__ volatile("mfence" : : : "memory");
}

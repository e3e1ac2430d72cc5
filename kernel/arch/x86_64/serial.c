// SPDX-License-Identifier: MIT
/*
 * COM1, a 16550 UART at 115200 8N1: the kernel log, the test harness's
 * eyes and (later) the debug console's keyboard.  Output is polled so it
 * works from any context, including panic with interrupts off.
 */
#include "../arch.h"
#include "cpu.h"

#define COM1		0x3F8
#define UART_DATA	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define LCR_DLAB	0x80
#define LCR_8N1		0x03
#define LSR_DATA_READY	0x01
#define LSR_THR_EMPTY	0x20

void arch_serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1);	/* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0xC7);	/* enable and clear FIFOs */
	outb(COM1 + UART_MCR, 0x0B);	/* DTR, RTS, OUT2 (IRQ line) */
}

void arch_serial_enable_rx_irq(void)
{
	outb(COM1 + UART_IER, 0x01);	/* received data available */
}

static void serial_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void arch_serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

int arch_serial_getc(void)
{
	if (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + UART_DATA);
}

// SPDX-License-Identifier: MIT
#include "console.h"

#include <ferry/abi.h>
#include <ferry/err.h>

#include "arch/arch.h"
#include "debug/kdb.h"
#include "log.h"
#include "proc/proc.h"
#include "uaccess.h"

#define INPUT_RING	256

static uint8_t ring[INPUT_RING];
static unsigned ring_head, ring_count;
static struct wait_queue readers;

void console_init(void)
{
	wait_queue_init(&readers);
	arch_serial_enable_rx_irq();
	arch_irq_unmask(4);
}

/* Bytes that do not fit are dropped: a human typing never fills 256. */
static void ring_put(uint8_t c)
{
	if (ring_count < INPUT_RING) {
		ring[(ring_head + ring_count) % INPUT_RING] = c;
		ring_count++;
	}
}

void console_input_irq(void)
{
	int c;

	while ((c = arch_serial_getc()) >= 0) {
		if (c == KDB_BREAK_KEY)
			kdb_enter("break key");
		else
			ring_put((uint8_t)c);
	}
	if (ring_count)
		wait_queue_wake_all(&readers, 0);
}

/*
 * Only a reader blocked for input gets the key: one busy elsewhere (a
 * shell waiting for its program) draws its prompt afresh later anyway,
 * and a queued key would make it draw it twice.
 */
void console_reprint(void)
{
	unsigned long irq = arch_irq_save();

	if (wait_queue_first(&readers)) {
		ring_put(CONSOLE_KEY_REPRINT);
		wait_queue_wake_all(&readers, 0);
	}
	arch_irq_restore(irq);
}

long console_user_write(struct proc *p, uint64_t ubuf, long len)
{
	char buf[256];
	long done = 0;

	if (len < 0 || len > CONSOLE_IO_MAX)
		return ERR_INVAL;
	if (user_range_check(p, ubuf, (size_t)len, 0))
		return ERR_FAULT;
	while (done < len) {
		size_t chunk = (size_t)(len - done) < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);

		copy_from_user(p, buf, ubuf + (uint64_t)done, chunk);
		console_write(buf, chunk);
		done += (long)chunk;
	}
	return done;
}

long console_user_read(struct proc *p, uint64_t ubuf, long len)
{
	uint8_t buf[INPUT_RING];
	long n = 0, err;

	if (len <= 0 || len > CONSOLE_IO_MAX)
		return ERR_INVAL;
	if (user_range_check(p, ubuf, (size_t)len, 1))
		return ERR_FAULT;
	while (ring_count == 0) {
		err = thread_block(&readers, THREAD_BLOCKED_CONSOLE, 0, -1);
		if (err)
			return err;
	}
	while (ring_count && n < len && n < (long)sizeof(buf)) {
		buf[n++] = ring[ring_head];
		ring_head = (ring_head + 1) % INPUT_RING;
		ring_count--;
	}
	copy_to_user(p, ubuf, buf, (size_t)n);
	return n;
}

// SPDX-License-Identifier: MIT
#include <ferry/sys.h>
#include <ipc.h>
#include <proc.h>

long ipc_publish(const char *name, long queue_len)
{
	long port, ret;

	port = sys_port_create(queue_len);
	if (port < 0)
		return port;
	ret = sys_port_publish(name, port);
	if (ret < 0) {
		sys_port_destroy(port);
		return ret;
	}
	return port;
}

/*
 * Polling is crude, but there is no "tell me when a name appears" call,
 * and a name is normally published within a few scheduler ticks.
 */
long ipc_lookup(const char *name, long timeout_ns)
{
	long start = sys_clock_ns();
	long port;

	for (;;) {
		port = sys_port_lookup(name);
		if (port != ERR_NOENT)
			return port;
		if (timeout_ns >= 0 && sys_clock_ns() - start >= timeout_ns)
			return ERR_NOENT;
		sys_sleep(MSEC_NS);
	}
}

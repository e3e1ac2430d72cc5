/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the two steps every client and server repeat: a server
 * creates and publishes its port, a client waits for the name to appear
 * (a freshly spawned server publishes some time after spawn returns).
 *
 * Mind that sys_recv and sys_call read the message they fill: its `page`
 * (and with MSG_PAGE the page count in `flags`) names the receiver's page
 * buffer, so clear a struct msg before receiving into it.
 */
#ifndef FERRY_IPC_H
#define FERRY_IPC_H

#include <ferry/msg.h>

/* Creates a port with room for queue_len messages and publishes it as name. */
long ipc_publish(const char *name, long queue_len);

/*
 * Looks name up, retrying every millisecond for up to timeout_ns (-1: for
 * ever).
 * => returns the port handle, or ERR_NOENT after the timeout.
 */
long ipc_lookup(const char *name, long timeout_ns);

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_server.h — the control protocol's server side, on the main lcore.
 *
 * One thread (the EAL main lcore) runs an epoll loop over the listening
 * unix socket and every client connection.  Each complete message is
 * decoded with the codec, executed with one call into dataplane.h, and
 * answered; events from the data plane are broadcast to every client.
 * Partial reads are buffered per connection; a client that sends garbage
 * gets an ERROR reply or is disconnected, and nothing else is affected.
 */
#ifndef SWITCHYARD_CTL_SERVER_H
#define SWITCHYARD_CTL_SERVER_H

#include <stdbool.h>

/* Creates the socket at path (mode 0600; its directory is created 0700 if
 * missing; a stale socket file is replaced).  Returns 0 or -1 with errno. */
int ctl_server_init(const char *path);

/* Serves until *quit becomes true, calling dp_periodic() at least every
 * 100 ms. */
void ctl_server_run(volatile bool *quit);

/* Closes every connection and removes the socket file. */
void ctl_server_fini(void);

#endif /* SWITCHYARD_CTL_SERVER_H */

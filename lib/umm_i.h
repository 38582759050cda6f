/* SPDX-License-Identifier: MIT */
/*
 * umm_i.h - libumm internals, shared by its files and not exported from
 * libumm.so (see umm.map). Prototypes grouped by the file that defines them.
 *
 * umm.c:  the public entry points; finding a mount's export socket.
 * conn.c: connections to export sockets: the socket path cache of each mount,
 *         kept connections, one request and its reply.
 *
 * Everything here is called from the library user's threads, any of them at
 * once: conn.c guards its tables with one mutex of its own.
 */
#ifndef UMM_I_H
#define UMM_I_H

#include <sys/types.h>
#include <sys/un.h>

/* Room for a socket path, with its NUL (sun_path). */
#define UMM_SOCKPATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* conn.c */

/**
 * conn_path_get() - the cached export socket of mount @dev.
 * @dev:  st_dev of the mount.
 * @path: UMM_SOCKPATH_MAX bytes, filled on a hit.
 *
 * Return: 1 on a hit, 0 if @dev has no cached path.
 */
int conn_path_get(dev_t dev, char *path);

/**
 * conn_path_put() - cache @path as the export socket of mount @dev.
 * @dev:  st_dev of the mount.
 * @path: UMM_SOCKPATH_MAX bytes, NUL-terminated; copied.
 *
 * Replaces what @dev had, or else the oldest entry when the cache is full.
 */
void conn_path_put(dev_t dev, const char *path);

/**
 * conn_path_drop() - forget the cached socket of mount @dev (a device number
 * can be reused by a later mount).
 * @dev: st_dev of the mount.
 */
void conn_path_drop(dev_t dev);

/**
 * conn_export() - trade @fd through the export socket @sockpath of mount @dev.
 * @dev:      st_dev of the mount, which keys the kept connections.
 * @sockpath: path of the mount's export socket.
 * @fd:       the fd to send; not consumed.
 *
 * Uses a kept connection of @dev if there is one, else (or if the daemon
 * dropped it) a new one, which is kept if the call succeeds. A failed call
 * leaves no new fd behind.
 *
 * Return: the received fd (FD_CLOEXEC set, owned by the caller), or -errno:
 * the daemon's status, -EPROTO for a reply that breaks the protocol, or the
 * error of connect() or of the socket.
 */
int conn_export(dev_t dev, const char *sockpath, int fd);

/**
 * umm__export_via() - umm_export() through a known socket.
 * @sockpath: path of an export socket (as in the root's "user.umm.socket").
 * @fd:       the fd to send; not consumed.
 *
 * Skips the lookup of the socket (and its checks that @fd is on a umm
 * mount), and keeps no connection, so a test can drive the protocol without
 * a mount.
 *
 * Return: the received fd (FD_CLOEXEC set, owned by the caller), or -1 with
 * errno set.
 */
int umm__export_via(const char *sockpath, int fd);

#endif /* UMM_I_H */

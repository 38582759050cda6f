/*
 * umm_i.h - libumm internals (not exported from libumm.so: see umm.map).
 *
 * For tests that link lib/umm.c and lib/proto.c directly.
 */
#ifndef UMM_I_H
#define UMM_I_H

/**
 * umm__export_via() - umm_export() through a known socket.
 * @sockpath: path of an export socket (as in the root's "user.umm.socket").
 * @fd:       the fd to send; not consumed.
 *
 * umm_export() calls this once it has found the socket. It skips the lookup
 * (and its checks that @fd is on a umm mount), so a test can drive the
 * protocol without a mount.
 *
 * Return: the received fd (FD_CLOEXEC set, owned by the caller), or -1 with
 * errno set.
 */
int umm__export_via(const char *sockpath, int fd);

#endif /* UMM_I_H */

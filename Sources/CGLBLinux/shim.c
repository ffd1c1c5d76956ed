#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include "CGLBLinux.h"

int cglb_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int cglb_errno(void) { return errno; }

int cglb_sock_flags(void) { return SOCK_NONBLOCK | SOCK_CLOEXEC; }

// Linux calls that Swift's Glibc module does not export (epoll, eventfd, timerfd) or hides
// because it is built without _GNU_SOURCE (accept4). See TOOLCHAIN.md pitfall 1.
#ifndef CGLB_LINUX_H
#define CGLB_LINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: one call instead of accept + two fcntl.
int cglb_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len);

/// The errno of the calling thread, read through C so no Swift runtime work can clobber it first.
int cglb_errno(void);

/// SOCK_NONBLOCK | SOCK_CLOEXEC, for socket(2)'s type argument.
int cglb_sock_flags(void);

#endif

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

#include <unistd.h>
#include <sys/syscall.h>
#include <sys/prctl.h>

// The data path's system calls, made through syscall(2) rather than glibc's wrappers. Those
// wrappers are cancellation points: in a process with more than one thread each one brackets the
// call with __pthread_enable_asynccancel/disable_asynccancel, two atomic updates per call, 2-3% of
// the proxy's user time under connection churn (perf, close64). GLB never cancels a thread, so
// that work buys nothing. Same semantics otherwise: -1 with errno set on failure.

/// The calling thread's kernel id, for per-thread settings such as setpriority(2)'s niceness.
static inline int cglb_gettid(void) {
    return (int)syscall(SYS_gettid);
}

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: one call instead of accept + two fcntl.
static inline int cglb_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len) {
    return (int)syscall(SYS_accept4, fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/// recv(2) with no flags. recvfrom rather than read(2): the kernel's read path adds the VFS
/// layer's checks and fsnotify hooks on every call.
static inline long cglb_recv(int fd, void *buffer, size_t length) {
    return syscall(SYS_recvfrom, fd, buffer, length, 0, NULL, NULL);
}

/// send(2).
static inline long cglb_send(int fd, const void *buffer, size_t length, int flags) {
    return syscall(SYS_sendto, fd, buffer, length, flags, NULL, 0);
}

/// close(2).
static inline int cglb_close(int fd) {
    return (int)syscall(SYS_close, fd);
}

/// epoll_wait(2), as epoll_pwait with no signal mask (the only form some architectures have).
static inline int cglb_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
    return (int)syscall(SYS_epoll_pwait, epfd, events, max, timeout, NULL, 8);
}

/// Names the calling thread (at most 15 bytes; longer names are cut). prctl(PR_SET_NAME) rather
/// than pthread_setname_np, which glibc only declares with _GNU_SOURCE.
static inline void cglb_set_thread_name(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

/// Makes `signo` write its number, as one byte, to `pipe_write_fd` (non-blocking), from a
/// handler installed with sigaction(2) at once. Whichever thread the kernel picks runs it, so a
/// signal is never lost to a thread's mask or to a handler not yet armed. -1 with errno on failure.
int cglb_signal_forward(int pipe_write_fd, int signo);

/// The errno of the calling thread, read through C so no Swift runtime work can clobber it first.
int cglb_errno(void);

/// SOCK_NONBLOCK | SOCK_CLOEXEC, for socket(2)'s type argument.
int cglb_sock_flags(void);

#endif

#ifndef CGLB_UDP_BATCH
#define CGLB_UDP_BATCH
#include <string.h>
#include <sys/uio.h>

/// A batch of UDP datagrams for recvmmsg(2)/sendmmsg(2). `struct mmsghdr` stays on the C side
/// (Swift's Glibc hides it: TOOLCHAIN.md pitfall 1); Swift sees buffers, lengths and peers,
/// through the inline accessors below, which compile into the Swift caller: four calls per
/// query were a tenth of the DNS loop's own instructions. Owned by one thread; not thread-safe.
typedef struct cglb_udp_batch {
    int capacity, in_size, out_size;
    void *in_msgs, *out_msgs;                   // struct mmsghdr[capacity], used in shim.c only
    struct iovec *in_iov, *out_iov;
    struct sockaddr_storage *peers;
    unsigned char *in_buf, *out_buf;
    int *in_len;                                // lengths of the last receive
    int *out_len, *out_peer;                    // queued replies: length, index of the datagram answered
} cglb_udp_batch;

/// `capacity` datagrams of up to `in_size` bytes in, and as many replies of up to `out_size` out.
cglb_udp_batch *cglb_udp_batch_create(int capacity, int in_size, int out_size);
void cglb_udp_batch_destroy(cglb_udp_batch *batch);

/// recvmmsg: the number of datagrams received, or -1 with errno set. With `wait` 0, MSG_DONTWAIT:
/// 0 when none was waiting. With `wait` 1, on a blocking socket, MSG_WAITFORONE: sleeps until the
/// first datagram, then takes whatever else is already queued; it returns 0 or one empty datagram
/// once the socket is shut down for reading. EINTR is retried.
int cglb_udp_batch_receive(int fd, cglb_udp_batch *batch, int wait);

/// Datagram `i` of the last receive and its length.
static inline const unsigned char *cglb_udp_batch_in(const cglb_udp_batch *b, int i, int *length) {
    *length = b->in_len[i];
    return b->in_buf + (size_t)i * (size_t)b->in_size;
}

/// The sender of datagram `i`: returns 4 (address in *v4, host byte order), 6 (16 bytes in v6),
/// or 0 for another family.
static inline int cglb_udp_batch_peer(const cglb_udp_batch *b, int i, uint32_t *v4, unsigned char *v6) {
    const struct sockaddr_storage *ss = &b->peers[i];
    if (ss->ss_family == AF_INET) {
        *v4 = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
        return 4;
    }
    if (ss->ss_family == AF_INET6) {
        memcpy(v6, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
        return 6;
    }
    return 0;
}

/// The buffer for reply slot `slot` (out_size bytes).
static inline unsigned char *cglb_udp_batch_out(cglb_udp_batch *b, int slot) {
    return b->out_buf + (size_t)slot * (size_t)b->out_size;
}

/// Queues reply slot `slot`, `length` bytes, to the sender of received datagram `i`.
static inline void cglb_udp_batch_queue(cglb_udp_batch *b, int slot, int i, int length) {
    b->out_len[slot] = length;
    b->out_peer[slot] = i;
}

/// sendmmsg of the first `count` queued replies. Returns how many were sent; replies the kernel
/// would not take (a full send buffer) are dropped, as the network would drop them.
int cglb_udp_batch_send(int fd, cglb_udp_batch *batch, int count);
#endif

#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include "CGLBLinux.h"

int cglb_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int cglb_errno(void) { return errno; }

int cglb_sock_flags(void) { return SOCK_NONBLOCK | SOCK_CLOEXEC; }

#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

struct cglb_udp_batch {
    int capacity, in_size, out_size;
    struct mmsghdr *in_msgs, *out_msgs;
    struct iovec *in_iov, *out_iov;
    struct sockaddr_storage *peers;
    unsigned char *in_buf, *out_buf;
};

cglb_udp_batch *cglb_udp_batch_create(int capacity, int in_size, int out_size) {
    cglb_udp_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->capacity = capacity; b->in_size = in_size; b->out_size = out_size;
    b->in_msgs = calloc(capacity, sizeof *b->in_msgs);
    b->out_msgs = calloc(capacity, sizeof *b->out_msgs);
    b->in_iov = calloc(capacity, sizeof *b->in_iov);
    b->out_iov = calloc(capacity, sizeof *b->out_iov);
    b->peers = calloc(capacity, sizeof *b->peers);
    b->in_buf = malloc((size_t)capacity * in_size);
    b->out_buf = malloc((size_t)capacity * out_size);
    if (!b->in_msgs || !b->out_msgs || !b->in_iov || !b->out_iov || !b->peers || !b->in_buf || !b->out_buf) {
        cglb_udp_batch_destroy(b);
        return NULL;
    }
    for (int i = 0; i < capacity; i++) {
        b->in_iov[i].iov_base = b->in_buf + (size_t)i * in_size;
        b->in_iov[i].iov_len = in_size;
        b->in_msgs[i].msg_hdr.msg_iov = &b->in_iov[i];
        b->in_msgs[i].msg_hdr.msg_iovlen = 1;
        b->in_msgs[i].msg_hdr.msg_name = &b->peers[i];
        b->out_iov[i].iov_base = b->out_buf + (size_t)i * out_size;
        b->out_msgs[i].msg_hdr.msg_iov = &b->out_iov[i];
        b->out_msgs[i].msg_hdr.msg_iovlen = 1;
    }
    return b;
}

void cglb_udp_batch_destroy(cglb_udp_batch *b) {
    if (!b) return;
    free(b->in_msgs); free(b->out_msgs); free(b->in_iov); free(b->out_iov);
    free(b->peers); free(b->in_buf); free(b->out_buf); free(b);
}

int cglb_udp_batch_receive(int fd, cglb_udp_batch *b) {
    for (int i = 0; i < b->capacity; i++) {
        // recvmmsg overwrites msg_namelen with the peer's length: reset it every time.
        b->in_msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        b->in_msgs[i].msg_hdr.msg_flags = 0;
    }
    int n;
    do {
        n = recvmmsg(fd, b->in_msgs, (unsigned)b->capacity, MSG_DONTWAIT, NULL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n;
}

const unsigned char *cglb_udp_batch_in(const cglb_udp_batch *b, int i, int *length) {
    *length = (int)b->in_msgs[i].msg_len;
    return b->in_buf + (size_t)i * b->in_size;
}

int cglb_udp_batch_peer(const cglb_udp_batch *b, int i, uint32_t *v4, unsigned char *v6) {
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

unsigned char *cglb_udp_batch_out(cglb_udp_batch *b, int slot) {
    return b->out_buf + (size_t)slot * b->out_size;
}

void cglb_udp_batch_queue(cglb_udp_batch *b, int slot, int i, int length) {
    b->out_iov[slot].iov_len = (size_t)length;
    b->out_msgs[slot].msg_hdr.msg_name = &b->peers[i];
    b->out_msgs[slot].msg_hdr.msg_namelen = b->in_msgs[i].msg_hdr.msg_namelen;
}

int cglb_udp_batch_send(int fd, cglb_udp_batch *b, int count) {
    int sent = 0;
    while (sent < count) {
        int n = sendmmsg(fd, b->out_msgs + sent, (unsigned)(count - sent), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;   // full: drop the rest
            sent += 1;                  // this datagram failed (e.g. unreachable peer): skip it
            continue;
        }
        if (n == 0) break;
        sent += n;
    }
    return sent;
}

#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <signal.h>
#include "CGLBLinux.h"

int cglb_errno(void) { return errno; }

int cglb_sock_flags(void) { return SOCK_NONBLOCK | SOCK_CLOEXEC; }

#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

cglb_udp_batch *cglb_udp_batch_create(int capacity, int in_size, int out_size) {
    cglb_udp_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->capacity = capacity; b->in_size = in_size; b->out_size = out_size;
    struct mmsghdr *in_msgs = calloc(capacity, sizeof *in_msgs);
    struct mmsghdr *out_msgs = calloc(capacity, sizeof *out_msgs);
    b->in_msgs = in_msgs; b->out_msgs = out_msgs;
    b->in_iov = calloc(capacity, sizeof *b->in_iov);
    b->out_iov = calloc(capacity, sizeof *b->out_iov);
    b->peers = calloc(capacity, sizeof *b->peers);
    b->in_buf = malloc((size_t)capacity * in_size);
    b->out_buf = malloc((size_t)capacity * out_size);
    b->in_len = calloc(capacity, sizeof *b->in_len);
    b->out_len = calloc(capacity, sizeof *b->out_len);
    b->out_peer = calloc(capacity, sizeof *b->out_peer);
    if (!in_msgs || !out_msgs || !b->in_iov || !b->out_iov || !b->peers || !b->in_buf || !b->out_buf
        || !b->in_len || !b->out_len || !b->out_peer) {
        cglb_udp_batch_destroy(b);
        return NULL;
    }
    for (int i = 0; i < capacity; i++) {
        b->in_iov[i].iov_base = b->in_buf + (size_t)i * in_size;
        b->in_iov[i].iov_len = in_size;
        in_msgs[i].msg_hdr.msg_iov = &b->in_iov[i];
        in_msgs[i].msg_hdr.msg_iovlen = 1;
        in_msgs[i].msg_hdr.msg_name = &b->peers[i];
        b->out_iov[i].iov_base = b->out_buf + (size_t)i * out_size;
        out_msgs[i].msg_hdr.msg_iov = &b->out_iov[i];
        out_msgs[i].msg_hdr.msg_iovlen = 1;
    }
    return b;
}

void cglb_udp_batch_destroy(cglb_udp_batch *b) {
    if (!b) return;
    free(b->in_msgs); free(b->out_msgs); free(b->in_iov); free(b->out_iov);
    free(b->peers); free(b->in_buf); free(b->out_buf);
    free(b->in_len); free(b->out_len); free(b->out_peer); free(b);
}

int cglb_udp_batch_receive(int fd, cglb_udp_batch *b, int wait) {
    struct mmsghdr *msgs = b->in_msgs;
    for (int i = 0; i < b->capacity; i++) {
        // recvmmsg overwrites msg_namelen with the peer's length: reset it every time.
        msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        msgs[i].msg_hdr.msg_flags = 0;
    }
    int n;
    do {
        n = (int)syscall(SYS_recvmmsg, fd, msgs, (unsigned)b->capacity, wait ? MSG_WAITFORONE : MSG_DONTWAIT, NULL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    for (int i = 0; i < n; i++) b->in_len[i] = (int)msgs[i].msg_len;
    return n;
}

int cglb_udp_batch_send(int fd, cglb_udp_batch *b, int count) {
    struct mmsghdr *out = b->out_msgs;
    const struct mmsghdr *in = b->in_msgs;
    for (int slot = 0; slot < count; slot++) {
        int i = b->out_peer[slot];
        b->out_iov[slot].iov_len = (size_t)b->out_len[slot];
        out[slot].msg_hdr.msg_name = &b->peers[i];
        out[slot].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
    }
    int sent = 0;
    while (sent < count) {
        int n = (int)syscall(SYS_sendmmsg, fd, out + sent, (unsigned)(count - sent), MSG_DONTWAIT | MSG_NOSIGNAL);
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

// Signals, forwarded to a pipe (the self-pipe trick; see cglb_signal_forward in the header).
static int cglb_signal_pipe = -1;

static void cglb_signal_handler(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    ssize_t written = write(cglb_signal_pipe, &byte, 1);     // async-signal-safe; a full pipe drops it
    (void)written;
    errno = saved;
}

int cglb_signal_forward(int pipe_write_fd, int signo) {
    cglb_signal_pipe = pipe_write_fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cglb_signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(signo, &action, NULL);
}

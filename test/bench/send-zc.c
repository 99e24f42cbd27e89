/*
 * Would IORING_OP_SEND_ZC (Linux 6.0) pay for large sends here? A question
 * for measurement, answered before any backend code: one TCP connection
 * over 127.0.0.1, a receiver thread draining it with recv(2) into 4 MiB,
 * and a sender that keeps one send of SIZE bytes in flight, as tigerio
 * keeps one send per socket. In ZC mode the buffer is reused only after
 * the kernel's notification CQE (IORING_CQE_F_NOTIF), which is when a
 * zero-copy send would give it back; IORING_SEND_ZC_REPORT_USAGE (6.2)
 * makes each notification say whether the kernel copied the bytes anyway.
 * Both modes run interleaved (the order alternates by round), DURATION_MS
 * each, for sizes of 16 KiB to 4 MiB.
 *
 *   cc -O2 -pthread test/bench/send-zc.c -luring -o /tmp/send-zc
 *   /tmp/send-zc DURATION_MS ROUNDS
 *
 * Needs liburing (Debian: liburing-dev); not run by `npm run bench`.
 * Prints one line per round, mode and size: MiB/s, the sender's and the
 * receiver's CPU (ns per KiB), notifications and how many said "copied".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "c_peer.h"

/* From linux/io_uring.h of 6.2, for liburing headers older than that. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

#define RECEIVE_BYTES (4 << 20)
#define SEND_BYTES_MAX (4 << 20)

static int64_t clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *drain(void *arg) {
  const int fd = *(const int *)arg;
  char *buffer = malloc(RECEIVE_BYTES);
  if (buffer == NULL) die("malloc");
  while (recv(fd, buffer, RECEIVE_BYTES, 0) > 0) {
  }
  free(buffer);
  return NULL;
}

struct figures {
  double mib_per_second, sender_ns_per_kib, receiver_ns_per_kib;
  uint64_t notifications, copied;
};

/* Sends `size` bytes at a time for duration_ms, one send in flight. */
static struct figures measure(struct io_uring *ring, int fd, const char *buffer, size_t size, int zero_copy,
                              int duration_ms, clockid_t receiver_clock) {
  struct figures out = {0};
  const int64_t receiver_start = clock_ns(receiver_clock);
  const int64_t sender_start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  const double start = now_seconds();
  const double end = start + duration_ms / 1e3;
  uint64_t bytes = 0;
  while (now_seconds() < end) {
    size_t sent = 0;
    while (sent < size) {
      struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
      if (zero_copy) {
        io_uring_prep_send_zc(sqe, fd, buffer + sent, size - sent, MSG_NOSIGNAL, 0);
        sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
      } else {
        io_uring_prep_send(sqe, fd, buffer + sent, size - sent, MSG_NOSIGNAL);
      }
      if (io_uring_submit(ring) != 1) die("io_uring_submit");
      /* ZC: a result CQE with F_MORE, then the notification; the buffer is ours again after both. */
      int result_seen = 0, notification_due = 0;
      while (!result_seen || notification_due) {
        struct io_uring_cqe *cqe;
        const int rc = io_uring_wait_cqe(ring, &cqe);
        if (rc != 0) {
          errno = -rc;
          die("io_uring_wait_cqe");
        }
        if (cqe->flags & IORING_CQE_F_NOTIF) {
          out.notifications++;
          if ((uint32_t)cqe->res & IORING_NOTIF_USAGE_ZC_COPIED) out.copied++;
          notification_due = 0;
        } else {
          if (cqe->res < 0) {
            errno = -cqe->res;
            die("send");
          }
          sent += (size_t)cqe->res;
          result_seen = 1;
          notification_due = zero_copy && (cqe->flags & IORING_CQE_F_MORE);
        }
        io_uring_cqe_seen(ring, cqe);
      }
    }
    bytes += size;
  }
  const double seconds = now_seconds() - start;
  const double kib = (double)bytes / 1024;
  out.mib_per_second = (double)bytes / (1 << 20) / seconds;
  out.sender_ns_per_kib = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - sender_start) / kib;
  out.receiver_ns_per_kib = (double)(clock_ns(receiver_clock) - receiver_start) / kib;
  return out;
}

int main(int argc, char **argv) {
  const int duration_ms = argc > 1 ? atoi(argv[1]) : 1000;
  const int rounds = argc > 2 ? atoi(argv[2]) : 3;
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t length = sizeof(address);
  if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof(address)) != 0 || listen(listener, 1) != 0 ||
      getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
    die("listen");
  }
  const int sender = socket(AF_INET, SOCK_STREAM, 0);
  if (sender < 0 || connect(sender, (struct sockaddr *)&address, sizeof(address)) != 0) die("connect");
  int receiver = accept(listener, NULL, NULL);
  if (receiver < 0) die("accept");
  const int one = 1;
  setsockopt(sender, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  pthread_t thread;
  clockid_t receiver_clock;
  if (pthread_create(&thread, NULL, drain, &receiver) != 0) die("pthread_create");
  if (pthread_getcpuclockid(thread, &receiver_clock) != 0) die("pthread_getcpuclockid");
  struct io_uring ring;
  if (io_uring_queue_init(8, &ring, 0) != 0) die("io_uring_queue_init");
  char *buffer = aligned_alloc(4096, SEND_BYTES_MAX);
  if (buffer == NULL) die("aligned_alloc");
  memset(buffer, 'z', SEND_BYTES_MAX);
  measure(&ring, sender, buffer, 64 << 10, 0, 200, receiver_clock); /* warm-up */
  const size_t sizes[] = {16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20};
  for (int round = 0; round < rounds; round++) {
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
      for (int k = 0; k < 2; k++) {
        const int zero_copy = (round + k) % 2;
        const struct figures f = measure(&ring, sender, buffer, sizes[i], zero_copy, duration_ms, receiver_clock);
        printf("round %d %7zu B %-7s %6.0f MiB/s  sender %6.1f ns/KiB  receiver %6.1f ns/KiB  notifications %llu, copied %llu\n",
               round, sizes[i], zero_copy ? "send_zc" : "send", f.mib_per_second, f.sender_ns_per_kib,
               f.receiver_ns_per_kib, (unsigned long long)f.notifications, (unsigned long long)f.copied);
        fflush(stdout);
      }
    }
  }
  shutdown(sender, SHUT_WR);
  pthread_join(thread, NULL);
  io_uring_queue_exit(&ring);
  return 0;
}

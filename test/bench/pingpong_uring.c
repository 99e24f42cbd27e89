/*
 * The C io_uring peer of pingpong.ts, beside pingpong.c's epoll loop: the
 * same ping-pong (one TCP connection over loopback, both ends in one
 * process, 64-byte messages echoed, 64 KiB receive buffers) as a plain
 * completion loop on liburing. Each turn is one io_uring_submit_and_wait:
 * the SQEs the last turn's completions wrote go in with the wait for the
 * next completion. The ring uses the best task-run mode this kernel has:
 * SINGLE_ISSUER | DEFER_TASKRUN (6.1), else COOP_TASKRUN (5.19), else none;
 * the result names the one it ran with. Compiled by the bench runner with
 * `cc -O2 ... -luring` where liburing is installed (Debian: liburing-dev).
 *
 *   ./pingpong_uring DURATION_MS WARMUP_MS
 *
 * Prints one line: BENCH_RESULT {"impl":"c-io_uring","roundTripsPerSecond":...}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "c_peer.h"

#define MESSAGE_BYTES 64
#define RECV_BUFFER_BYTES 65536

/* user_data: which end and which operation a completion is for. */
enum { SERVER_RECV = 1, SERVER_SEND, CLIENT_RECV, CLIENT_SEND };

static struct io_uring ring;

static struct io_uring_sqe *sqe_or_die(void) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
  if (sqe == NULL) die("io_uring_get_sqe");
  return sqe;
}

static void queue_recv(int fd, char *buffer, unsigned long tag) {
  struct io_uring_sqe *sqe = sqe_or_die();
  io_uring_prep_recv(sqe, fd, buffer, RECV_BUFFER_BYTES, 0);
  io_uring_sqe_set_data64(sqe, tag);
}

static void queue_send(int fd, const char *buffer, size_t length, unsigned long tag) {
  struct io_uring_sqe *sqe = sqe_or_die();
  io_uring_prep_send(sqe, fd, buffer, length, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, tag);
}

/* The ring with the best task-run flags the kernel takes; *mode names them. */
static void setup_ring(const char **mode) {
  static const struct {
    unsigned flags;
    const char *name;
  } modes[] = {
      {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"},
      {IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"},
      {0, "default"},
  };
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = modes[i].flags;
    if (io_uring_queue_init_params(8, &ring, &params) == 0) {
      *mode = modes[i].name;
      return;
    }
  }
  die("io_uring_queue_init_params");
}

int main(int argc, char **argv) {
  double duration = (argc > 1 ? atof(argv[1]) : 5000.0) / 1000.0;
  double warmup = (argc > 2 ? atof(argv[2]) : 300.0) / 1000.0;

  int client, server;
  loopback_pair(&client, &server);

  const char *mode = NULL;
  setup_ring(&mode);

  char message[MESSAGE_BYTES];
  static char server_buffer[RECV_BUFFER_BYTES];
  static char client_buffer[RECV_BUFFER_BYTES];
  memset(message, 'a', sizeof message);
  size_t received = 0;
  long round_trips = 0;
  struct window window = window_begin(warmup, duration);

  queue_recv(server, server_buffer, SERVER_RECV);
  queue_send(client, message, MESSAGE_BYTES, CLIENT_SEND);
  for (;;) {
    int rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0) {
      if (rc == -EINTR) continue;
      errno = -rc;
      die("io_uring_submit_and_wait");
    }
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      seen++;
      const int res = cqe->res;
      switch (io_uring_cqe_get_data64(cqe)) {
        case SERVER_RECV:
          if (res <= 0) die("server recv");
          queue_send(server, server_buffer, (size_t)res, SERVER_SEND);
          break;
        case SERVER_SEND:
          if (res <= 0) die("server send");
          queue_recv(server, server_buffer, SERVER_RECV);
          break;
        case CLIENT_SEND:
          if (res != MESSAGE_BYTES) die("client send");
          queue_recv(client, client_buffer, CLIENT_RECV);
          break;
        case CLIENT_RECV:
          if (res <= 0) die("client recv");
          received += (size_t)res;
          if (received < MESSAGE_BYTES) {
            queue_recv(client, client_buffer, CLIENT_RECV);
            break;
          }
          received -= MESSAGE_BYTES;
          round_trips++;
          queue_send(client, message, MESSAGE_BYTES, CLIENT_SEND);
          break;
        default:
          die("unknown completion");
      }
    }
    io_uring_cq_advance(&ring, seen);
    /* One clock read per 64 round trips keeps the clock off the profile. */
    long counted;
    double seconds, cpu;
    if ((round_trips & 63) == 0 && window_over(&window, round_trips, &counted, &seconds, &cpu)) {
      printf("BENCH_RESULT {\"impl\":\"c-io_uring\",\"mode\":\"%s\",\"roundTrips\":%ld,\"seconds\":%.6f,\"roundTripsPerSecond\":%.1f,\"cpuSeconds\":%.6f,\"userSeconds\":%.6f}\n",
             mode, counted, seconds, (double)counted / seconds, cpu, window.user_seconds);
      return 0;
    }
  }
}

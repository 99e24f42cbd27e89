/*
 * The C peer of pingpong.ts: the same ping-pong (one TCP connection over
 * loopback, both ends in one process, 64-byte messages echoed) on a plain
 * level-triggered epoll loop, no library. Compiled by the bench runner with
 * `cc -O2` into a temporary directory.
 *
 *   ./pingpong DURATION_MS WARMUP_MS [IDLE_THREADS]
 *
 * IDLE_THREADS (default 0) starts that many threads that only sleep, so the
 * same loop runs in a multi-threaded process, as every Node process is
 * (V8's and libuv's threads). Linux then takes a reference on the file for
 * each fd a syscall names (fdget/fput), which a single-threaded process
 * skips: the bench reports both loops, to show what that kernel fact costs.
 *
 * Prints one line: BENCH_RESULT {"impl":"c-epoll","roundTripsPerSecond":...}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "c_peer.h"

#define MESSAGE_BYTES 64
#define RECV_BUFFER_BYTES 65536 /* as in pingpong.ts (and libuv's benchmark) */

#define IDLE_THREADS_MAX 8

static void *sleep_forever(void *unused) {
  (void)unused;
  for (;;) pause();
  return NULL;
}

int main(int argc, char **argv) {
  double duration = (argc > 1 ? atof(argv[1]) : 5000.0) / 1000.0;
  double warmup = (argc > 2 ? atof(argv[2]) : 300.0) / 1000.0;
  int idle_threads = argc > 3 ? atoi(argv[3]) : 0;
  if (idle_threads < 0 || idle_threads > IDLE_THREADS_MAX) {
    fprintf(stderr, "IDLE_THREADS must be 0 to %d\n", IDLE_THREADS_MAX);
    return 2;
  }
  for (int i = 0; i < idle_threads; i++) {
    pthread_t thread;
    const int rc = pthread_create(&thread, NULL, sleep_forever, NULL);
    if (rc != 0) {
      errno = rc;
      die("pthread_create");
    }
  }

  int client, server;
  loopback_pair(&client, &server);
  if (fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK) < 0) die("fcntl");

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event ev;
  ev.events = EPOLLIN;
  ev.data.fd = server;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, server, &ev) < 0) die("epoll_ctl");
  ev.data.fd = client;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, client, &ev) < 0) die("epoll_ctl");

  char message[MESSAGE_BYTES];
  static char server_buffer[RECV_BUFFER_BYTES];
  static char client_buffer[RECV_BUFFER_BYTES];
  memset(message, 'a', sizeof message);
  size_t received = 0;
  long round_trips = 0;
  struct window window = window_begin(warmup, duration);

  if (send(client, message, MESSAGE_BYTES, MSG_NOSIGNAL) != MESSAGE_BYTES) die("send");
  struct epoll_event events[8];
  for (;;) {
    int n = epoll_wait(ep, events, 8, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == server) {
        ssize_t got = recv(server, server_buffer, sizeof server_buffer, 0);
        if (got < 0 && errno == EAGAIN) continue;
        if (got <= 0) die("server recv");
        if (send(server, server_buffer, (size_t)got, MSG_NOSIGNAL) != got) die("server send");
      } else {
        ssize_t got = recv(client, client_buffer, sizeof client_buffer, 0);
        if (got < 0 && errno == EAGAIN) continue;
        if (got <= 0) die("client recv");
        received += (size_t)got;
        if (received < MESSAGE_BYTES) continue;
        received -= MESSAGE_BYTES;
        round_trips++;
        if (send(client, message, MESSAGE_BYTES, MSG_NOSIGNAL) != MESSAGE_BYTES) die("client send");
      }
    }
    /* One clock read per 64 round trips keeps the clock off the profile. */
    long counted;
    double seconds, cpu;
    if (((round_trips & 63) == 0 || n == 0) && window_over(&window, round_trips, &counted, &seconds, &cpu)) {
      printf("BENCH_RESULT {\"impl\":\"c-epoll\",\"idleThreads\":%d,\"roundTrips\":%ld,\"seconds\":%.6f,\"roundTripsPerSecond\":%.1f,\"cpuSeconds\":%.6f,\"userSeconds\":%.6f}\n",
             idle_threads, counted, seconds, (double)counted / seconds, cpu, window.user_seconds);
      return 0;
    }
  }
}

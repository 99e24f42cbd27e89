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
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

static void nodelay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die("setsockopt");
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

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) die("socket");
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(listener, 16) < 0) die("listen");
  socklen_t len = sizeof addr;
  if (getsockname(listener, (struct sockaddr *)&addr, &len) < 0) die("getsockname");

  int client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0) die("socket");
  if (connect(client, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
  int server = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
  if (server < 0) die("accept4");
  nodelay(client);
  nodelay(server);
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
  long round_trips = 0, counted_from = 0;
  double cpu_start = 0;
  double start = now_seconds();
  double measure_start = start + warmup;
  double end = measure_start + duration;
  int measuring = 0;

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
    if ((round_trips & 63) == 0 || n == 0) {
      double t = now_seconds();
      if (!measuring && t >= measure_start) {
        measuring = 1;
        counted_from = round_trips;
        cpu_start = cpu_seconds();
        measure_start = t;
        end = t + duration;
      } else if (measuring && t >= end) {
        long counted = round_trips - counted_from;
        double seconds = t - measure_start;
        double cpu = cpu_seconds() - cpu_start;
        printf("BENCH_RESULT {\"impl\":\"c-epoll\",\"idleThreads\":%d,\"roundTrips\":%ld,\"seconds\":%.6f,\"roundTripsPerSecond\":%.1f,\"cpuSeconds\":%.6f}\n",
               idle_threads, counted, seconds, (double)counted / seconds, cpu);
        return 0;
      }
    }
  }
}

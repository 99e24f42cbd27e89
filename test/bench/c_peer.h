/*
 * What the C peers of the benchmarks (pingpong.c, pingpong_uring.c,
 * hello_uring.c, recvmmsg.c, send-zc.c, kernel_entry.c) share: a fatal
 * error with errno's text, the monotonic clock in seconds, the CPU time
 * (user + system, and user alone) the process has used; and the two
 * ping-pongs' connection and measured window.
 */
#ifndef TIGERIO_BENCH_C_PEER_H
#define TIGERIO_BENCH_C_PEER_H

/* The includer defines _GNU_SOURCE first (accept4). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

static inline void die(const char *what) {
  perror(what);
  exit(1);
}

static inline double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The CPU time the process has used (user + system), and *user its user-space part, from one getrusage. */
static inline double cpu_seconds(double *user) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  *user = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6;
  return *user + (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

static inline void nodelay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die("setsockopt");
}

/* A TCP connection over loopback, both ends in this process, TCP_NODELAY on both: *client blocking, *server not. */
static inline void loopback_pair(int *client, int *server) {
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
  *client = socket(AF_INET, SOCK_STREAM, 0);
  if (*client < 0) die("socket");
  if (connect(*client, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
  *server = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
  if (*server < 0) die("accept4");
  nodelay(*client);
  nodelay(*server);
}

/*
 * A ping-pong's measured window: round trips during `warmup` seconds are
 * not counted, then those of `duration` seconds are, with the CPU time they
 * took (`user_seconds`: its user-space part, set when the window is over).
 * window_over is called now and then (it reads the clock).
 */
struct window {
  double start, end, duration, cpu_start, user_start, user_seconds;
  long counted_from;
  int measuring;
};

static inline struct window window_begin(double warmup, double duration) {
  struct window w;
  memset(&w, 0, sizeof w);
  w.start = now_seconds() + warmup;
  w.end = w.start + duration;
  w.duration = duration;
  return w;
}

/* 1 once the window has passed, with its round trips, seconds and CPU seconds; 0 before. */
static inline int window_over(struct window *w, long round_trips, long *counted, double *seconds, double *cpu) {
  double t = now_seconds();
  if (!w->measuring && t >= w->start) {
    w->measuring = 1;
    w->counted_from = round_trips;
    w->cpu_start = cpu_seconds(&w->user_start);
    w->start = t;
    w->end = t + w->duration;
    return 0;
  }
  if (!w->measuring || t < w->end) return 0;
  *counted = round_trips - w->counted_from;
  *seconds = t - w->start;
  double user = 0;
  *cpu = cpu_seconds(&user) - w->cpu_start;
  w->user_seconds = user - w->user_start;
  return 1;
}

#endif

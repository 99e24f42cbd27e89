/*
 * What the C peers of the benchmarks (pingpong.c, recvmmsg.c) share: a
 * fatal error with errno's text, and the monotonic clock in seconds.
 */
#ifndef TIGERIO_BENCH_C_PEER_H
#define TIGERIO_BENCH_C_PEER_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif

/*
 * What the C peers of the benchmarks (pingpong.c, pingpong_uring.c,
 * recvmmsg.c) share: a fatal error with errno's text, the monotonic clock in
 * seconds, and the CPU time (user + system) the process has used.
 */
#ifndef TIGERIO_BENCH_C_PEER_H
#define TIGERIO_BENCH_C_PEER_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
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

static double cpu_seconds(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

#endif

// What one kernel entry costs a program on this machine, beside what it
// costs the program's next few microseconds of user space: a floor under
// every row that makes a kernel entry per turn (ping-pong makes two per
// round trip), measured in C so that nothing of tigerio or Node is in it.
//
// Three loops, each timed by the wall clock over many iterations:
//   entry:        epoll_wait with a zero timeout on an epoll set that holds
//                 one end of an idle loopback connection: the kernel entry
//                 of a tigerio tick on the epoll backend with a receive
//                 pending there, which `overhead.js --impl kernel-entry`
//                 times from JavaScript;
//   warm lines:   reading `lines` cache lines scattered over 64 MiB, the
//                 same lines every pass, with no kernel entry between passes;
//   cold lines:   the same pass after a kernel entry each time.
// cold - entry - warm, divided by the lines, is what each line a program
// touches after a kernel entry costs it more than it would have: on a
// machine where the entry leaves the caches as they were, about 0.
//
//   kernel_entry [iterations]   prints one line: BENCH_RESULT {json}
#define _GNU_SOURCE
#include <assert.h>
#include <stdint.h>

#include <sys/epoll.h>

#include "c_peer.h"

enum { SPAN_BYTES = 64 << 20, LINE_BYTES = 64, PAGE_BYTES = 4096, LINES_MAX = 256 };

static int epoll_fd = -1;

static void kernel_entry(void) {
  struct epoll_event events[64];
  const int rc = epoll_wait(epoll_fd, events, 64, 0);
  assert(rc == 0);  // the connection is idle: nothing is ever ready
  (void)rc;
}

// One line in each of `count` distinct pages, in an order a prefetcher
// cannot follow (a program's heap objects are as scattered).
static void scatter(size_t* offsets, size_t count, uint32_t seed) {
  assert(count <= LINES_MAX);
  for (size_t i = 0; i < count; i++) {
    seed = seed * 1664525u + 1013904223u;  // a fixed LCG: the same lines every run
    const size_t page = (seed >> 8) % (SPAN_BYTES / PAGE_BYTES);
    const size_t line = (seed >> 4) % (PAGE_BYTES / LINE_BYTES);
    offsets[i] = page * PAGE_BYTES + line * LINE_BYTES;
  }
}

static volatile uint8_t* span;
static unsigned sink;

static double time_loop_ns(long iterations, int enter, const size_t* offsets, size_t count) {
  unsigned sum = 0;
  const double start = now_seconds();
  for (long i = 0; i < iterations; i++) {
    if (enter) kernel_entry();
    for (size_t j = 0; j < count; j++) sum += span[offsets[j]];
  }
  const double elapsed_ns = (now_seconds() - start) * 1e9;
  sink += sum;
  return elapsed_ns / (double)iterations;
}

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? atol(argv[1]) : 200000;
  if (iterations <= 0 || iterations > 100000000) {
    fprintf(stderr, "kernel_entry: iterations must be 1 to 100000000\n");
    return 2;
  }
  int client_fd = -1;
  int server_fd = -1;
  loopback_pair(&client_fd, &server_fd);  // nothing is ever sent: server_fd stays idle
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) die("epoll_create1");
  struct epoll_event interest = {.events = EPOLLIN};
  interest.data.fd = server_fd;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, server_fd, &interest) != 0) die("epoll_ctl");
  span = aligned_alloc(PAGE_BYTES, SPAN_BYTES);
  if (span == NULL) die("aligned_alloc");
  for (size_t i = 0; i < SPAN_BYTES; i += PAGE_BYTES) span[i] = 1;  // every page mapped before timing

  static size_t offsets[LINES_MAX];
  const size_t counts[] = {64, 256};
  double warm_ns[2];
  double cold_ns[2];
  time_loop_ns(iterations / 4, 1, offsets, 0);  // warm-up
  const double entry_ns = time_loop_ns(iterations, 1, offsets, 0);
  for (int k = 0; k < 2; k++) {
    scatter(offsets, counts[k], 7u + (uint32_t)k);
    time_loop_ns(iterations / 4, 0, offsets, counts[k]);
    warm_ns[k] = time_loop_ns(iterations, 0, offsets, counts[k]);
    cold_ns[k] = time_loop_ns(iterations, 1, offsets, counts[k]);
  }
  printf("BENCH_RESULT {\"impl\":\"c-kernel-entry\",\"iterations\":%ld,\"entryNs\":%.1f,"
         "\"lines64WarmNs\":%.1f,\"lines64AfterEntryNs\":%.1f,\"lines256WarmNs\":%.1f,\"lines256AfterEntryNs\":%.1f,\"sink\":%u}\n",
         iterations, entry_ns, warm_ns[0], cold_ns[0] - entry_ns, warm_ns[1], cold_ns[1] - entry_ns, sink & 1u);
  return 0;
}

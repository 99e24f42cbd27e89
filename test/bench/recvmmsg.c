/*
 * Does batching the UDP receive pay on this kernel? A question for
 * measurement: recvmmsg(2) takes up to BATCH datagrams in one
 * system call where recvfrom(2) takes one. A connected sender fills the
 * receiver's queue with BATCH 64-byte datagrams over 127.0.0.1, then the
 * receiver drains them one way or the other; only the draining is timed.
 * Both ways run in the same process, interleaved, for DURATION_MS each.
 *
 *   ./recvmmsg DURATION_MS BATCH
 *
 * Prints one line: BENCH_RESULT {"impl":"c-udp-receive","batch":B,
 *   "recvfromNsPerDatagram":...,"recvmmsgNsPerDatagram":...}
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "c_peer.h"

#define MESSAGE_BYTES 64
#define BATCH_MAX 64
#define BUFFER_BYTES 2048
#define ROUNDS 8

static char buffers[BATCH_MAX][BUFFER_BYTES];
static struct sockaddr_in senders[BATCH_MAX];
static struct iovec vectors[BATCH_MAX];
static struct mmsghdr headers[BATCH_MAX];

/* Sends `batch` datagrams, then drains them; returns the seconds the draining took. */
static double round_trip_batch(int sender, int receiver, int batch, int batched) {
  char message[MESSAGE_BYTES];
  memset(message, 'a', sizeof message);
  for (int i = 0; i < batch; i++) {
    if (send(sender, message, sizeof message, 0) != MESSAGE_BYTES) die("send");
  }
  double start = now_seconds();
  if (batched) {
    for (int i = 0; i < batch; i++) headers[i].msg_hdr.msg_namelen = sizeof senders[i];
    int got = recvmmsg(receiver, headers, (unsigned)batch, 0, NULL);
    if (got != batch) die("recvmmsg: fewer datagrams than sent over loopback");
  } else {
    for (int i = 0; i < batch; i++) {
      socklen_t length = sizeof senders[i];
      if (recvfrom(receiver, buffers[i], BUFFER_BYTES, 0, (struct sockaddr *)&senders[i], &length) != MESSAGE_BYTES) {
        die("recvfrom");
      }
    }
  }
  return now_seconds() - start;
}

int main(int argc, char **argv) {
  double duration = (argc > 1 ? atof(argv[1]) : 2000.0) / 1000.0;
  int batch = argc > 2 ? atoi(argv[2]) : 32;
  if (batch < 1 || batch > BATCH_MAX) {
    fprintf(stderr, "BATCH must be 1..%d\n", BATCH_MAX);
    return 2;
  }
  int receiver = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int sender = socket(AF_INET, SOCK_DGRAM, 0);
  if (receiver < 0 || sender < 0) die("socket");
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(receiver, (struct sockaddr *)&address, sizeof address) < 0) die("bind");
  socklen_t length = sizeof address;
  if (getsockname(receiver, (struct sockaddr *)&address, &length) < 0) die("getsockname");
  if (connect(sender, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
  for (int i = 0; i < BATCH_MAX; i++) {
    vectors[i].iov_base = buffers[i];
    vectors[i].iov_len = BUFFER_BYTES;
    memset(&headers[i], 0, sizeof headers[i]);
    headers[i].msg_hdr.msg_iov = &vectors[i];
    headers[i].msg_hdr.msg_iovlen = 1;
    headers[i].msg_hdr.msg_name = &senders[i];
  }
  /* ROUNDS alternations of each way, so that a busy moment hits both alike. */
  double seconds[2] = {0, 0};
  long datagrams[2] = {0, 0};
  for (int round = 0; round < ROUNDS; round++) {
    for (int batched = 0; batched < 2; batched++) {
      double end = now_seconds() + duration / ROUNDS / 2;
      while (now_seconds() < end) {
        seconds[batched] += round_trip_batch(sender, receiver, batch, batched);
        datagrams[batched] += batch;
      }
    }
  }
  printf("BENCH_RESULT {\"impl\":\"c-udp-receive\",\"batch\":%d,\"recvfromNsPerDatagram\":%.1f,"
         "\"recvmmsgNsPerDatagram\":%.1f}\n",
         batch, seconds[0] * 1e9 / (double)datagrams[0], seconds[1] * 1e9 / (double)datagrams[1]);
  return 0;
}

/*
 * The connecting side of accept-loop.ts: THREADS threads, each connecting
 * to 127.0.0.1:PORT, reading until the server closes the connection, then
 * closing its end and connecting again, for SECONDS seconds (then it
 * exits, so it never outlives a runner that was killed). It prints nothing.
 *
 *   ./accept_client PORT THREADS SECONDS
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "c_peer.h"

static struct sockaddr_in server_address;

static void *connect_loop(void *unused) {
  (void)unused;
  char byte;
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&server_address, sizeof server_address) < 0) {
      /* A full backlog, or the server not listening yet: try again shortly. */
      close(fd);
      usleep(1000);
      continue;
    }
    while (read(fd, &byte, 1) > 0) {
    }
    close(fd);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: accept_client PORT THREADS SECONDS\n");
    return 2;
  }
  int threads = atoi(argv[2]);
  if (threads < 1 || threads > 64) die("THREADS must be 1-64");
  memset(&server_address, 0, sizeof server_address);
  server_address.sin_family = AF_INET;
  server_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  server_address.sin_port = htons((unsigned short)atoi(argv[1]));
  pthread_t ids[64];
  for (int i = 0; i < threads; i++) {
    if (pthread_create(&ids[i], NULL, connect_loop, NULL) != 0) die("pthread_create");
  }
  sleep((unsigned)atoi(argv[3]));
  return 0;
}

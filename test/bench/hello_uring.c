/*
 * The floor of an io_uring HTTP server on this machine: the bench's hello
 * answer ("Hello, World!", keep-alive, pipelining counted) from a plain
 * liburing loop with no parser, no routing and no JavaScript, beside nginx
 * in the HTTP rows. Whatever CPU per request it needs, the kernel's TCP and
 * io_uring paths need; tigerio's server cannot go below it.
 *
 * One thread, one ring (the best task-run flags the kernel takes, as
 * pingpong_uring.c), a multishot accept, and per connection one receive
 * into its own 4 KiB buffer and one send of the answers to the complete
 * requests it holds, then the next receive: the shape of tigerio's server.
 * With `multishot` as the second argument, each connection instead has one
 * multishot receive over a provided-buffer ring, re-armed only when the
 * kernel ends it: what a receive that stays armed across requests saves.
 * Compiled by the bench runner with `cc -O2 ... -luring` where liburing is
 * installed (Debian: liburing-dev).
 *
 *   ./hello_uring PORT [single|multishot]
 *
 * Prints "hello_uring listening PORT MODE" once it listens; runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "c_peer.h"

#define CONNECTIONS_MAX 4096
#define BUFFER_BYTES 4096
#define OUT_BYTES 16384
#define RING_BUFFERS 1024 /* the provided-buffer ring: a power of two */
#define BUFFER_GROUP 0

static const char ANSWER[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
#define ANSWER_BYTES (sizeof ANSWER - 1)

/* user_data: the operation in the top byte, the connection's fd below. */
enum { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_CLOSE };
#define USER_DATA(op, fd) (((unsigned long long)(op) << 56) | (unsigned)(fd))

struct connection {
  char in[BUFFER_BYTES]; /* bytes of a request not yet complete (and, single mode, the receive's buffer) */
  size_t in_bytes;
  char out[OUT_BYTES];
  size_t out_bytes, out_sent;
  int sending;
  int receiving;
};

static struct io_uring ring;
static struct connection *connections[CONNECTIONS_MAX];
static int multishot;
static struct io_uring_buf_ring *buffer_ring;
static char *ring_memory;

static struct io_uring_sqe *next_sqe(void) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
  if (sqe == NULL) {
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
    if (sqe == NULL) die("io_uring_get_sqe");
  }
  return sqe;
}

static void arm_recv(int fd) {
  struct connection *c = connections[fd];
  struct io_uring_sqe *sqe = next_sqe();
  if (multishot) {
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUFFER_GROUP;
  } else {
    io_uring_prep_recv(sqe, fd, c->in + c->in_bytes, BUFFER_BYTES - c->in_bytes, 0);
  }
  io_uring_sqe_set_data64(sqe, USER_DATA(OP_RECV, fd));
  c->receiving = 1;
}

static void close_connection(int fd) {
  struct io_uring_sqe *sqe = next_sqe();
  io_uring_prep_close(sqe, fd);
  io_uring_sqe_set_data64(sqe, USER_DATA(OP_CLOSE, fd));
  free(connections[fd]);
  connections[fd] = NULL;
}

static void send_rest(int fd) {
  struct connection *c = connections[fd];
  struct io_uring_sqe *sqe = next_sqe();
  io_uring_prep_send(sqe, fd, c->out + c->out_sent, c->out_bytes - c->out_sent, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, USER_DATA(OP_SEND, fd));
  c->sending = 1;
}

/* Answers every complete request in c->in; keeps the incomplete rest. */
static void answer(int fd) {
  struct connection *c = connections[fd];
  size_t out = 0, start = 0;
  for (size_t i = 3; i < c->in_bytes; i++) {
    if (c->in[i] == '\n' && c->in[i - 1] == '\r' && c->in[i - 2] == '\n' && c->in[i - 3] == '\r') {
      if (out + ANSWER_BYTES > OUT_BYTES) break;
      memcpy(c->out + out, ANSWER, ANSWER_BYTES);
      out += ANSWER_BYTES;
      start = i + 1;
    }
  }
  memmove(c->in, c->in + start, c->in_bytes - start);
  c->in_bytes -= start;
  if (out == 0) {
    if (!c->receiving) arm_recv(fd);
    return;
  }
  c->out_bytes = out;
  c->out_sent = 0;
  send_rest(fd);
}

static void setup_buffer_ring(void) {
  /* By hand: Debian 12's liburing (2.3) has no io_uring_setup_buf_ring. */
  const size_t ring_bytes = RING_BUFFERS * sizeof(struct io_uring_buf);
  buffer_ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (buffer_ring == MAP_FAILED) die("mmap");
  io_uring_buf_ring_init(buffer_ring);
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (unsigned long)buffer_ring;
  reg.ring_entries = RING_BUFFERS;
  reg.bgid = BUFFER_GROUP;
  const int rc = io_uring_register_buf_ring(&ring, &reg, 0);
  if (rc < 0) {
    errno = -rc;
    die("io_uring_register_buf_ring");
  }
  ring_memory = malloc((size_t)RING_BUFFERS * BUFFER_BYTES);
  if (ring_memory == NULL) die("malloc");
  for (int i = 0; i < RING_BUFFERS; i++) {
    io_uring_buf_ring_add(buffer_ring, ring_memory + (size_t)i * BUFFER_BYTES, BUFFER_BYTES, i,
                          io_uring_buf_ring_mask(RING_BUFFERS), i);
  }
  io_uring_buf_ring_advance(buffer_ring, RING_BUFFERS);
}

static void give_back(char *bytes) {
  const unsigned id = (unsigned)((size_t)(bytes - ring_memory) / BUFFER_BYTES);
  io_uring_buf_ring_add(buffer_ring, bytes, BUFFER_BYTES, (unsigned short)id, io_uring_buf_ring_mask(RING_BUFFERS), 0);
  io_uring_buf_ring_advance(buffer_ring, 1);
}

static void on_recv(int fd, int res, unsigned flags) {
  struct connection *c = connections[fd];
  char *bytes = NULL;
  if (flags & IORING_CQE_F_BUFFER) {
    /* The provided buffer goes back to the ring once its bytes are copied (at the end). */
    bytes = ring_memory + (size_t)(flags >> IORING_CQE_BUFFER_SHIFT) * BUFFER_BYTES;
  }
  if (c == NULL || res <= 0) {
    if (bytes != NULL) give_back(bytes);
    if (c == NULL) return;
  }
  if (!multishot || !(flags & IORING_CQE_F_MORE)) c->receiving = 0;
  if (res <= 0) {
    if (res == -ENOBUFS) { /* every provided buffer in use: try again */
      if (!c->receiving) arm_recv(fd);
      return;
    }
    if (!c->sending) close_connection(fd);
    return;
  }
  if (bytes != NULL) {
    size_t take = (size_t)res;
    if (take > BUFFER_BYTES - c->in_bytes) take = BUFFER_BYTES - c->in_bytes;
    memcpy(c->in + c->in_bytes, bytes, take);
    give_back(bytes);
    c->in_bytes += take;
  } else {
    c->in_bytes += (size_t)res;
  }
  if (!c->sending) answer(fd);
}

int main(int argc, char **argv) {
  const int port = argc > 1 ? atoi(argv[1]) : 0;
  multishot = argc > 2 && strcmp(argv[2], "multishot") == 0;

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) die("socket");
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((unsigned short)port);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(listener, 4096) < 0) die("listen");
  socklen_t len = sizeof addr;
  if (getsockname(listener, (struct sockaddr *)&addr, &len) < 0) die("getsockname");

  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (io_uring_queue_init_params(4096, &ring, &params) < 0) {
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_COOP_TASKRUN;
    if (io_uring_queue_init_params(4096, &ring, &params) < 0) die("io_uring_queue_init_params");
  }
  if (multishot) setup_buffer_ring();

  struct io_uring_sqe *sqe = next_sqe();
  io_uring_prep_multishot_accept(sqe, listener, NULL, NULL, 0);
  io_uring_sqe_set_data64(sqe, USER_DATA(OP_ACCEPT, listener));
  printf("hello_uring listening %d %s\n", ntohs(addr.sin_port), multishot ? "multishot" : "single");
  fflush(stdout);

  for (;;) {
    int rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR) {
      errno = -rc;
      die("io_uring_submit_and_wait");
    }
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      seen++;
      const unsigned long long data = io_uring_cqe_get_data64(cqe);
      const int op = (int)(data >> 56);
      const int fd = (int)(data & 0xffffffffu);
      const int res = cqe->res;
      if (op == OP_ACCEPT) {
        if (!(cqe->flags & IORING_CQE_F_MORE)) {
          struct io_uring_sqe *again = next_sqe();
          io_uring_prep_multishot_accept(again, listener, NULL, NULL, 0);
          io_uring_sqe_set_data64(again, USER_DATA(OP_ACCEPT, listener));
        }
        if (res < 0) continue;
        if (res >= CONNECTIONS_MAX) {
          close(res);
          continue;
        }
        nodelay(res);
        connections[res] = calloc(1, sizeof(struct connection));
        if (connections[res] == NULL) die("calloc");
        arm_recv(res);
      } else if (op == OP_RECV) {
        on_recv(fd, res, cqe->flags);
      } else if (op == OP_SEND) {
        struct connection *c = connections[fd];
        if (c == NULL) continue;
        c->sending = 0;
        if (res < 0) {
          if (!c->receiving) close_connection(fd);
          continue;
        }
        c->out_sent += (size_t)res;
        if (c->out_sent < c->out_bytes) {
          send_rest(fd);
          continue;
        }
        answer(fd);
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
}

// The simulated network between the IOs of a world: listeners,
// connections, and per direction a pipe of bytes whose segments arrive in
// order after their delay (sim_faults.h). Ops that cannot finish wait on
// their socket and are completed when a delivery, a read or a close makes
// progress. Bytes are never reordered or lost inside a connection.
// Unix stream sockets are the same streams, named by a path in the world's
// file namespace (sim_disk.h) or by an abstract name, and local: no
// network delay or link fault touches them. UDP sockets exchange whole
// datagrams from a bounded pool, each with its own delay and faults, into a
// receive buffer that drops what does not fit, as a kernel's does.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "../core/operation.h"
#include "sim_waiters.h"

namespace tigerio {
namespace sim {

class World;

constexpr uint32_t kSocketBufferBytes = 4 * 1024 * 1024;  // a direction's bytes in flight + unread (Linux's tcp_wmem max)
constexpr uint32_t kSocketsMax = 1u << 16;
constexpr uint16_t kEphemeralPortFirst = 32768;
constexpr uint16_t kEphemeralPortCount = 28232;  // Linux's default range, 32768..60999
// A UDP socket's receive buffer (Linux's default rmem, 208 KiB): a datagram
// arriving when its bytes plus kDatagramOverheadBytes each would pass it is dropped.
constexpr uint32_t kDatagramReceiveBufferBytes = 212992;
// What a queued datagram costs its receiver beyond its payload (Linux
// charges its buffer's truesize: about 1 KiB for a small datagram).
constexpr uint32_t kDatagramOverheadBytes = 768;
// Datagrams in flight or queued in the whole world, and their bytes: past
// either, a datagram sent is lost (the network's queues overflowed).
constexpr uint32_t kDatagramsMax = 1u << 16;
constexpr uint64_t kDatagramBytesMax = uint64_t{64} << 20;
// A pooled datagram keeps its storage for the next one up to this size
// (MTU-sized datagrams then allocate nothing after warm-up).
constexpr uint32_t kDatagramKeepBytes = 2048;
constexpr uint32_t kNoDatagram = UINT32_MAX;

struct Address {
  uint8_t family;  // 4 or 6
  uint8_t ip[16];
  uint16_t port;
};

inline bool same_ip(const Address& a, const Address& b) { return std::memcmp(a.ip, b.ip, sizeof(a.ip)) == 0; }

// The any-address (0.0.0.0 or ::).
inline bool wildcard(const Address& a) {
  static const uint8_t zeros[16] = {0};
  return std::memcmp(a.ip, zeros, sizeof(zeros)) == 0;
}

// Network::attempt()'s "not yet": the op waits on its socket.
constexpr int32_t kWait = INT32_MIN;
// attempt()'s answer for a recvPooled that has something to read and no
// buffer: it parks in the core until its pool has one again.
constexpr int32_t kPoolEmpty = INT32_MIN + 1;

// One direction of a connection, owned by the receiving socket. Offsets are
// absolute stream positions; `bytes` holds [base, written).
struct Pipe {
  struct Segment {
    uint64_t end;
    int64_t at_ns;
    uint8_t flags;  // kFin, kReset: after the bytes before `end`
  };
  static constexpr uint8_t kFin = 1, kReset = 2;
  std::vector<uint8_t> bytes;
  uint64_t base = 0, read = 0, delivered = 0, written = 0;
  int64_t last_at_ns = 0;
  std::deque<Segment> segments;
  bool fin = false, reset = false;  // delivered
  void clear();
  uint64_t unread() const { return delivered - read; }
  uint64_t queued() const { return written - read; }
};

// One datagram of the pool: in flight (an arrival event names it) or
// queued at its receiver (a FIFO linked through `next`).
struct Datagram {
  std::vector<uint8_t> bytes;  // the payload; storage kept across uses (kDatagramKeepBytes)
  Address from{}, to{};
  uint32_t sender = 0;  // socket index and generation: a connected sender learns of an unreachable port
  uint64_t sender_generation = 0;
  uint64_t serial = 0;  // the arrival event's check
  uint32_t next = kNoDatagram;
  bool used = false;
};

struct Socket {
  enum State : uint8_t { free, fresh, listening, connecting, connected, closed };
  // tcp and unix_stream carry streams (the same code); udp carries datagrams.
  enum Kind : uint8_t { tcp, unix_stream, udp };
  State state = free;
  Kind kind = tcp;
  uint64_t generation = 0;
  uint32_t node = 0;  // the IO whose machine it is on (partitions, crashes)
  Address local{}, remote{};
  int32_t peer = -1;  // socket index
  Pipe in;            // what the peer sent
  bool shut_send = false, shut_recv = false;
  bool reset_read = false;  // a recv already reported the reset: later ones read 0
  int32_t error = 0;        // a local reset (fault or crash): the next op fails with it
  bool connect_refused = false;
  std::deque<uint32_t> backlog;
  uint32_t backlog_max = 0;
  bool reuse_port = false;
  bool bound = false;   // TCP: bind() chose the local address a connect keeps
  WaitList waiting[2];  // by Direction: accept/recv, connect/send
  std::string abstract_name;  // a Unix listener in the abstract namespace: its name, gone with it
  // UDP: datagrams arrived and not yet received, and what they cost the receive buffer.
  uint32_t datagram_head = kNoDatagram, datagram_tail = kNoDatagram;
  uint32_t datagram_bytes = 0;
};

class Network {
 public:
  explicit Network(World& world) : world_(world) {}

  int listen(uint32_t node, const AddressStorage& address, int backlog, bool reuse_port);
  int socket(uint32_t node, bool ipv6);
  // A socket index or a negative errno.
  int udp_socket(uint32_t node, bool ipv6);
  int unix_socket(uint32_t node);
  int listen_unix(uint32_t node, const char* path, uint32_t path_length, int backlog);
  int bind(uint32_t socket, const AddressStorage& address);
  uint64_t generation(uint32_t socket) const { return sockets_[socket].generation; }
  int address(uint32_t socket, bool peer, char* text, size_t text_size, int* port, int* family);
  int shutdown(uint32_t socket, bool send, bool receive);
  // Backend::set_cork: 0, or ENOTSUP for a socket that is not TCP (as the
  // kernels say). Nothing is held: the simulated network delivers each send
  // whole, with no segments for a cork to fill.
  int set_cork(uint32_t socket) const;
  // An op of `op->kind` on `socket`: completes it (now, or later when it can).
  void issue(Op* op, uint32_t socket);
  // Takes back a waiting op; false if it is not waiting here.
  bool cancel(Op* op, uint32_t socket);
  // Takes back an op whose socket another IO closed (see close()); false if it is not one.
  bool cancel_orphan(Op* op) { return orphans_.remove(op); }
  // Waiter::waiting of an op in orphans_.
  static constexpr uint8_t kOrphan = 3;
  // Closing a socket ends the abandoned ops (Loop::abandon) still waiting
  // on it (the kernel's late answer, ECANCELED), as a close of its handle
  // ends a kernel's pending I/O; other IOs' ops wait on as orphans.
  int32_t close(uint32_t socket);
  // `owner`'s IO ends: every abandoned op of it the network holds ends now (ECANCELED).
  void end_abandoned(const SimulationBackend* owner);
  // Ops waiting on sockets whose cancels are ignored (sim_faults.h), not yet answered.
  uint32_t cancels_ignored() const;
  void deliver(uint32_t socket, uint64_t generation);
  void connect_arrives(uint32_t socket, uint64_t generation);
  void datagram_arrives(uint32_t datagram, uint64_t serial);
  // The machine of `node` crashed: every connection of it is reset.
  void crash(uint32_t node);
  bool partitioned(uint32_t a, uint32_t b) const;

 private:
  int32_t attempt(Op* op, Socket& socket, uint32_t index);  // a result, or kWait
  int32_t try_accept(Op* op, Socket& socket);
  int32_t before_transfer(Socket& socket);
  int32_t try_recv(Socket& socket, uint8_t* buffer, uint32_t length);
  // recvPooled: a buffer only once there is something to read (or end of stream, or an error).
  int32_t try_recv_pooled(Op* op, Socket& socket);
  // True if a recv on `socket` would wait now (try_recv's kWait), without taking anything.
  bool recv_would_wait(const Socket& socket) const;
  int32_t try_send(Op* op, Socket& socket, uint32_t index);
  void start_connect(Op* op, Socket& socket, uint32_t index);
  void connect_unix(Op* op, Socket& socket, uint32_t index);
  int32_t connect_datagram(Op* op, Socket& socket, uint32_t index);
  // UDP: one datagram sent (its length) or an error; one received.
  int32_t send_datagram(Socket& socket, uint32_t index, const uint8_t* bytes, uint32_t length, const Address& to);
  int32_t try_send_datagram(Op* op, Socket& socket, uint32_t index);
  int32_t try_recv_datagram(Op* op, Socket& socket);
  int32_t bind_datagram(Socket& socket, uint32_t index, Address address);
  int32_t find_datagram_receiver(const Address& to, const Address& from) const;
  uint32_t datagram_allocate(uint32_t length);
  void datagram_free(uint32_t datagram);
  void service(uint32_t index, Direction direction);
  void append(uint32_t to, uint32_t from_node, const uint8_t* bytes, uint32_t length, uint8_t flags);
  int64_t delay_ns(uint32_t from_node, uint32_t to_node);
  void maybe_fault_links(uint32_t from_node, uint32_t to_node);
  uint32_t allocate();
  void release(uint32_t index);
  int32_t find_listener(const Address& address);
  uint16_t ephemeral_port(bool datagram = false);
  void complete_waiters(Socket& socket, int32_t result);
  void answer_abandoned(WaitList& list, const SimulationBackend* owner);
  void orphan_waiters(Socket& socket);

  World& world_;
  std::deque<Socket> sockets_;  // a deque: a socket's reference survives allocating another
  std::vector<uint32_t> free_;
  // Ops of IOs whose socket another IO of the world closed: as a kernel
  // does, nothing tells their IO; they wait until it makes an fd with that
  // number (the core then takes them back: rule 9) or cancels them.
  WaitList orphans_;
  // Unix listeners in the abstract namespace, by name (path names are the disk's).
  std::map<std::string, uint32_t> abstract_;
  // UDP sockets with a local port, and the datagram pool.
  std::vector<uint32_t> udp_bound_;
  std::vector<Datagram> datagrams_;
  std::vector<uint32_t> free_datagrams_;
  uint64_t datagram_bytes_ = 0;
  uint64_t datagram_serial_ = 0;
  uint16_t next_port_ = 0;
  bool port_seeded_ = false;
  // Faults between nodes: the current partition and clogged links.
  uint64_t partition_side_ = 0;  // bit per node
  int64_t partition_heal_ns_ = 0;
  std::vector<int64_t> unclog_ns_;  // kNodesMax * kNodesMax, lazily
};

// An IP address and port from a parsed socket address (sockaddr_in/in6 share
// the port's offset on every OS); false for another family.
bool address_from_storage(const AddressStorage& storage, Address* address);
// The IP literal, as node:net writes it (RFC 5952 for IPv6).
void format_ip(const Address& address, char* text, size_t text_size);

}  // namespace sim
}  // namespace tigerio

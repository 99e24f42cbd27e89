// The simulated network's streams: TCP and Unix sockets, listeners,
// connects, sends and receives through the world's links and faults, and
// the per-link fault model. Datagrams are sim_datagrams.cc.
#include "sim_network.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>

#include "../core/backend.h"
#include "../core/index_pool.h"
#include "../core/layout.h"
#include "sim_errors.h"
#include "sim_world.h"
#include "simulation.h"

namespace tigerio {
namespace sim {

namespace {

// A pipe's storage drops what was read once that is this large and most of it.
constexpr uint64_t kCompactBytes = 64 * 1024;

SimulationBackend* owner_of(Op* op) { return waiter_of(op).backend; }

bool receives(OpKind kind) { return kind == OpKind::recv || kind == OpKind::recv_from || kind == OpKind::recv_pooled; }


}  // namespace

void Pipe::clear() {
  bytes.clear();
  base = read = delivered = written = 0;
  last_at_ns = 0;
  segments.clear();
  fin = reset = false;
}

bool address_from_storage(const AddressStorage& storage, Address* address) {
  *address = Address{};
  // sin_port and sin6_port sit at offset 2, in network order, on every OS.
  address->port = static_cast<uint16_t>((storage.bytes[2] << 8) | storage.bytes[3]);
  if (storage.length == 16) {
    address->family = 4;
    std::memcpy(address->ip, storage.bytes + 4, 4);
    return true;
  }
  if (storage.length == 28) {
    address->family = 6;
    std::memcpy(address->ip, storage.bytes + 8, 16);
    return true;
  }
  return false;
}

void format_ip(const Address& address, char* text, size_t text_size) {
  TIGERIO_ASSERT(text_size >= 46);
  if (address.family == 4) {
    std::snprintf(text, text_size, "%u.%u.%u.%u", address.ip[0], address.ip[1], address.ip[2], address.ip[3]);
    return;
  }
  uint16_t groups[8];
  for (int i = 0; i < 8; i++) groups[i] = static_cast<uint16_t>((address.ip[2 * i] << 8) | address.ip[2 * i + 1]);
  // RFC 5952: the longest run (the first of equals) of two or more zero groups becomes "::".
  int best_start = -1, best_length = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) j++;
    if (j - i > best_length && j - i >= 2) {
      best_start = i;
      best_length = j - i;
    }
    i = j;
  }
  size_t used = 0;
  text[0] = '\0';
  for (int i = 0; i < 8; i++) {
    if (i == best_start) {
      used += static_cast<size_t>(std::snprintf(text + used, text_size - used, "::"));
      i += best_length - 1;
      continue;
    }
    const bool after_gap = used > 0 && text[used - 1] == ':';
    used += static_cast<size_t>(std::snprintf(text + used, text_size - used, after_gap || i == 0 ? "%x" : ":%x",
                                              groups[i]));
  }
  TIGERIO_ASSERT(used < text_size);
}

uint32_t Network::allocate() {
  uint32_t index = 0;
  // The world's fd table runs out long before: both ends of kSocketsMax connections.
  const bool taken = take_index(free_, sockets_, kSocketsMax * 2, &index);
  TIGERIO_ASSERT(taken);
  Socket& socket = sockets_[index];
  TIGERIO_ASSERT(socket.state == Socket::free);
  socket.generation++;
  return index;
}

void Network::release(uint32_t index) {
  Socket& socket = sockets_[index];
  TIGERIO_ASSERT(socket.state != Socket::free);
  TIGERIO_ASSERT(socket.waiting[0].empty() && socket.waiting[1].empty());
  while (socket.datagram_head != kNoDatagram) {
    const uint32_t datagram = socket.datagram_head;
    socket.datagram_head = datagrams_[datagram].next;
    datagram_free(datagram);
  }
  if (socket.kind == Socket::udp && socket.local.port != 0) {
    auto bound = std::find(udp_bound_.begin(), udp_bound_.end(), index);
    TIGERIO_ASSERT(bound != udp_bound_.end());
    udp_bound_.erase(bound);
  }
  if (!socket.abstract_name.empty()) {
    // An abstract name lives as long as its socket (Linux): no file is left behind.
    auto named = abstract_.find(socket.abstract_name);
    if (named != abstract_.end() && named->second == index) abstract_.erase(named);
  }
  const uint64_t generation = socket.generation;
  socket.in.clear();
  socket.backlog.clear();
  Pipe kept;
  kept.bytes.swap(socket.in.bytes);  // keep the capacity for the next socket in this slot
  kept.bytes.clear();
  socket = Socket{};
  socket.in.bytes.swap(kept.bytes);
  socket.generation = generation + 1;  // events for the old socket find a new generation
  free_.push_back(index);
}

uint16_t Network::ephemeral_port(bool datagram) {
  if (!port_seeded_) {
    // Seeded, as Linux randomizes ephemeral ports: programs must not depend on them.
    next_port_ = static_cast<uint16_t>(world_.random().below(kEphemeralPortCount));
    port_seeded_ = true;
  }
  for (uint32_t tries = 0; tries < kEphemeralPortCount; tries++) {
    const uint16_t port = static_cast<uint16_t>(kEphemeralPortFirst + next_port_);
    next_port_ = static_cast<uint16_t>((next_port_ + 1) % kEphemeralPortCount);
    bool taken = false;
    if (datagram) {
      // UDP ports are a namespace of their own.
      for (const uint32_t bound : udp_bound_) taken = taken || sockets_[bound].local.port == port;
    } else {
      for (const Socket& socket : sockets_) {
        if (socket.state == Socket::listening && socket.local.port == port) taken = true;
      }
    }
    if (!taken) return port;
  }
  return 0;
}

int32_t Network::find_listener(const Address& address) {
  for (size_t i = 0; i < sockets_.size(); i++) {
    const Socket& socket = sockets_[i];
    if (socket.state != Socket::listening || socket.local.family != address.family) continue;
    if (socket.local.port != address.port) continue;
    if (wildcard(socket.local) || same_ip(socket.local, address)) return static_cast<int32_t>(i);
  }
  return -1;
}

int Network::socket(uint32_t node, bool ipv6) {
  const uint32_t index = allocate();
  Socket& socket = sockets_[index];
  socket.state = Socket::fresh;
  socket.node = node;
  socket.local.family = ipv6 ? 6 : 4;
  return static_cast<int>(index);
}

int Network::udp_socket(uint32_t node, bool ipv6) {
  const uint32_t index = allocate();
  Socket& socket = sockets_[index];
  socket.state = Socket::fresh;
  socket.kind = Socket::udp;
  socket.node = node;
  socket.local.family = ipv6 ? 6 : 4;
  return static_cast<int>(index);
}

int Network::unix_socket(uint32_t node) {
  const uint32_t index = allocate();
  Socket& socket = sockets_[index];
  socket.state = Socket::fresh;
  socket.kind = Socket::unix_stream;
  socket.node = node;
  return static_cast<int>(index);
}

int Network::listen_unix(uint32_t node, const char* path, uint32_t path_length, int backlog) {
  TIGERIO_ASSERT(path != nullptr && path_length >= 1 && backlog >= 1);
  const std::string name(path, path_length);
  const bool abstract = path[0] == '\0';
  // Anything at the name (a stale socket file too) is in use: removing it is the caller's call.
  if (abstract ? abstract_.count(name) != 0 : world_.disk().exists(name)) return kAddressInUse;
  const uint32_t index = allocate();
  Socket& socket = sockets_[index];
  socket.state = Socket::listening;
  socket.kind = Socket::unix_stream;
  socket.node = node;
  socket.backlog_max = static_cast<uint32_t>(backlog);
  if (abstract) {
    socket.abstract_name = name;
    abstract_.emplace(name, index);
  } else {
    // The path is free (checked above); the world's file table may still be full (ENOSPC).
    const int32_t bound = world_.disk().bind_socket(name, index, socket.generation);
    TIGERIO_ASSERT(bound == 0 || bound == kNoSpace);
    if (bound != 0) {
      release(index);
      return bound;
    }
  }
  world_.trace().mix_bytes(reinterpret_cast<const uint8_t*>(path), path_length);
  return static_cast<int>(index);
}

// Linux's answer to an address of the other family than the socket's, to
// bind and connect alike: EAFNOSUPPORT for an IPv6 address on an IPv4
// socket, EINVAL for an IPv4 address on an IPv6 socket (too short for one).
static int32_t family_mismatch(const Address& socket_local) {
  TIGERIO_ASSERT(socket_local.family == 4 || socket_local.family == 6);
  return socket_local.family == 4 ? kAddressFamily : kInvalid;
}

int Network::bind(uint32_t index, const AddressStorage& storage) {
  Socket& socket = sockets_[index];
  TIGERIO_ASSERT(socket.state != Socket::free);
  Address address;
  if (socket.kind == Socket::unix_stream) return kInvalid;  // an IP address for a Unix socket
  if (!address_from_storage(storage, &address)) return kInvalid;
  if (address.family != socket.local.family) return family_mismatch(socket.local);
  if (socket.state != Socket::fresh || socket.bound || socket.local.port != 0) return kInvalid;  // bound already
  if (socket.kind == Socket::udp) return bind_datagram(socket, index, address);
  // TCP: the local address a later connect keeps.
  if (address.port == 0) {
    address.port = ephemeral_port();
    if (address.port == 0) return kAddressInUse;
  } else {
    for (const Socket& other : sockets_) {
      if (other.state != Socket::listening || other.kind != Socket::tcp || other.local.family != address.family) continue;
      if (other.local.port != address.port) continue;
      if (wildcard(other.local) || wildcard(address) || same_ip(other.local, address)) return kAddressInUse;
    }
  }
  socket.local = address;
  socket.bound = true;
  return 0;
}

int Network::listen(uint32_t node, const AddressStorage& storage, int backlog, bool reuse_port) {
  TIGERIO_ASSERT(backlog >= 1);
  Address address;
  if (!address_from_storage(storage, &address)) return kAddressFamily;
  if (address.port == 0) {
    address.port = ephemeral_port();
    if (address.port == 0) return kAddressInUse;
  } else {
    for (const Socket& other : sockets_) {
      if (other.state != Socket::listening || other.local.family != address.family) continue;
      if (other.local.port != address.port) continue;
      const bool overlap = wildcard(other.local) || wildcard(address) || same_ip(other.local, address);
      if (overlap && !(reuse_port && other.reuse_port)) return kAddressInUse;
    }
  }
  const uint32_t index = allocate();
  Socket& socket = sockets_[index];
  socket.state = Socket::listening;
  socket.node = node;
  socket.local = address;
  socket.backlog_max = static_cast<uint32_t>(backlog);
  socket.reuse_port = reuse_port;
  world_.trace().mix((uint64_t{address.port} << 8) | node);
  return static_cast<int>(index);
}

int Network::address(uint32_t index, bool peer, char* text, size_t text_size, int* port, int* family) {
  const Socket& socket = sockets_[index];
  TIGERIO_ASSERT(socket.state != Socket::free);
  if (socket.kind == Socket::unix_stream) return kAddressFamily;  // the helpers report IP addresses only
  if (peer && socket.state != Socket::connected) return kNotConnected;
  const Address& address = peer ? socket.remote : socket.local;
  Address shown = address;
  if (shown.family == 0) shown.family = socket.local.family;
  format_ip(shown, text, text_size);
  *port = shown.port;
  *family = shown.family;
  return 0;
}

int Network::shutdown(uint32_t index, bool send, bool receive) {
  Socket& socket = sockets_[index];
  if (socket.state != Socket::connected) return kNotConnected;
  if (send && !socket.shut_send) {
    socket.shut_send = true;
    if (socket.peer >= 0) append(static_cast<uint32_t>(socket.peer), socket.node, nullptr, 0, Pipe::kFin);
  }
  if (receive) {
    socket.shut_recv = true;
    service(index, Direction::in);
  }
  return 0;
}

int Network::set_cork(uint32_t index) const {
  const Socket& socket = sockets_[index];
  TIGERIO_ASSERT(socket.state != Socket::free);
  return socket.kind == Socket::tcp ? 0 : kNotSupported;
}

void Network::issue(Op* op, uint32_t index) {
  Socket& socket = sockets_[index];
  TIGERIO_ASSERT(socket.state != Socket::free);
  const Direction direction = op_direction(op->kind);
  if (op->kind == OpKind::connect) {
    start_connect(op, socket, index);
    return;
  }
  if (op->kind == OpKind::connect_unix) {
    connect_unix(op, socket, index);
    return;
  }
  WaitList& list = socket.waiting[static_cast<uint8_t>(direction)];
  // Another IO's op on the same socket waits first: FIFO across IOs too.
  const int32_t result = list.empty() ? attempt(op, socket, index) : kWait;
  if (result == kWait) {
    list.push(op);
    return;
  }
  if (result == kPoolEmpty) {
    owner_of(op)->loop().pool_park(op);
    return;
  }
  owner_of(op)->complete(op, result);
  if (receives(op->kind) && result > 0 && socket.peer >= 0) {
    service(static_cast<uint32_t>(socket.peer), Direction::out);  // room for the peer's sends
  }
}

int32_t Network::attempt(Op* op, Socket& socket, uint32_t index) {
  switch (op->kind) {
    case OpKind::accept:
      // A datagram socket cannot accept: EOPNOTSUPP, as the kernels say.
      return socket.kind == Socket::udp ? kNotSupported : try_accept(op, socket);
    case OpKind::recv:
      if (socket.kind == Socket::udp) return try_recv_datagram(op, socket);
      return try_recv(socket, op->args.recv.buffer, op->args.recv.length);
    case OpKind::recv_from: {
      if (socket.kind == Socket::udp) return try_recv_datagram(op, socket);
      // A stream socket: a recv whose sender is nobody (recvmsg gives no name).
      const RecvFromArgs& args = op->args.recv_from;
      const int32_t result = try_recv(socket, args.buffer, args.length);
      if (result >= 0) std::memset(args.address, 0, kAddressBytes);
      return result;
    }
    case OpKind::send:
    case OpKind::send_to:
      if (socket.kind == Socket::udp) return try_send_datagram(op, socket, index);
      return try_send(op, socket, index);
    case OpKind::send_file:
      // Datagram sockets take no file in the simulation (Linux would send it as datagrams).
      return socket.kind == Socket::udp ? kInvalid : try_send(op, socket, index);
    case OpKind::connect:
      return kWait;  // only its arrival completes it
    case OpKind::recv_pooled:
      // Datagrams keep their own receive path; a pooled one is for streams here.
      return socket.kind == Socket::udp ? kNotSupported : try_recv_pooled(op, socket);
    default:
      break;
  }
  TIGERIO_ASSERT(false && "not a socket operation");
  return kInvalid;
}

int32_t Network::try_accept(Op* op, Socket& listener) {
  if (listener.state != Socket::listening) return kInvalid;
  if (listener.backlog.empty()) return kWait;
  if (world_.random().chance(world_.faults().accept_emfile_ppm)) return kTooManyFiles;
  const uint32_t accepted = listener.backlog.front();
  const int32_t fd = world_.fd_allocate(Object::socket, accepted, owner_of(op)->node());
  if (fd < 0) return fd;  // EMFILE: the connection stays queued, as the kernel keeps it
  listener.backlog.pop_front();
  return fd;
}

// What a connected socket's next recv or send meets before any bytes: a
// wait while it connects, ENOTCONN, or a pending error (taken once, as
// SO_ERROR is); 0 when the op can go on.
int32_t Network::before_transfer(Socket& socket) {
  if (socket.state == Socket::connecting) return kWait;
  if (socket.state != Socket::connected) return kNotConnected;
  if (socket.error == 0) return 0;
  const int32_t error = socket.error;
  TIGERIO_ASSERT(error < 0);
  socket.error = 0;
  socket.reset_read = true;
  return error;
}

int32_t Network::try_recv(Socket& socket, uint8_t* buffer, uint32_t asked) {
  if (const int32_t early = before_transfer(socket); early != 0) return early;
  if (socket.shut_recv) return 0;
  Pipe& pipe = socket.in;
  const uint64_t unread = pipe.unread();
  if (unread > 0) {
    uint32_t length = static_cast<uint32_t>(std::min<uint64_t>(asked, unread));
    if (world_.random().chance(world_.faults().short_recv_ppm)) {
      length = 1 + static_cast<uint32_t>(world_.random().below(length));
    }
    TIGERIO_ASSERT(length >= 1 && length <= unread && pipe.read >= pipe.base);
    std::memcpy(buffer, pipe.bytes.data() + (pipe.read - pipe.base), length);
    pipe.read += length;
    TIGERIO_ASSERT(pipe.read <= pipe.delivered);
    world_.trace().mix_bytes(buffer, length);
    const uint64_t consumed = pipe.read - pipe.base;
    if (consumed >= kCompactBytes && consumed * 2 >= pipe.bytes.size()) {
      pipe.bytes.erase(pipe.bytes.begin(), pipe.bytes.begin() + static_cast<std::ptrdiff_t>(consumed));
      pipe.base = pipe.read;
    }
    return static_cast<int32_t>(length);
  }
  if (pipe.reset) {
    if (socket.reset_read) return 0;
    socket.reset_read = true;
    return kConnectionReset;
  }
  if (pipe.fin) return 0;
  return kWait;
}

int32_t Network::try_recv_pooled(Op* op, Socket& socket) {
  if (op->state == OpState::abandoned) {
    // Its late answer: readable (or ended), taking no buffer and no byte, as
    // the kernels' pooled receives wait (IOCP's zero-byte receive, a poll):
    // the bytes stay for the next receive. Its pool may be lent out meanwhile.
    return recv_would_wait(socket) ? kWait : 0;
  }
  Loop& loop = owner_of(op)->loop();
  if (recv_would_wait(socket)) return kWait;  // waits holding no buffer
  if (!loop.pool_take(op)) return kPoolEmpty;
  const BufferPool& pool = loop.pool(op->args.recv_pooled.pool);
  const int32_t result = try_recv(socket, pool.data(op->args.recv_pooled.buffer), pool.size);
  TIGERIO_ASSERT(result != kWait);
  return result;
}

// try_recv's conditions for kWait, in its order, taking nothing.
bool Network::recv_would_wait(const Socket& socket) const {
  if (socket.state == Socket::connecting) return true;
  if (socket.state != Socket::connected || socket.error != 0 || socket.shut_recv) return false;
  const Pipe& pipe = socket.in;
  return pipe.unread() == 0 && !pipe.reset && !pipe.fin;
}

// send, sendTo on a stream (the address is ignored, as on a connected TCP
// socket) and sendFile: the same path; sendFile's bytes come from the
// world's disk as they go into the peer's pipe.
int32_t Network::try_send(Op* op, Socket& socket, uint32_t index) {
  const uint8_t* buffer = nullptr;
  uint32_t asked = 0;
  uint32_t file_handle = 0;
  int64_t file_offset = -1;
  if (op->kind == OpKind::send) {
    buffer = op->args.send.buffer;
    asked = op->args.send.length;
  } else if (op->kind == OpKind::send_to) {
    buffer = op->args.send_to.buffer;
    asked = op->args.send_to.length;
  } else {
    TIGERIO_ASSERT(op->kind == OpKind::send_file);
    // The file is looked up at each try: it must stay open until the callback (the caller owns it).
    const SendFileArgs& args = op->args.send_file;
    const Object* file = world_.fd_find(args.file_fd);
    if (file == nullptr) return kBadFd;
    if (file->type != Object::file) return kInvalid;  // sendfile(2) reads files only
    const int64_t size = world_.disk().size(file->index);
    if (args.offset >= size) return 0;  // at or past the end: nothing to send
    file_handle = file->index;
    file_offset = args.offset;
    asked = static_cast<uint32_t>(std::min<int64_t>(args.length, size - args.offset));
  }
  TIGERIO_ASSERT(asked >= 1);
  if (const int32_t early = before_transfer(socket); early != 0) return early;
  if (socket.shut_send) return kPipe;
  if (socket.in.reset) {
    if (socket.reset_read) return kPipe;
    socket.reset_read = true;
    return kConnectionReset;
  }
  // What went out to the closed peer is never acknowledged: it fills the
  // send buffer, so a further send waits until the reset arrives and ends it
  // (a kernel's send buffer does the same; without this a loop of sends,
  // each done at once, would never let the reset in).
  if (socket.peer == -2) return kWait;
  if (socket.peer < 0) {
    // The peer has closed: the bytes go out and its kernel answers with a
    // reset, which a later send or recv reports (as on a real one).
    append(index, socket.node, nullptr, 0, Pipe::kReset);
    socket.peer = -2;  // the reset is on its way: one is enough
    return static_cast<int32_t>(std::min<uint32_t>(asked, kSocketBufferBytes));
  }
  const uint32_t peer_index = static_cast<uint32_t>(socket.peer);
  // A reset mid-stream is a network's doing: a Unix socket crosses none.
  if (socket.kind == Socket::tcp && world_.random().chance(world_.faults().reset_ppm)) {
    // Reset mid-stream (a middlebox, a peer's crash): both ends learn it.
    append(peer_index, socket.node, nullptr, 0, Pipe::kReset);
    sockets_[peer_index].peer = -1;
    socket.peer = -1;
    socket.in.reset = true;
    socket.reset_read = true;
    socket.in.read = socket.in.delivered = socket.in.written;
    world_.trace().mix(0xdead);
    service(index, Direction::in);  // a recv waiting on this end learns of the reset too
    return kConnectionReset;
  }
  Socket& peer = sockets_[peer_index];
  const uint64_t queued = peer.in.queued();
  if (queued >= kSocketBufferBytes) return kWait;
  uint32_t length = static_cast<uint32_t>(std::min<uint64_t>(asked, kSocketBufferBytes - queued));
  if (world_.random().chance(world_.faults().partial_send_ppm)) {
    length = 1 + static_cast<uint32_t>(world_.random().below(length));
  }
  TIGERIO_ASSERT(length >= 1 && length <= asked);
  if (file_offset >= 0) {
    // Straight from the disk into the peer's pipe (its read faults apply): no buffer between.
    std::vector<uint8_t>& bytes = peer.in.bytes;
    const size_t before = bytes.size();
    bytes.resize(before + length);
    FileTransferArgs read{bytes.data() + before, length, file_offset};
    const int32_t got = world_.disk().read(file_handle, read);
    if (got <= 0) {
      bytes.resize(before);
      TIGERIO_ASSERT(got < 0);  // the offset is before the end: an error (EIO, EBADF), never 0
      return got;
    }
    bytes.resize(before + static_cast<uint32_t>(got));
    length = static_cast<uint32_t>(got);
    append(peer_index, socket.node, nullptr, length, 0);  // the bytes are in place
  } else {
    append(peer_index, socket.node, buffer, length, 0);
  }
  TIGERIO_ASSERT(peer.in.queued() <= kSocketBufferBytes);
  return static_cast<int32_t>(length);
}

void Network::append(uint32_t to, uint32_t from_node, const uint8_t* bytes, uint32_t length, uint8_t flags) {
  Socket& receiver = sockets_[to];
  TIGERIO_ASSERT(receiver.state != Socket::free);
  Pipe& pipe = receiver.in;
  // bytes == nullptr with a length: the caller put them in place (sendFile).
  if (bytes != nullptr && length > 0) pipe.bytes.insert(pipe.bytes.end(), bytes, bytes + length);
  pipe.written += length;
  TIGERIO_ASSERT(pipe.written - pipe.base == pipe.bytes.size());
  // In order: never before the segment ahead of it (TCP does not reorder).
  // A Unix socket crosses no network: its bytes are there at once.
  const int64_t delay = receiver.kind == Socket::unix_stream ? 0 : delay_ns(from_node, receiver.node);
  const int64_t at_ns = std::max(pipe.last_at_ns, world_.now_ns() + delay);
  pipe.last_at_ns = at_ns;
  pipe.segments.push_back(Pipe::Segment{pipe.written, at_ns, flags});
  world_.schedule(at_ns, EventKind::deliver, to, receiver.generation);
}

void Network::deliver(uint32_t index, uint64_t generation) {
  Socket& socket = sockets_[index];
  if (socket.generation != generation || socket.state == Socket::free) return;
  Pipe& pipe = socket.in;
  bool changed = false;
  while (!pipe.segments.empty() && pipe.segments.front().at_ns <= world_.now_ns()) {
    const Pipe::Segment segment = pipe.segments.front();
    pipe.segments.pop_front();
    pipe.delivered = segment.end;
    if ((segment.flags & Pipe::kFin) != 0) pipe.fin = true;
    if ((segment.flags & Pipe::kReset) != 0) {
      pipe.reset = true;
      pipe.read = pipe.delivered;  // a reset discards what was not read, as Linux does
      if (socket.peer >= 0) socket.peer = -1;
    }
    changed = true;
  }
  if (!changed) return;
  TIGERIO_ASSERT(pipe.read <= pipe.delivered && pipe.delivered <= pipe.written);
  world_.trace().mix(pipe.delivered ^ (uint64_t{index} << 40));
  service(index, Direction::in);
  if (pipe.reset) service(index, Direction::out);
}

void Network::service(uint32_t index, Direction direction) {
  TIGERIO_ASSERT(index < sockets_.size() && direction != Direction::none);
  Socket& socket = sockets_[index];
  if (socket.state == Socket::free) return;
  WaitList& list = socket.waiting[static_cast<uint8_t>(direction)];
  while (Op* op = list.front()) {
    const int32_t result = attempt(op, socket, index);
    if (result == kWait) break;
    list.pop();
    if (result == kPoolEmpty) {
      owner_of(op)->loop().pool_park(op);  // the next waiter may read: it has its own pool
      continue;
    }
    owner_of(op)->complete(op, result);
    if (receives(op->kind) && result > 0 && socket.peer >= 0) {
      service(static_cast<uint32_t>(socket.peer), Direction::out);
    }
  }
}

void Network::start_connect(Op* op, Socket& socket, uint32_t index) {
  if (socket.kind == Socket::udp) {
    owner_of(op)->complete(op, connect_datagram(op, socket, index));
    return;
  }
  int32_t error = 0;
  Address target;
  if (socket.kind == Socket::unix_stream) error = kInvalid;  // an IP address for a Unix socket
  else if (socket.state == Socket::connected) error = kIsConnected;
  else if (socket.state == Socket::connecting) error = kAlready;
  else if (socket.state != Socket::fresh) error = kInvalid;
  else if (!address_from_storage(op->args.connect.address, &target)) error = kAddressFamily;
  else if (target.family != socket.local.family) error = family_mismatch(socket.local);
  if (error != 0) {
    owner_of(op)->complete(op, error);
    return;
  }
  socket.remote = target;
  const uint16_t bound_port = socket.local.port;
  socket.local = target;  // loopback: the local end has the address it dialled
  socket.local.port = socket.bound ? bound_port : ephemeral_port();  // bind() before connect() chose it
  socket.state = Socket::connecting;
  socket.connect_refused = world_.random().chance(world_.faults().connect_refused_ppm);
  const int32_t listener = find_listener(target);
  const uint32_t to_node = listener >= 0 ? sockets_[static_cast<uint32_t>(listener)].node : socket.node;
  const int64_t at_ns = world_.now_ns() + delay_ns(socket.node, to_node) +
                        world_.random().exponential_ns(world_.faults().connect_delay_mean_ns);
  socket.waiting[static_cast<uint8_t>(Direction::out)].push(op);
  world_.schedule(at_ns, EventKind::connect, index, socket.generation);
}

void Network::connect_arrives(uint32_t index, uint64_t generation) {
  if (sockets_[index].generation != generation || sockets_[index].state != Socket::connecting) return;
  Op* op = sockets_[index].waiting[static_cast<uint8_t>(Direction::out)].front();
  TIGERIO_ASSERT(op != nullptr && op->kind == OpKind::connect);
  const int32_t listener_index = find_listener(sockets_[index].remote);
  if (listener_index >= 0) {
    const Socket& listener = sockets_[static_cast<uint32_t>(listener_index)];
    if (partitioned(sockets_[index].node, listener.node)) {
      world_.schedule(partition_heal_ns_, EventKind::connect, index, generation);  // SYNs retried until it heals
      return;
    }
  }
  if (listener_index < 0 || sockets_[index].connect_refused ||
      sockets_[static_cast<uint32_t>(listener_index)].backlog.size() >=
          sockets_[static_cast<uint32_t>(listener_index)].backlog_max) {
    sockets_[index].state = Socket::fresh;
    sockets_[index].waiting[static_cast<uint8_t>(Direction::out)].pop();
    owner_of(op)->complete(op, kConnectionRefused);
    return;
  }
  const uint32_t accepted = allocate();  // a deque: references stay valid
  Socket& client = sockets_[index];
  Socket& listener = sockets_[static_cast<uint32_t>(listener_index)];
  Socket& server = sockets_[accepted];
  server.state = Socket::connected;
  server.node = listener.node;
  server.local = client.remote;
  server.remote = client.local;
  server.peer = static_cast<int32_t>(index);
  client.peer = static_cast<int32_t>(accepted);
  client.state = Socket::connected;
  listener.backlog.push_back(accepted);
  world_.trace().mix((uint64_t{client.local.port} << 32) | accepted);
  client.waiting[static_cast<uint8_t>(Direction::out)].pop();
  owner_of(op)->complete(op, 0);
  service(static_cast<uint32_t>(listener_index), Direction::in);
}

// A Unix connect completes at once or fails, as a local connect does on
// every kernel: ENOENT (no such name), ECONNREFUSED (a stale socket file, a
// file that is not a socket, an abstract name nobody listens on), EAGAIN
// (the listener's backlog is full: libuv's and Linux's answer, not a wait).
void Network::connect_unix(Op* op, Socket& socket, uint32_t client_index) {
  const ConnectUnixArgs& args = op->args.connect_unix;
  TIGERIO_ASSERT(args.path != nullptr && args.path_length >= 1);
  int32_t result = 0;
  uint32_t listener_index = 0;
  if (socket.kind != Socket::unix_stream) {
    result = kAddressFamily;  // a Unix address for an IP socket
  } else if (socket.state == Socket::connected) {
    result = kIsConnected;
  } else if (socket.state != Socket::fresh) {
    result = kInvalid;
  } else {
    const std::string name(args.path, args.path_length);
    uint64_t generation = 0;
    if (args.path[0] == '\0') {
      auto named = abstract_.find(name);
      if (named == abstract_.end()) {
        result = kConnectionRefused;
      } else {
        listener_index = named->second;
        generation = sockets_[listener_index].generation;
      }
    } else {
      result = world_.disk().find_socket(name, &listener_index, &generation);
    }
    if (result == 0) {
      const Socket& listener = sockets_[listener_index];
      if (listener.generation != generation || listener.state != Socket::listening ||
          listener.kind != Socket::unix_stream) {
        result = kConnectionRefused;  // the socket file outlived its listener
      } else if (listener.backlog.size() >= listener.backlog_max) {
        result = kAgain;
      }
    }
  }
  if (result < 0) {
    owner_of(op)->complete(op, result);
    return;
  }
  TIGERIO_ASSERT(&sockets_[client_index] == &socket);
  const uint32_t accepted = allocate();  // a deque: references stay valid
  Socket& listener = sockets_[listener_index];
  Socket& server = sockets_[accepted];
  server.state = Socket::connected;
  server.kind = Socket::unix_stream;
  server.node = listener.node;
  server.peer = static_cast<int32_t>(client_index);
  socket.peer = static_cast<int32_t>(accepted);
  socket.state = Socket::connected;
  listener.backlog.push_back(accepted);
  world_.trace().mix((uint64_t{0x0a} << 48) | (uint64_t{client_index} << 24) | accepted);
  owner_of(op)->complete(op, 0);
  service(listener_index, Direction::in);
}

// UDP's connect: no handshake. It names the one peer send/recv use (and
// the only one whose datagrams are received), binds an unbound socket, and
// completes at once.
bool Network::cancel(Op* op, uint32_t index) {
  Socket& socket = sockets_[index];
  if (!socket.waiting[static_cast<uint8_t>(op_direction(op->kind))].remove(op)) return false;
  if (op->kind == OpKind::connect && socket.state == Socket::connecting) socket.state = Socket::fresh;
  return true;
}

void Network::orphan_waiters(Socket& socket) {
  for (WaitList& list : socket.waiting) {
    while (Op* op = list.front()) {
      list.pop();
      orphans_.push(op, kOrphan);
    }
  }
}

void Network::complete_waiters(Socket& socket, int32_t result) {
  for (WaitList& list : socket.waiting) {
    while (Op* op = list.front()) {
      list.pop();
      owner_of(op)->complete(op, result);
    }
  }
}

// Ends the abandoned ops in `list` (of `owner`'s IO, or of any when nullptr)
// with ECANCELED: the kernel's late answer, which frees their storage.
void Network::answer_abandoned(WaitList& list, const SimulationBackend* owner) {
  for (Op* op = list.front(); op != nullptr;) {
    Op* const next = waiter_of(op).next;  // completing an abandoned op touches no list
    if (op->state == OpState::abandoned && (owner == nullptr || owner_of(op) == owner)) {
      const bool removed = list.remove(op);
      TIGERIO_ASSERT(removed);
      owner_of(op)->complete(op, kCanceled);
    }
    op = next;
  }
}

void Network::end_abandoned(const SimulationBackend* owner) {
  TIGERIO_ASSERT(owner != nullptr);
  for (Socket& socket : sockets_) {
    if (socket.state == Socket::free) continue;
    for (WaitList& list : socket.waiting) answer_abandoned(list, owner);
  }
  // An orphan's cancel is always honoured (sim_faults.h), so none is abandoned.
  for (Op* op = orphans_.front(); op != nullptr; op = waiter_of(op).next) TIGERIO_ASSERT(op->state != OpState::abandoned);
}

uint32_t Network::cancels_ignored() const {
  uint32_t count = 0;
  for (const Socket& socket : sockets_) {
    if (socket.state == Socket::free) continue;
    for (const WaitList& list : socket.waiting) {
      for (Op* op = list.front(); op != nullptr; op = waiter_of(op).next) {
        if ((waiter_of(op).cancel & kCancelIgnored) != 0) count++;
      }
    }
  }
  return count;
}

int32_t Network::close(uint32_t index) {
  TIGERIO_ASSERT(index < sockets_.size());
  Socket& socket = sockets_[index];
  TIGERIO_ASSERT(socket.state != Socket::free);
  for (WaitList& list : socket.waiting) answer_abandoned(list, nullptr);
  if (socket.state == Socket::listening) {
    // Connections never accepted are reset, as a kernel does.
    for (const uint32_t queued : socket.backlog) {
      Socket& server = sockets_[queued];
      if (server.peer >= 0) {
        append(static_cast<uint32_t>(server.peer), server.node, nullptr, 0, Pipe::kReset);
        sockets_[static_cast<uint32_t>(server.peer)].peer = -1;
      }
      complete_waiters(server, kBadFd);
      release(queued);
    }
    socket.backlog.clear();
  } else if (socket.state == Socket::connected && socket.peer >= 0) {
    // Unread bytes make it a reset (Linux), otherwise the end of the stream.
    const uint32_t peer = static_cast<uint32_t>(socket.peer);
    if (socket.in.unread() > 0) {
      append(peer, socket.node, nullptr, 0, Pipe::kReset);
    } else if (!socket.shut_send) {
      append(peer, socket.node, nullptr, 0, Pipe::kFin);
    }
    sockets_[peer].peer = -1;
    orphan_waiters(socket);  // another IO's ops on the same fd: closed behind its back
    release(index);
    // A send of the peer waiting for room in this end's buffer now meets a closed socket.
    service(peer, Direction::out);
    return 0;
  }
  orphan_waiters(socket);  // another IO's ops on the same fd: closed behind its back
  release(index);
  return 0;
}

void Network::crash(uint32_t node) {
  for (size_t i = 0; i < sockets_.size(); i++) {
    Socket& socket = sockets_[i];
    if (socket.state == Socket::free || socket.node != node) continue;
    if (socket.peer >= 0) {
      append(static_cast<uint32_t>(socket.peer), node, nullptr, 0, Pipe::kReset);
      sockets_[static_cast<uint32_t>(socket.peer)].peer = -1;
      socket.peer = -1;
    }
    if (socket.state == Socket::connected && socket.kind != Socket::udp) socket.error = kConnectionReset;
  }
}

bool Network::partitioned(uint32_t a, uint32_t b) const {
  if (a == b || world_.now_ns() >= partition_heal_ns_) return false;
  return ((partition_side_ >> a) & 1) != ((partition_side_ >> b) & 1);
}

void Network::maybe_fault_links(uint32_t from_node, uint32_t to_node) {
  const Faults& faults = world_.faults();
  Random& random = world_.random();
  if (random.chance(faults.partition_ppm) && world_.now_ns() >= partition_heal_ns_) {
    // Two groups of IOs, the two ends of this link on either side.
    partition_side_ = (random.next() | (uint64_t{1} << from_node)) & ~(uint64_t{1} << to_node);
    const int64_t span_ns = std::max<int64_t>(0, faults.partition_max_ns - faults.partition_min_ns);
    partition_heal_ns_ = world_.now_ns() + faults.partition_min_ns +
                         static_cast<int64_t>(random.below(static_cast<uint64_t>(span_ns) + 1));
    world_.trace().mix(static_cast<uint64_t>(partition_heal_ns_) ^ partition_side_);
  }
  if (random.chance(faults.clog_ppm)) {
    if (unclog_ns_.empty()) unclog_ns_.assign(kNodesMax * kNodesMax, 0);
    unclog_ns_[from_node * kNodesMax + to_node] = world_.now_ns() + random.exponential_ns(faults.clog_mean_ns);
  }
}

int64_t Network::delay_ns(uint32_t from_node, uint32_t to_node) {
  const Faults& faults = world_.faults();
  const int64_t base_ns = faults.network_delay_min_ns + world_.random().exponential_ns(faults.network_delay_mean_ns);
  if (from_node == to_node) return base_ns;  // within one IO: no link to partition or clog
  maybe_fault_links(from_node, to_node);
  int64_t at_ns = world_.now_ns() + base_ns;
  if (partitioned(from_node, to_node)) at_ns = std::max(at_ns, partition_heal_ns_ + base_ns);
  if (!unclog_ns_.empty()) {
    const int64_t unclog_ns = unclog_ns_[from_node * kNodesMax + to_node];
    if (unclog_ns > world_.now_ns()) at_ns = std::max(at_ns, unclog_ns + base_ns);
  }
  TIGERIO_ASSERT(at_ns >= world_.now_ns());
  return at_ns - world_.now_ns();
}

}  // namespace sim
}  // namespace tigerio

// The simulated network's datagrams: UDP binding, connected
// and unconnected sends, delivery through the world's links with its
// datagram faults, truncating receives, and the bounded datagram pool.
// The stream half of Network is sim_network.cc.
#include <algorithm>
#include <climits>
#include <cstring>

#include "../core/backend.h"
#include "../core/index_pool.h"
#include "../core/layout.h"
#include "sim_errors.h"
#include "sim_network.h"
#include "sim_world.h"
#include "simulation.h"

namespace tigerio {
namespace sim {

namespace {

// A recvFrom address object (layout.h) from a simulated address, and back.
void write_object(const Address& address, uint8_t* object) {
  std::memset(object, 0, kAddressBytes);
  object[tigerio::kAddressFamily] = address.family;  // the layout's index (sim::kAddressFamily is EAFNOSUPPORT)
  object[kAddressPort] = static_cast<uint8_t>(address.port >> 8);
  object[kAddressPort + 1] = static_cast<uint8_t>(address.port & 0xff);
  std::memcpy(object + kAddressIp, address.ip, address.family == 4 ? 4 : 16);
}

bool address_from_object(const uint8_t* object, Address* address) {
  *address = Address{};
  const uint8_t family = object[tigerio::kAddressFamily];
  if (family != 4 && family != 6) return false;
  address->family = family;
  address->port = static_cast<uint16_t>((object[kAddressPort] << 8) | object[kAddressPort + 1]);
  std::memcpy(address->ip, object + kAddressIp, family == 4 ? 4 : 16);
  return true;
}

}  // namespace

int32_t Network::bind_datagram(Socket& socket, uint32_t index, Address address) {
  TIGERIO_ASSERT(socket.kind == Socket::udp && socket.local.port == 0);
  if (address.port == 0) {
    address.port = ephemeral_port(true);
    if (address.port == 0) return kAddressInUse;
  } else {
    for (const uint32_t bound : udp_bound_) {
      const Socket& other = sockets_[bound];
      if (other.local.family != address.family || other.local.port != address.port) continue;
      if (wildcard(other.local) || wildcard(address) || same_ip(other.local, address)) return kAddressInUse;
    }
  }
  socket.local = address;
  udp_bound_.push_back(index);
  world_.trace().mix((uint64_t{0xd6} << 40) | (uint64_t{address.port} << 8) | socket.node);
  return 0;
}

int32_t Network::connect_datagram(Op* op, Socket& socket, uint32_t index) {
  TIGERIO_ASSERT(op->kind == OpKind::connect && socket.kind == Socket::udp);
  TIGERIO_ASSERT(index < sockets_.size() && &sockets_[index] == &socket);
  Address target;
  if (!address_from_storage(op->args.connect.address, &target) || target.family != socket.local.family) {
    return kAddressFamily;
  }
  if (socket.local.port == 0) {
    Address any{};
    any.family = socket.local.family;
    const int32_t bound = bind_datagram(socket, index, any);
    if (bound < 0) return bound;
  }
  // The source address routing picks: on the simulated loopback, the one dialled.
  if (wildcard(socket.local)) std::memcpy(socket.local.ip, target.ip, sizeof(target.ip));
  socket.remote = target;
  socket.state = Socket::connected;
  socket.error = 0;
  world_.trace().mix((uint64_t{0xdc} << 40) | (uint64_t{target.port} << 8) | socket.node);
  return 0;
}

int32_t Network::try_send_datagram(Op* op, Socket& socket, uint32_t index) {
  TIGERIO_ASSERT(socket.kind == Socket::udp && (op->kind == OpKind::send || op->kind == OpKind::send_to));
  TIGERIO_ASSERT(index < sockets_.size() && &sockets_[index] == &socket);
  if (socket.error != 0) {
    // An unreachable port reported to a connected socket: its next op fails, once (SO_ERROR).
    const int32_t error = socket.error;
    socket.error = 0;
    return error;
  }
  if (op->kind == OpKind::send) {
    if (socket.state != Socket::connected) return kDestinationRequired;
    return send_datagram(socket, index, op->args.send.buffer, op->args.send.length, socket.remote);
  }
  TIGERIO_ASSERT(op->kind == OpKind::send_to);
  // The addon parsed the peer into the OS's sockaddr: read it back in the neutral layout.
  uint8_t object[kAddressBytes];
  write_address_object(op->args.send_to.address, object);
  Address to;
  if (!address_from_object(object, &to)) return kInvalid;
  if (to.family != socket.local.family) return kAddressFamily;
  return send_datagram(socket, index, op->args.send_to.buffer, op->args.send_to.length, to);
}

// One datagram, whole: its length, at once (a UDP send never waits for its
// receiver). What becomes of it is the network's: lost, duplicated, delayed
// (so reordered), or dropped by a full receive buffer; with every fault off
// it arrives once, in order, if it fits.
int32_t Network::send_datagram(Socket& socket, uint32_t index, const uint8_t* bytes, uint32_t length,
                               const Address& to) {
  TIGERIO_ASSERT(socket.kind == Socket::udp && bytes != nullptr);
  if (length > (to.family == 4 ? kDatagramIpv4Max : kDatagramIpv6Max)) return kMessageSize;
  if (to.port == 0) return kInvalid;
  if (socket.local.port == 0) {
    // The first send binds an unbound socket to a port of the system's choice (Linux's autobind).
    Address any{};
    any.family = socket.local.family;
    const int32_t bound = bind_datagram(socket, index, any);
    if (bound < 0) return bound;
  }
  Address from = socket.local;
  if (wildcard(from)) std::memcpy(from.ip, to.ip, sizeof(to.ip));
  const int32_t receiver = find_datagram_receiver(to, from);
  const uint32_t to_node = receiver >= 0 ? sockets_[static_cast<uint32_t>(receiver)].node : socket.node;
  const Faults& faults = world_.faults();
  const uint32_t copies = world_.random().chance(faults.datagram_duplicate_ppm) ? 2 : 1;
  for (uint32_t copy = 0; copy < copies; copy++) {
    if (world_.random().chance(faults.datagram_loss_ppm)) {
      world_.trace().mix(0x1057);
      continue;
    }
    const int64_t delay = delay_ns(socket.node, to_node);
    if (partitioned(socket.node, to_node)) {
      world_.trace().mix(0x1058);  // nothing retransmits a datagram: the partition loses it
      continue;
    }
    const uint32_t datagram_index = datagram_allocate(length);
    if (datagram_index == kNoDatagram) {
      world_.trace().mix(0x1059);  // the world's datagram memory is full: lost
      continue;
    }
    Datagram& datagram = datagrams_[datagram_index];
    datagram.bytes.assign(bytes, bytes + length);
    datagram.from = from;
    datagram.to = to;
    datagram.sender = index;
    datagram.sender_generation = socket.generation;
    world_.schedule(world_.now_ns() + delay, EventKind::datagram, datagram_index, datagram.serial);
  }
  world_.trace().mix((uint64_t{length} << 32) | (uint64_t{from.port} << 16) | to.port);
  return static_cast<int32_t>(length);
}

int32_t Network::find_datagram_receiver(const Address& to, const Address& from) const {
  TIGERIO_ASSERT((to.family == 4 || to.family == 6) && to.family == from.family);
  TIGERIO_ASSERT(udp_bound_.size() <= sockets_.size());
  for (const uint32_t index : udp_bound_) {
    const Socket& socket = sockets_[index];
    if (socket.local.family != to.family || socket.local.port != to.port) continue;
    if (!wildcard(socket.local) && !same_ip(socket.local, to)) continue;
    // A connected socket receives from its peer only.
    if (socket.state == Socket::connected && (socket.remote.port != from.port || !same_ip(socket.remote, from))) continue;
    return static_cast<int32_t>(index);
  }
  return -1;
}

void Network::datagram_arrives(uint32_t datagram_index, uint64_t serial) {
  TIGERIO_ASSERT(datagram_index < datagrams_.size());
  Datagram& datagram = datagrams_[datagram_index];
  TIGERIO_ASSERT(datagram.used && datagram.serial == serial);  // in flight: nothing frees it before now
  const int32_t receiver = find_datagram_receiver(datagram.to, datagram.from);
  if (receiver < 0) {
    // ICMP port unreachable: a socket connected to that port learns
    // ECONNREFUSED at its next operation (Linux, Windows); an unconnected one is never told.
    Socket& sender = sockets_[datagram.sender];
    const bool told = sender.generation == datagram.sender_generation && sender.kind == Socket::udp &&
                      sender.state == Socket::connected && sender.remote.port == datagram.to.port &&
                      same_ip(sender.remote, datagram.to);
    const uint32_t sender_index = datagram.sender;
    datagram_free(datagram_index);
    world_.trace().mix(0x1c3d ^ (uint64_t{told} << 20));
    if (told) {
      sender.error = kConnectionRefused;
      service(sender_index, Direction::in);
    }
    return;
  }
  const uint32_t receiver_index = static_cast<uint32_t>(receiver);
  Socket& socket = sockets_[receiver_index];
  const uint32_t cost = static_cast<uint32_t>(datagram.bytes.size()) + kDatagramOverheadBytes;
  if (socket.datagram_bytes + cost > kDatagramReceiveBufferBytes) {
    datagram_free(datagram_index);  // the receive buffer is full: dropped, as a kernel drops it
    world_.trace().mix(0x1d40);
    return;
  }
  socket.datagram_bytes += cost;
  datagram.next = kNoDatagram;
  if (socket.datagram_tail == kNoDatagram) {
    socket.datagram_head = datagram_index;
  } else {
    datagrams_[socket.datagram_tail].next = datagram_index;
  }
  socket.datagram_tail = datagram_index;
  world_.trace().mix((uint64_t{0xda} << 40) | (uint64_t{receiver_index} << 8) | datagram.bytes.size());
  service(receiver_index, Direction::in);
}

int32_t Network::try_recv_datagram(Op* op, Socket& socket) {
  if (socket.error != 0) {
    const int32_t error = socket.error;
    socket.error = 0;
    return error;
  }
  if (socket.datagram_head == kNoDatagram) return kWait;
  uint8_t* buffer = nullptr;
  uint32_t length = 0;
  uint8_t* object = nullptr;
  if (op->kind == OpKind::recv_from) {
    buffer = op->args.recv_from.buffer;
    length = op->args.recv_from.length;
    object = op->args.recv_from.address;
  } else {
    TIGERIO_ASSERT(op->kind == OpKind::recv);
    buffer = op->args.recv.buffer;
    length = op->args.recv.length;
  }
  const uint32_t datagram_index = socket.datagram_head;
  Datagram& datagram = datagrams_[datagram_index];
  const uint32_t size = static_cast<uint32_t>(datagram.bytes.size());
  const uint32_t copied = std::min(length, size);
  if (copied > 0) std::memcpy(buffer, datagram.bytes.data(), copied);
  if (object != nullptr) write_object(datagram.from, object);
  socket.datagram_head = datagram.next;
  if (socket.datagram_head == kNoDatagram) socket.datagram_tail = kNoDatagram;
  TIGERIO_ASSERT(socket.datagram_bytes >= size + kDatagramOverheadBytes);
  socket.datagram_bytes -= size + kDatagramOverheadBytes;
  world_.trace().mix_bytes(buffer, copied);
  datagram_free(datagram_index);
  // The rest of a longer datagram is gone either way; recvFrom says so, recv truncates silently (POSIX).
  if (size > length && object != nullptr) return kMessageSize;
  return static_cast<int32_t>(copied);
}

uint32_t Network::datagram_allocate(uint32_t length) {
  TIGERIO_ASSERT(datagram_bytes_ <= kDatagramBytesMax && free_datagrams_.size() <= datagrams_.size());
  if (datagram_bytes_ + length > kDatagramBytesMax) return kNoDatagram;
  uint32_t index = 0;
  if (!take_index(free_datagrams_, datagrams_, kDatagramsMax, &index)) return kNoDatagram;
  Datagram& datagram = datagrams_[index];
  TIGERIO_ASSERT(!datagram.used && datagram.bytes.empty());
  datagram.used = true;
  datagram.next = kNoDatagram;
  datagram.serial = ++datagram_serial_;
  datagram_bytes_ += length;
  return index;
}

void Network::datagram_free(uint32_t index) {
  TIGERIO_ASSERT(index < datagrams_.size());
  Datagram& datagram = datagrams_[index];
  TIGERIO_ASSERT(datagram.used);
  TIGERIO_ASSERT(datagram_bytes_ >= datagram.bytes.size());
  datagram_bytes_ -= datagram.bytes.size();
  datagram.used = false;
  datagram.next = kNoDatagram;
  if (datagram.bytes.capacity() > kDatagramKeepBytes) {
    std::vector<uint8_t>().swap(datagram.bytes);  // a large one gives its memory back
  } else {
    datagram.bytes.clear();
  }
  free_datagrams_.push_back(index);
}

}  // namespace sim
}  // namespace tigerio

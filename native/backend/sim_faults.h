// The simulation's fault model: every fault a rate (parts per million) or a
// distribution (nanoseconds), all zero (off) by default. Modelled on
// TigerBeetle's packet simulator (delay = min + exponential mean, partitions,
// clogging) and storage simulator (latency, read/write faults, torn writes
// on a crash). No fault breaks TCP's guarantees: bytes inside a connection
// are never reordered, duplicated or lost; a connection may only end
// (reset), as a real kernel can make it. Unix stream sockets cross no
// network: no delay, partition, clog or reset applies to them (partial
// sends and short recvs do). UDP keeps only UDP's promises: each datagram
// takes its own delay (so datagrams reorder when the delay is random), a
// partition loses what crosses it (nothing retransmits a datagram), a clog
// holds it, and datagram_loss/duplicate drop or repeat it; with every fault
// off, datagrams within the receiver's buffer arrive once, whole, in order.
// The cancel faults make the world a kernel that loses cancels (Wine 8
// loses a CancelIoEx): they apply to ops waiting on a socket; an op whose
// time is the disk's, or whose socket another IO closed, is always given
// back. An op whose cancels are ignored ends only on its own, as a kernel
// would end it: its data or connection comes, its peer ends the
// connection, its socket is closed, or its IO ends (see simulation.md).
#pragma once

#include <cstdint>

namespace tigerio {
namespace sim {

struct Faults {
  // Network: one-way delay of each segment and each connect (min + exponential mean).
  int64_t network_delay_min_ns = 0;
  int64_t network_delay_mean_ns = 0;
  uint32_t partial_send_ppm = 0;   // a send takes a random prefix of what fits
  uint32_t short_recv_ppm = 0;     // a recv returns a random prefix of what waits
  uint32_t reset_ppm = 0;          // per send: the connection is reset (both ends see ECONNRESET)
  uint32_t connect_refused_ppm = 0;
  int64_t connect_delay_mean_ns = 0;  // extra exponential delay of a connect (slow handshakes)
  uint32_t accept_emfile_ppm = 0;     // an accept fails with EMFILE; the connection stays queued
  uint32_t partition_ppm = 0;         // per segment: the IOs split in two groups for a while
  int64_t partition_min_ns = 0;
  int64_t partition_max_ns = 0;
  uint32_t clog_ppm = 0;  // per segment: its link stops delivering for a while
  int64_t clog_mean_ns = 0;
  // Disk.
  int64_t disk_latency_min_ns = 0;
  int64_t disk_latency_mean_ns = 0;
  uint32_t read_error_ppm = 0;   // EIO
  uint32_t write_error_ppm = 0;  // EIO
  uint32_t crash_lost_ppm = 0;   // per un-synced 512-byte sector at a crash: its new bytes are lost (torn writes)
  uint32_t sync_error_ppm = 0;   // a file's close (its sync point) fails with EIO; the writes stay un-synced
  // Clock.
  uint32_t timer_late_ppm = 0;  // a timer's deadline is passed by an extra exponential delay
  int64_t timer_late_mean_ns = 0;
  // Datagrams.
  uint32_t datagram_loss_ppm = 0;       // per datagram sent: the network loses it
  uint32_t datagram_duplicate_ppm = 0;  // per datagram sent: it arrives twice (each copy its own delay)
  // Disk namespace: at a crash, per create, rename, unlink or mkdir of the
  // node whose directory was not synced since, in order: it is rolled back,
  // and so is every later one (a file system's journal keeps a prefix).
  uint32_t crash_lost_name_ppm = 0;
  // Cancels (socket ops only, see above).
  uint32_t cancel_lost_ppm = 0;     // per cancel request: lost; the core asks again the next round (100 ms)
  uint32_t cancel_ignored_ppm = 0;  // per op, at its first cancel: all its cancels are ignored (the core gives up)

  static constexpr uint32_t kFieldCount = 26;
};

}  // namespace sim
}  // namespace tigerio

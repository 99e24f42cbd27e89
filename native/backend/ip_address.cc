// parse_ip_address (backend.h), once for every OS: inet_pton exists on
// POSIX and in Winsock alike; Windows only needs Winsock started first.
#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>

#include "win32.h"
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include <cstring>

#include "../core/assert.h"
#include "../core/backend.h"
#include "../core/layout.h"

namespace tigerio {

bool parse_ip_address(const char* host, int port, AddressStorage* address) {
  TIGERIO_ASSERT(host != nullptr && address != nullptr);
  TIGERIO_ASSERT(port >= 0 && port <= 65535);
  std::memset(address, 0, sizeof(*address));
  static_assert(sizeof(address->bytes) >= sizeof(sockaddr_in6), "room for IPv6");
#ifdef _WIN32
  if (win32::startup() < 0) return false;
#endif
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(address->bytes, &v4, sizeof(v4));
    address->length = sizeof(v4);
    return true;
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(address->bytes, &v6, sizeof(v6));
    address->length = sizeof(v6);
    return true;
  }
  return false;
}

void write_address_object(const void* raw, uint8_t* out) {
  TIGERIO_ASSERT(raw != nullptr && out != nullptr);
  static_assert(kAddressIp + 16 <= kAddressBytes, "an IPv6 address fits the object");
  std::memset(out, 0, kAddressBytes);
  const auto* address = static_cast<const sockaddr*>(raw);
  if (address->sa_family == AF_INET) {
    const auto* v4 = static_cast<const sockaddr_in*>(raw);
    out[kAddressFamily] = 4;
    std::memcpy(out + kAddressPort, &v4->sin_port, 2);  // network order: big-endian
    std::memcpy(out + kAddressIp, &v4->sin_addr, 4);
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = static_cast<const sockaddr_in6*>(raw);
    out[kAddressFamily] = 6;
    std::memcpy(out + kAddressPort, &v6->sin6_port, 2);
    const uint32_t scope = v6->sin6_scope_id;
    for (uint32_t i = 0; i < 4; i++) out[kAddressScope + i] = static_cast<uint8_t>(scope >> (8 * i));
    std::memcpy(out + kAddressIp, &v6->sin6_addr, 16);
  }
}

bool same_ip_address(const void* raw, const AddressStorage& target) {
  TIGERIO_ASSERT(raw != nullptr);
  TIGERIO_ASSERT(target.length == sizeof(sockaddr_in) || target.length == sizeof(sockaddr_in6));
  const auto* address = static_cast<const sockaddr*>(raw);
  const auto* wanted = reinterpret_cast<const sockaddr*>(target.bytes);
  if (address->sa_family != wanted->sa_family) return false;
  if (address->sa_family == AF_INET) {
    const auto* a = static_cast<const sockaddr_in*>(raw);
    const auto* b = reinterpret_cast<const sockaddr_in*>(target.bytes);
    return a->sin_port == b->sin_port && std::memcmp(&a->sin_addr, &b->sin_addr, sizeof(a->sin_addr)) == 0;
  }
  if (address->sa_family == AF_INET6) {
    const auto* a = static_cast<const sockaddr_in6*>(raw);
    const auto* b = reinterpret_cast<const sockaddr_in6*>(target.bytes);
    return a->sin6_port == b->sin6_port && std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
  }
  return false;
}

bool parse_address_object(const uint8_t* object, AddressStorage* address) {
  TIGERIO_ASSERT(object != nullptr && address != nullptr);
  std::memset(address, 0, sizeof(*address));
  const uint8_t family = object[kAddressFamily];
  uint16_t port_network = 0;
  std::memcpy(&port_network, object + kAddressPort, 2);  // stored big-endian: network order already
  if (port_network == 0) return false;
  if (family == 4) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = port_network;
    std::memcpy(&v4.sin_addr, object + kAddressIp, 4);
    std::memcpy(address->bytes, &v4, sizeof(v4));
    address->length = sizeof(v4);
    return true;
  }
  if (family == 6) {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = port_network;
    uint32_t scope = 0;
    for (uint32_t i = 0; i < 4; i++) scope |= static_cast<uint32_t>(object[kAddressScope + i]) << (8 * i);
    v6.sin6_scope_id = scope;
    std::memcpy(&v6.sin6_addr, object + kAddressIp, 16);
    std::memcpy(address->bytes, &v6, sizeof(v6));
    address->length = sizeof(v6);
    return true;
  }
  return false;
}

}  // namespace tigerio

// The address object of recvFrom: the sender of a datagram, written by the
// native layer into caller-owned memory in one OS-neutral layout
// (native/core/layout.h kAddress*), so that receiving allocates nothing.
// Read it with the functions here: the port and family without allocating,
// the whole address as a SocketAddress (which allocates a string) when wanted.
import { binding } from './native';
import type { SocketAddress } from './types';

const layout = binding.layout;
/** Bytes of an address object. */
export const ADDRESS_BYTES = layout.addressBytes;
const FAMILY = layout.addressFamily;
const PORT = layout.addressPort;
const SCOPE = layout.addressScope;
const IP = layout.addressIp;

/**
 * A caller-owned address object (`io.addressBuffer()`): `recvFrom` writes
 * each datagram's sender into it, and `sendTo(fd, buffer, address, cb)`
 * replies to it. A `Uint8Array` of `IO.limits.addressBytes` bytes.
 */
export type AddressBuffer = Uint8Array;

/** A new, empty address object (family 0 until a datagram fills it). */
export function newAddressBuffer(): AddressBuffer {
  return new Uint8Array(ADDRESS_BYTES);
}

/** 4, 6, or 0 when nothing has been written into the address object yet. */
export function addressFamily(address: AddressBuffer): 0 | 4 | 6 {
  const family = address[FAMILY];
  return family === 4 || family === 6 ? family : 0;
}

/** The port of the address object (no allocation). */
export function addressPort(address: AddressBuffer): number {
  return (address[PORT] << 8) | address[PORT + 1];
}

/** The address object as a SocketAddress (allocates its strings); throws RangeError when it is empty. */
export function decodeAddress(address: AddressBuffer): SocketAddress {
  const family = addressFamily(address);
  if (family === 0) throw new RangeError('tigerio: the address object holds no address yet; read it after a recvFrom into it has completed');
  if (family === 4) {
    return {
      address: `${address[IP]}.${address[IP + 1]}.${address[IP + 2]}.${address[IP + 3]}`,
      port: addressPort(address),
      family: 'IPv4',
    };
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address[IP + i] << 8) | address[IP + i + 1]).toString(16));
  const scope =
    address[SCOPE] | (address[SCOPE + 1] << 8) | (address[SCOPE + 2] << 16) | (address[SCOPE + 3] << 24);
  return { address: compressIPv6(groups) + (scope !== 0 ? `%${scope >>> 0}` : ''), port: addressPort(address), family: 'IPv6' };
}

/** RFC 5952: the longest run (2 or more) of zero groups becomes '::'; an IPv4-mapped address keeps its dotted tail. */
function compressIPv6(groups: string[]): string {
  if (groups.slice(0, 5).every((group) => group === '0') && groups[5] === 'ffff') {
    const high = parseInt(groups[6], 16);
    const low = parseInt(groups[7], 16);
    return `::ffff:${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

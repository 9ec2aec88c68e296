// ICMP type/code names exactly as gopacket's ICMPv4TypeCode/ICMPv6TypeCode String() print them;
// Hubble's Summary is "ICMPv4 " / "ICMPv6 " + that string.

interface TypeInfo {
  name: string;
  codes?: Record<number, string>;
}

const V4: Record<number, TypeInfo> = {
  0: { name: 'EchoReply' },
  3: {
    name: 'DestinationUnreachable',
    codes: {
      0: 'Net',
      1: 'Host',
      2: 'Protocol',
      3: 'Port',
      4: 'FragmentationNeeded',
      5: 'SourceRoutingFailed',
      6: 'NetUnknown',
      7: 'HostUnknown',
      8: 'SourceIsolated',
      9: 'NetAdminProhibited',
      10: 'HostAdminProhibited',
      11: 'NetTOS',
      12: 'HostTOS',
      13: 'CommAdminProhibited',
      14: 'HostPrecedence',
      15: 'PrecedenceCutoff',
    },
  },
  4: { name: 'SourceQuench' },
  5: { name: 'Redirect', codes: { 0: 'Net', 1: 'Host', 2: 'TOS+Net', 3: 'TOS+Host' } },
  8: { name: 'EchoRequest' },
  9: { name: 'RouterAdvertisement' },
  10: { name: 'RouterSolicitation' },
  11: { name: 'TimeExceeded', codes: { 0: 'TTLExceeded', 1: 'FragmentReassemblyTimeExceeded' } },
  12: { name: 'ParameterProblem', codes: { 0: 'PointerIndicatesError', 1: 'MissingOption', 2: 'BadLength' } },
  13: { name: 'TimestampRequest' },
  14: { name: 'TimestampReply' },
  15: { name: 'InfoRequest' },
  16: { name: 'InfoReply' },
  17: { name: 'AddressMaskRequest' },
  18: { name: 'AddressMaskReply' },
};

const V6: Record<number, TypeInfo> = {
  1: {
    name: 'DestinationUnreachable',
    codes: {
      0: 'NoRouteToDst',
      1: 'AdminProhibited',
      2: 'BeyondScopeOfSrc',
      3: 'AddressUnreachable',
      4: 'PortUnreachable',
      5: 'SrcAddressFailedPolicy',
      6: 'RejectRouteToDst',
    },
  },
  2: { name: 'PacketTooBig' },
  3: { name: 'TimeExceeded', codes: { 0: 'HopLimitExceeded', 1: 'FragmentReassemblyTimeExceeded' } },
  4: { name: 'ParameterProblem', codes: { 0: 'ErroneousHeaderField', 1: 'UnrecognizedNextHeader', 2: 'UnrecognizedIPv6Option' } },
  128: { name: 'EchoRequest' },
  129: { name: 'EchoReply' },
  133: { name: 'RouterSolicitation' },
  134: { name: 'RouterAdvertisement' },
  135: { name: 'NeighborSolicitation' },
  136: { name: 'NeighborAdvertisement' },
  137: { name: 'Redirect' },
};

function typeCodeString(table: Record<number, TypeInfo>, type: number, code: number): string {
  const info = table[type];
  if (info === undefined) return `${type}(${code})`;
  if (info.codes === undefined) return code === 0 ? info.name : `${info.name}(Code: ${code})`;
  const c = info.codes[code];
  return c === undefined ? `${info.name}(Code: ${code})` : `${info.name}(${c})`;
}

// All 65536 summaries per family are cheap to memoise lazily; the hot path is one array read.
const cache4: (string | undefined)[] = new Array(65536);
const cache6: (string | undefined)[] = new Array(65536);

/** gopacket ICMPv4TypeCode.String(). */
export function icmpv4TypeCode(type: number, code: number): string {
  return typeCodeString(V4, type, code);
}

/** gopacket ICMPv6TypeCode.String(). */
export function icmpv6TypeCode(type: number, code: number): string {
  return typeCodeString(V6, type, code);
}

/** Hubble Summary for an ICMPv4 packet, e.g. "ICMPv4 EchoRequest". */
export function icmpv4Summary(type: number, code: number): string {
  const k = (type << 8) | code;
  return (cache4[k] ??= 'ICMPv4 ' + icmpv4TypeCode(type, code));
}

/** Hubble Summary for an ICMPv6 packet, e.g. "ICMPv6 EchoReply". */
export function icmpv6Summary(type: number, code: number): string {
  const k = (type << 8) | code;
  return (cache6[k] ??= 'ICMPv6 ' + icmpv6TypeCode(type, code));
}

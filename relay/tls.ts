// The relay's TLS: its listener (ingest and Observer API share one port), the check of
// collectors' client certificates, and its clients to the collectors' Observer APIs.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import {
  ClientCertGuard,
  peerServerName,
  clientTlsFiles,
  grpcChannelCredentials,
  grpcChannelOptions,
  type GrpcClientTls,
  grpcServerCredentials,
  serverTlsFiles,
  type ClientTlsSpec,
  type ServerTlsSpec,
  type TlsFiles,
  type TlsFilesOptions,
} from '../common/tls.js';

export interface RelayTlsSpec {
  /** null: plaintext listener. */
  server: ServerTlsSpec | null;
  /** With client CAs: which calls need a client certificate ("all": Hubble's mTLS; "ingest": collectors only). */
  clientAuth: 'all' | 'ingest';
  /** A collector's certificate may also carry a name matching this glob instead of its node name. */
  collectorNamePattern?: string;
  /** TLS to the collectors' Observer APIs (`serverName` may hold a `*`: peerServerName); null: plaintext. */
  peers: ClientTlsSpec | null;
}

export interface RelayTls {
  credentials: grpc.ServerCredentials;
  /** Set when client certificates are checked (client CAs given). */
  guard: ClientCertGuard | null;
  /** TLS to a collector's Observer API; its certificate must carry peerServerName(node). */
  peerCredentials: ((nodeName: string) => GrpcClientTls) | null;
  /** The name checked on a collector's certificate (GetNodes reports it); null: plaintext. */
  peerServerName: ((nodeName: string) => string) | null;
  /** The watched files, for reload metrics. */
  files: TlsFiles[];
  close(): void;
}

/** Loads and checks every file (TlsConfigError on a bad one) and builds the credentials. */
export function buildRelayTls(spec: RelayTlsSpec, log: Logger, opts: TlsFilesOptions = {}): RelayTls {
  const server = spec.server ? serverTlsFiles(spec.server, log, opts) : null;
  let peers: TlsFiles | null = null;
  try {
    peers = spec.peers ? clientTlsFiles(spec.peers, log, opts) : null;
  } catch (err) {
    server?.close();
    throw err;
  }
  const guard =
    server?.material.ca !== undefined
      ? new ClientCertGuard({ require: { ingest: true, observer: spec.clientAuth === 'all' }, namePattern: spec.collectorNamePattern }, log)
      : null;
  const peerSpec = spec.peers;
  const serverName = (node: string) => peerServerName(node, peerSpec?.serverName);
  return {
    credentials: grpcServerCredentials(server, guard),
    guard,
    peerCredentials:
      peers && peerSpec
        ? (node) => {
            const name = serverName(node);
            return {
              credentials: grpcChannelCredentials(peers, { serverName: name, allowInsecure: peerSpec.allowInsecure }),
              options: grpcChannelOptions(name),
            };
          }
        : null,
    peerServerName: peers ? serverName : null,
    files: [server, peers].filter((f): f is TlsFiles => f !== null),
    close() {
      server?.close();
      peers?.close();
    },
  };
}

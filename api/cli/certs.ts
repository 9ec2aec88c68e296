// `flowscope certs`: a development CA and the certificates a TLS deployment needs: the relay's
// (server, and client to collectors), one per collector node (its Observer API and its client
// certificate to the relay, naming the node), and client certificates for the CLI, the HTTP API
// or hubble. node:crypto makes the RSA keys; it cannot sign certificates, so node-forge does
// (no openssl binary needed). An existing ca.crt/ca.key in the directory is reused, so running
// it again issues new certificates from the same CA (rotation).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { Command, Option } from 'commander';
import { int, strict } from './options.js';
import { UsageError } from '../query/usage-error.js';
import { CLUSTER_NAME_RULE, DEFAULT_CLUSTER, isClusterName } from '../../common/cluster-name.js';
import { clusterTlsNames } from './cluster-tls.js';

export interface CertsOptions {
  outDir: string;
  days: number;
  /** Host names and IPs the relay (and every node certificate) is reached by. */
  hosts: string[];
  /** Collector node names: one certificate each, CN and DNS name = the node name. */
  nodes: string[];
  /** Client certificate names (CLI, HTTP API, hubble). */
  clients: string[];
  /**
   * A `flowscope manifests` deployment: the relay's certificate also carries its Service's names
   * in `namespace`, and collector.crt (every collector: *.<clusterName>.collector.flowscope) and
   * api.crt (the HTTP API: its Service's names; client to the relay, HTTPS server) are issued.
   */
  cluster?: { namespace: string; clusterName: string };
}

interface Issued {
  cert: forge.pki.Certificate;
  keyPem: string;
}

// RFC 1123 label: a Kubernetes namespace.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

function checkName(kind: string, n: string): string {
  if (!NAME.test(n)) throw new UsageError(`invalid ${kind} "${n}": letters, digits, '.', '_' and '-' only`);
  return n;
}

function keyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  // Native key generation (forge's pure-JS RSA key generation takes seconds).
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey,
    keyPem,
  };
}

function serial(): string {
  // Positive 128-bit serial (RFC 5280: at most 20 octets, positive).
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

/** A validity period: days from now, or explicit dates (tests make expired certificates). */
export type Validity = number | { notBefore: Date; notAfter: Date };

function validity(cert: forge.pki.Certificate, v: Validity): void {
  // A minute of slack for clocks slightly behind.
  cert.validity.notBefore = typeof v === 'number' ? new Date(Date.now() - 60_000) : v.notBefore;
  cert.validity.notAfter = typeof v === 'number' ? new Date(Date.now() + v * 86_400_000) : v.notAfter;
}

/** PEM certificate and key. */
export interface PemPair {
  certPem: string;
  keyPem: string;
}

function pem(i: Issued): PemPair {
  return { certPem: forge.pki.certificateToPem(i.cert), keyPem: i.keyPem };
}

function parseCa(ca: PemPair): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  return { cert: forge.pki.certificateFromPem(ca.certPem), key: forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey };
}

/** A new self-signed CA. */
export function makeCaPem(v: Validity = 3650): PemPair {
  return pem(makeCa(v));
}

/** A certificate signed by `ca` with CN `cn` and these DNS names / IPs. */
export function issuePem(ca: PemPair, cn: string, names: string[], usage: { server: boolean; client: boolean }, v: Validity = 365): PemPair {
  return pem(issue(parseCa(ca), cn, names, usage, v));
}

function makeCa(v: Validity): Issued {
  const k = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = k.publicKey;
  cert.serialNumber = serial();
  validity(cert, v);
  const subject = [
    { name: 'commonName', value: 'flowscope development CA' },
    { name: 'organizationName', value: 'flowscope' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(k.privateKey, forge.md.sha256.create());
  return { cert, keyPem: k.keyPem };
}

function issue(
  ca: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey },
  cn: string,
  names: string[],
  usage: { server: boolean; client: boolean },
  v: Validity,
): Issued {
  const k = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = k.publicKey;
  cert.serialNumber = serial();
  // Never beyond the CA's own expiry.
  validity(cert, typeof v === 'number' ? Math.min(v, Math.floor((ca.cert.validity.notAfter.getTime() - Date.now()) / 86_400_000)) : v);
  cert.setSubject([
    { name: 'commonName', value: cn },
    { name: 'organizationName', value: 'flowscope' },
  ]);
  cert.setIssuer(ca.cert.subject.attributes);
  const altNames = [...new Set(names)].map((n) => (net.isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: usage.server, clientAuth: usage.client },
    ...(altNames.length ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { cert, keyPem: k.keyPem };
}

/** Writes the CA (unless present), relay, node and client certificates; returns the files written. */
export function makeCerts(o: CertsOptions): string[] {
  fs.mkdirSync(o.outDir, { recursive: true, mode: 0o755 });
  const written: string[] = [];
  const write = (name: string, data: string, mode: number) => {
    const file = path.join(o.outDir, name);
    // Write then rename: a service watching the file never reads half of it.
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
    written.push(file);
  };
  const caCertFile = path.join(o.outDir, 'ca.crt');
  const caKeyFile = path.join(o.outDir, 'ca.key');
  let ca: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
  if (fs.existsSync(caCertFile) && fs.existsSync(caKeyFile)) {
    try {
      ca = {
        cert: forge.pki.certificateFromPem(fs.readFileSync(caCertFile, 'utf8')),
        key: forge.pki.privateKeyFromPem(fs.readFileSync(caKeyFile, 'utf8')) as forge.pki.rsa.PrivateKey,
      };
    } catch (err) {
      throw new UsageError(`${caCertFile} / ${caKeyFile}: cannot reuse this CA (${(err as Error).message}); remove them to make a new one`);
    }
    if (ca.cert.validity.notAfter.getTime() < Date.now() + 86_400_000)
      throw new UsageError(`${caCertFile} expires within a day: remove ca.crt and ca.key to make a new CA`);
  } else {
    const made = makeCa(Math.max(o.days, 3650));
    write('ca.key', made.keyPem, 0o600);
    write('ca.crt', forge.pki.certificateToPem(made.cert), 0o644);
    ca = { cert: made.cert, key: forge.pki.privateKeyFromPem(made.keyPem) as forge.pki.rsa.PrivateKey };
  }
  const emit = (base: string, i: Issued) => {
    write(`${base}.key`, i.keyPem, 0o600);
    write(`${base}.crt`, forge.pki.certificateToPem(i.cert), 0o644);
  };
  const k8s = o.cluster ? clusterTlsNames(o.cluster.namespace, o.cluster.clusterName) : null;
  // The relay serves (collectors, CLI) and is a client of the collectors' Observer APIs.
  emit('relay', issue(ca, 'flowscope-relay', ['flowscope-relay', ...(k8s?.relay ?? []), ...o.hosts], { server: true, client: true }, o.days));
  if (k8s) {
    // One certificate for the whole DaemonSet: Observer API server, client to the relay, /metrics.
    emit('collector', issue(ca, k8s.collector, [k8s.collector], { server: true, client: true }, o.days));
    // The HTTP API: client to the relay, and its HTTPS listener (reached through its Service or a port-forward).
    emit('api', issue(ca, 'flowscope-api', [...k8s.api, ...o.hosts], { server: true, client: true }, o.days));
  }
  // A node certificate names the node: the relay checks it on ingest and dials the node by it.
  for (const n of o.nodes) emit(`node-${n}`, issue(ca, n, [n, ...o.hosts], { server: true, client: true }, o.days));
  for (const c of o.clients) emit(`client-${c}`, issue(ca, c, [c], { server: false, client: true }, o.days));
  return written;
}

const list = (v: string, prev: string[] | undefined): string[] => [
  ...(prev ?? []),
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
];

export function certsCommand(): Command {
  return strict(new Command('certs'))
    .description('Make a development CA and TLS certificates for the relay, collector nodes and clients (see README, TLS)')
    .addOption(new Option('--out-dir <dir>', 'Where the files go (ca.crt/ca.key there are reused)').default('.flowscope/tls'))
    .addOption(
      new Option('--hosts <names>', 'Host names and IPs (comma-separated) the relay and nodes are reached by (default localhost,127.0.0.1)').argParser(list),
    )
    .addOption(new Option('--nodes <names>', 'Collector node names (comma-separated): node-<name>.crt/.key each').argParser(list))
    .addOption(new Option('--clients <names>', 'Client names (comma-separated): client-<name>.crt/.key each (default cli)').argParser(list))
    .addOption(new Option('--days <n>', 'Validity of the issued certificates').default(365).argParser(int('days', 1, 3650)))
    .addOption(
      new Option(
        '--namespace <ns>',
        "For `flowscope manifests --namespace <ns>`: the relay's certificate also names its Service there, and collector.crt and api.crt are issued",
      ).argParser((v: string) => {
        if (!DNS_LABEL.test(v))
          throw new UsageError(`invalid value "${v}" for --namespace: expected a DNS label (lower-case letters, digits, '-', at most 63)`);
        return v;
      }),
    )
    .addOption(
      new Option('--cluster-name <name>', "With --namespace: the manifests' --cluster-name, in the collectors' certificate name (default: default)").argParser(
        (v: string) => {
          if (!isClusterName(v)) throw new UsageError(`invalid value "${v}" for --cluster-name: ${CLUSTER_NAME_RULE}`);
          return v;
        },
      ),
    )
    .action((o: { outDir: string; hosts?: string[]; nodes?: string[]; clients?: string[]; days: number; namespace?: string; clusterName?: string }) => {
      if (o.clusterName !== undefined && o.namespace === undefined)
        throw new UsageError('--cluster-name needs --namespace (it names the collectors of a Kubernetes deployment)');
      const opts: CertsOptions = {
        outDir: o.outDir,
        days: o.days,
        hosts: (o.hosts ?? ['localhost', '127.0.0.1']).map((h) => (net.isIP(h) ? h : checkName('host', h))),
        nodes: (o.nodes ?? []).map((n) => checkName('node name', n)),
        clients: [...new Set(o.clients ?? ['cli'])].map((n) => checkName('client name', n)),
        ...(o.namespace !== undefined ? { cluster: { namespace: o.namespace, clusterName: o.clusterName ?? DEFAULT_CLUSTER } } : {}),
      };
      for (const f of makeCerts(opts)) process.stdout.write(`${f}\n`);
    });
}

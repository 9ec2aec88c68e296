// Protobuf JSON in Hubble's dialect: Go protojson with UseProtoNames. Keys are proto field names
// exactly as written, enums are names, 64-bit integers are strings, Timestamps are RFC 3339 with
// 0/3/6/9 fractional digits, wrappers are bare values, unset and default scalars are omitted,
// fields come out in declaration order. Parsing accepts proto names and lowerCamel JSON names.
import protobuf from 'protobufjs';

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const WRAPPERS = new Set([
  'google.protobuf.BoolValue',
  'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value',
  'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value',
  'google.protobuf.FloatValue',
  'google.protobuf.DoubleValue',
  'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);

function fullName(t: protobuf.ReflectionObject): string {
  return t.fullName.startsWith('.') ? t.fullName.slice(1) : t.fullName;
}

export class ProtoJSONError extends Error {}

export function formatTimestamp(ts: { seconds?: number; nanos?: number }): string {
  const seconds = Number(ts.seconds ?? 0);
  const nanos = ts.nanos ?? 0;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  let frac = String(nanos).padStart(9, '0');
  if (nanos % 1_000_000 === 0) frac = frac.slice(0, 3);
  else if (nanos % 1000 === 0) frac = frac.slice(0, 6);
  return `${base}.${frac}Z`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseTimestamp(s: string): { seconds: number; nanos: number } {
  const m = RFC3339.exec(s);
  if (!m) throw new ProtoJSONError(`invalid timestamp ${JSON.stringify(s)}`);
  const zone = m[4] === 'z' ? 'Z' : m[4];
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(ms)) throw new ProtoJSONError(`invalid timestamp ${JSON.stringify(s)}`);
  const nanos = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
  return { seconds: Math.floor(ms / 1000), nanos };
}

function scalarToJSON(field: protobuf.Field, v: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Enum) {
    const name = field.resolvedType.valuesById[v as number];
    return name ?? v;
  }
  if (INT64.has(field.type)) return String(v);
  if (field.type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  if ((field.type === 'double' || field.type === 'float') && !Number.isFinite(v as number)) {
    return Number.isNaN(v as number) ? 'NaN' : (v as number) > 0 ? 'Infinity' : '-Infinity';
  }
  return v;
}

function isDefaultScalar(field: protobuf.Field, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (field.resolvedType instanceof protobuf.Enum) return v === 0;
  switch (typeof v) {
    case 'number':
      return v === 0;
    case 'string':
      return v === '';
    case 'boolean':
      return v === false;
    default:
      return field.type === 'bytes' ? (v as Uint8Array).length === 0 : false;
  }
}

/** Converts an in-memory message (keepCase names) to a protojson value. */
export function toProtoJSON(type: protobuf.Type, msg: Record<string, unknown>): unknown {
  const name = fullName(type);
  if (name === 'google.protobuf.Timestamp') return formatTimestamp(msg as { seconds: number; nanos: number });
  if (WRAPPERS.has(name)) {
    const f = type.fields.value;
    return scalarToJSON(f, msg.value ?? (f.type === 'bool' ? false : f.type === 'string' ? '' : 0));
  }
  if (name === 'google.protobuf.Any') return anyToJSON(type, msg);
  if (name === 'google.protobuf.FieldMask') {
    return ((msg.paths as string[] | undefined) ?? []).map((p) => p.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())).join(',');
  }
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const v = msg[field.name];
    if (v === undefined || v === null) continue;
    if (field.repeated) {
      const arr = v as unknown[];
      if (arr.length === 0) continue;
      out[field.name] =
        field.resolvedType instanceof protobuf.Type
          ? arr.map((e) => toProtoJSON(field.resolvedType as protobuf.Type, e as Record<string, unknown>))
          : arr.map((e) => scalarToJSON(field, e));
      continue;
    }
    if (field.resolvedType instanceof protobuf.Type) {
      out[field.name] = toProtoJSON(field.resolvedType, v as Record<string, unknown>);
      continue;
    }
    // Proto3 implicit presence: zero values are omitted unless the field is in a oneof.
    if (!field.partOf && isDefaultScalar(field, v)) continue;
    out[field.name] = scalarToJSON(field, v);
  }
  return out;
}

// Well-known types whose JSON form is not an object: inside an Any they go under "value".
const WKT_SCALAR_JSON = new Set([
  ...WRAPPERS,
  'google.protobuf.Timestamp',
  'google.protobuf.Duration',
  'google.protobuf.FieldMask',
  'google.protobuf.Value',
  'google.protobuf.ListValue',
  'google.protobuf.Struct',
]);

function anyType(type: protobuf.Type, url: string, where: string): protobuf.Type {
  const name = url.slice(url.lastIndexOf('/') + 1);
  const t = name === '' ? null : type.root.lookup(name);
  if (!(t instanceof protobuf.Type)) throw new ProtoJSONError(`${where}: unable to resolve ${JSON.stringify(url)}: not a known message type`);
  return t;
}

// Go protojson: {"@type": url, ...fields of the packed message} ({"@type", "value"} for
// well-known types with a non-object JSON form).
function anyToJSON(type: protobuf.Type, msg: Record<string, unknown>): unknown {
  const url = (msg.type_url as string | undefined) ?? '';
  if (url === '' && !(msg.value as Uint8Array | undefined)?.length) return {};
  const inner = anyType(type, url, 'google.protobuf.Any');
  const decoded = inner.toObject(inner.decode((msg.value as Uint8Array | undefined) ?? new Uint8Array(0)), {
    longs: Number,
    enums: Number,
    defaults: false,
    arrays: false,
    objects: false,
    oneofs: false,
  });
  const json = toProtoJSON(inner, decoded);
  if (WKT_SCALAR_JSON.has(fullName(inner))) return { '@type': url, value: json };
  return { '@type': url, ...(json as Record<string, unknown>) };
}

function anyFromJSON(type: protobuf.Type, json: unknown, where: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ProtoJSONError(`${where}: expected an object`);
  const obj = json as Record<string, unknown>;
  if (Object.keys(obj).length === 0) return {};
  const url = obj['@type'];
  if (typeof url !== 'string' || url === '') throw new ProtoJSONError(`${where}: missing "@type"`);
  const inner = anyType(type, url, where);
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== '@type') rest[k] = v;
  const msg = fromProtoJSON(inner, WKT_SCALAR_JSON.has(fullName(inner)) ? rest.value : rest, where);
  return { type_url: url, value: inner.encode(inner.fromObject(msg)).finish() };
}

function jsonName(field: protobuf.Field): string {
  return field.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const fieldIndex = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();
function fieldsByJSONKey(type: protobuf.Type): Map<string, protobuf.Field> {
  let idx = fieldIndex.get(type);
  if (!idx) {
    idx = new Map();
    for (const f of type.fieldsArray) {
      idx.set(f.name, f);
      idx.set(jsonName(f), f);
    }
    fieldIndex.set(type, idx);
  }
  return idx;
}

function scalarFromJSON(field: protobuf.Field, v: unknown, where: string): unknown {
  if (field.resolvedType instanceof protobuf.Enum) {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(field.resolvedType.values, v)) return field.resolvedType.values[v];
    throw new ProtoJSONError(`${where}: invalid value ${JSON.stringify(v)} for enum ${fullName(field.resolvedType)}`);
  }
  switch (field.type) {
    case 'string':
      if (typeof v !== 'string') throw new ProtoJSONError(`${where}: expected a string`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw new ProtoJSONError(`${where}: expected a boolean`);
      return v;
    case 'bytes':
      if (typeof v !== 'string') throw new ProtoJSONError(`${where}: expected base64 bytes`);
      return Buffer.from(v, 'base64');
    case 'double':
    case 'float': {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || (Number.isNaN(n) && v !== 'NaN')) throw new ProtoJSONError(`${where}: expected a number`);
      return n;
    }
    default: {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw new ProtoJSONError(`${where}: expected an integer`);
      if (field.type.startsWith('u') && n < 0) throw new ProtoJSONError(`${where}: expected an unsigned integer`);
      return n;
    }
  }
}

/** Parses a protojson value into an in-memory message; throws ProtoJSONError on bad input. */
export function fromProtoJSON(type: protobuf.Type, json: unknown, where = fullName(type)): Record<string, unknown> {
  const name = fullName(type);
  if (name === 'google.protobuf.Timestamp') {
    if (typeof json !== 'string') throw new ProtoJSONError(`${where}: expected an RFC 3339 timestamp string`);
    return parseTimestamp(json);
  }
  if (WRAPPERS.has(name)) return { value: scalarFromJSON(type.fields.value, json, where) };
  if (name === 'google.protobuf.Any') return anyFromJSON(type, json, where);
  if (name === 'google.protobuf.FieldMask') {
    if (typeof json !== 'string') throw new ProtoJSONError(`${where}: expected a field mask string`);
    return { paths: json === '' ? [] : json.split(',').map((p) => p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)) };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ProtoJSONError(`${where}: expected an object`);
  const idx = fieldsByJSONKey(type);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(json)) {
    const field = idx.get(key);
    if (!field) continue; // unknown fields are ignored, as protojson's DiscardUnknown does
    if (v === null) continue;
    const at = `${where}.${key}`;
    if (field.repeated) {
      if (!Array.isArray(v)) throw new ProtoJSONError(`${at}: expected an array`);
      out[field.name] =
        field.resolvedType instanceof protobuf.Type
          ? v.map((e, i) => fromProtoJSON(field.resolvedType as protobuf.Type, e, `${at}[${i}]`))
          : v.map((e, i) => scalarFromJSON(field, e, `${at}[${i}]`));
    } else if (field.resolvedType instanceof protobuf.Type) {
      out[field.name] = fromProtoJSON(field.resolvedType, v, at);
    } else {
      out[field.name] = scalarFromJSON(field, v, at);
    }
  }
  return out;
}

// JSON schemas of the API's answers, derived from the protobuf messages they are made of, so the
// OpenAPI document and fastify's serializer describe exactly what proto/json.ts writes (Hubble's
// protojson: proto field names, enum names, 64-bit integers as strings, RFC 3339 timestamps).
// Each message becomes one shared schema (`$id` = its full proto name) that others `$ref`, which
// keeps recursive and repeated types (Flow's endpoints, filters) one definition each.
import protobuf from 'protobufjs';

export type JsonSchema = Record<string, unknown>;

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INT32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const WRAPPERS: Record<string, JsonSchema> = {
  'google.protobuf.BoolValue': { type: 'boolean' },
  'google.protobuf.Int32Value': { type: 'integer' },
  'google.protobuf.UInt32Value': { type: 'integer' },
  'google.protobuf.Int64Value': { type: 'string' },
  'google.protobuf.UInt64Value': { type: 'string' },
  'google.protobuf.FloatValue': { type: 'number' },
  'google.protobuf.DoubleValue': { type: 'number' },
  'google.protobuf.StringValue': { type: 'string' },
  'google.protobuf.BytesValue': { type: 'string', format: 'byte' },
};

function fullName(t: protobuf.ReflectionObject): string {
  return t.fullName.startsWith('.') ? t.fullName.slice(1) : t.fullName;
}

/** The shared schema id of a message type (also its OpenAPI component name). */
export function schemaId(type: protobuf.Type): string {
  return fullName(type);
}

/** A reference to a message's shared schema. */
export function protoRef(type: protobuf.Type): JsonSchema {
  return { $ref: `${schemaId(type)}#` };
}

function scalar(field: protobuf.Field): JsonSchema {
  if (field.resolvedType instanceof protobuf.Enum) {
    // Values without a name (newer peers) are written as numbers.
    return { anyOf: [{ type: 'string', enum: Object.keys(field.resolvedType.values) }, { type: 'integer' }] };
  }
  if (INT64.has(field.type)) return { type: 'string', pattern: '^-?\\d+$' };
  if (INT32.has(field.type)) return { type: 'integer' };
  if (field.type === 'double' || field.type === 'float') return { type: 'number' };
  if (field.type === 'bool') return { type: 'boolean' };
  if (field.type === 'bytes') return { type: 'string', format: 'byte' };
  return { type: 'string' };
}

/**
 * Shared schemas for `root` and every message it reaches, in dependency-free order (fastify
 * resolves `$ref`s lazily, so the order only matters for readability).
 */
export function protoSchemas(roots: readonly protobuf.Type[]): JsonSchema[] {
  const out = new Map<string, JsonSchema>();
  const visit = (type: protobuf.Type): JsonSchema => {
    const name = fullName(type);
    if (name === 'google.protobuf.Timestamp') return { type: 'string', format: 'date-time' };
    if (name === 'google.protobuf.Duration') return { type: 'string', pattern: '^-?\\d+(\\.\\d+)?s$' };
    if (name === 'google.protobuf.FieldMask') return { type: 'string' };
    if (WRAPPERS[name]) return WRAPPERS[name];
    if (name === 'google.protobuf.Any')
      return { type: 'object', description: 'protobuf Any: "@type" and the fields of the packed message', additionalProperties: true };
    if (!out.has(name)) {
      const schema: JsonSchema = { $id: name, type: 'object', title: name, properties: {}, additionalProperties: false };
      out.set(name, schema); // before the fields: a message that contains itself refers to this one
      type.resolveAll();
      const props = schema.properties as Record<string, JsonSchema>;
      for (const field of type.fieldsArray) {
        const t = field.resolvedType;
        let item: JsonSchema = t instanceof protobuf.Type ? visit(t) : scalar(field);
        if (field instanceof protobuf.MapField) item = { type: 'object', additionalProperties: item };
        props[field.name] = field.repeated ? { type: 'array', items: item } : item;
      }
    }
    return protoRef(type);
  };
  for (const r of roots) visit(r);
  return [...out.values()];
}

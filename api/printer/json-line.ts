// JSON lines as hubble writes them: Go's json.Encoder around protojson (UseProtoNames). The
// encoder compacts the message and escapes HTML-sensitive characters, then adds a newline.
import type protobuf from 'protobufjs';
import { toProtoJSON } from '../../proto/json.js';

/** Go encoding/json's HTML-safe escaping of an already-serialised JSON text. */
export function goJSONEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One protojson message as hubble prints it with -o json/jsonpb: compact, HTML-escaped, "\n". */
export function protoJSONLine(type: protobuf.Type, message: object): string {
  return `${goJSONEscape(JSON.stringify(toProtoJSON(type, message as Record<string, unknown>)))}\n`;
}

/** json.MarshalIndent(v, "", "  ") of protojson values, plus a newline (hubble list … -o json). */
export function indentedJSONLine(value: unknown): string {
  return `${goJSONEscape(JSON.stringify(value, null, 2) ?? 'null')}\n`;
}

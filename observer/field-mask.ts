// GetFlowsRequest.field_mask: only the listed paths are copied into each returned Flow.
// The hubble CLI sends one by default for its text outputs, so it must be honoured exactly.
import type { Flow } from '../proto/types.js';
import { types } from '../proto/index.js';
import { grpcError } from '../common/grpc-services.js';
import { status } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';

interface MaskNode {
  [field: string]: MaskNode | true;
}

/** Builds a mask tree, rejecting paths that name no Flow field (INVALID_ARGUMENT). */
export function compileFieldMask(paths: readonly string[] | undefined): MaskNode | null {
  if (!paths || paths.length === 0) return null;
  const root: MaskNode = {};
  for (const p of paths) {
    let type: protobuf.Type | null = types.Flow;
    let node = root;
    const parts = p.split('.');
    parts.forEach((part, i) => {
      const field: protobuf.Field | undefined = type?.fields[part];
      if (!field) throw grpcError(status.INVALID_ARGUMENT, `invalid field mask path "${p}"`);
      if (i === parts.length - 1) {
        node[part] = true;
        return;
      }
      type = field.resolvedType && 'fieldsArray' in field.resolvedType ? (field.resolvedType as protobuf.Type) : null;
      if (!type) throw grpcError(status.INVALID_ARGUMENT, `invalid field mask path "${p}"`);
      const next = node[part];
      if (next === true) return;
      node = (next ?? (node[part] = {})) as MaskNode;
    });
  }
  return root;
}

function copy(src: Record<string, unknown>, mask: MaskNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in mask) {
    const v = src[key];
    if (v === undefined) continue;
    const m = mask[key];
    out[key] = m === true || v === null || typeof v !== 'object' || Array.isArray(v) ? v : copy(v as Record<string, unknown>, m);
  }
  return out;
}

export function applyFieldMask(flow: Flow, mask: MaskNode | null): Flow {
  return mask ? (copy(flow as Record<string, unknown>, mask) as Flow) : flow;
}

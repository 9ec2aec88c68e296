// KernelFlowInfo: what the kernel probe knows beyond Hubble's Flow, packed into Flow.extensions.
import { types, encode, decode } from './index.js';
import type { Any, Flow } from './types.js';

export const KERNEL_FLOW_INFO_TYPE_URL = 'type.googleapis.com/flowscope.kernel.v1.KernelFlowInfo';

export interface KernelFlowInfo {
  drop_reason_name?: string;
  drop_reason_code?: number;
  bytes?: number;
  packets?: number;
  event?: string;
  netns?: number;
  tcp_old_state?: string;
  tcp_new_state?: string;
}

export function packKernelInfo(info: KernelFlowInfo): Any {
  return { type_url: KERNEL_FLOW_INFO_TYPE_URL, value: encode(types.KernelFlowInfo, info) };
}

/** The flow's KernelFlowInfo, or null when it carries none (or another extension type). */
export function kernelInfoOf(flow: Flow): KernelFlowInfo | null {
  const ext = flow.extensions;
  if (ext === undefined || ext.type_url !== KERNEL_FLOW_INFO_TYPE_URL) return null;
  try {
    return decode<KernelFlowInfo>(types.KernelFlowInfo, ext.value ?? new Uint8Array(0));
  } catch {
    return null; // malformed bytes from a peer: treated as absent rather than failing a query
  }
}

import { kernelInfoOf } from '../proto/kernel.js';
import { FilterError } from './errors.js';
import type { FilterKind } from './types.js';
import { isSet } from './types.js';

/** "no_socket", "SKB_DROP_REASON_NO_SOCKET" and "NO_SOCKET" all mean the kernel's NO_SOCKET. */
export function normalizeKernelDropReason(name: string): string {
  const n = name
    .trim()
    .toUpperCase()
    .replace(/^SKB_DROP_REASON_/, '');
  if (!/^[A-Z0-9_]+$/.test(n)) throw new FilterError(`invalid kernel drop reason "${name}": expected a name like NO_SOCKET`);
  return n;
}

/** kernel_drop_reason (flowscope extension): flows of the kernel probe dropped for one of these
 * kernel reasons (enum skb_drop_reason names, read from the running kernel's BTF). */
export const kernelDropReasonFilter: FilterKind = {
  name: 'kernel_drop_reason',
  fields: ['kernel_drop_reason'],
  build(ff, p) {
    if (!isSet(ff.kernel_drop_reason)) return [];
    const names = ff.kernel_drop_reason.map(normalizeKernelDropReason);
    return [
      {
        match: (f) => {
          const r = f.extensions ? kernelInfoOf(f)?.drop_reason_name : undefined;
          return r !== undefined && r !== '' && names.includes(r);
        },
        sql: p.inList('kernel_drop_reason', 'String', names),
      },
    ];
  },
};

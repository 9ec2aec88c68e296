// Cluster names as Cilium accepts them (lower-case alphanumerics and '-', at most 32): a label
// value, and the prefix of node names ("cluster/node"). The cluster "default" leaves node names
// unprefixed, as Hubble does.
export const DEFAULT_CLUSTER = 'default';

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

export function isClusterName(v: string): boolean {
  return CLUSTER_NAME.test(v);
}

export const CLUSTER_NAME_RULE = "lower-case letters, digits and '-', at most 32";

/** A FlowFilter value Hubble would reject; the message follows Hubble's wording. */
export class FilterError extends Error {
  override name = 'FilterError';
}

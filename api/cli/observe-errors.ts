// Errors of the observe command line. A UsageError means the invocation itself is wrong: the
// caller prints the message with the usage text and exits with status 2.

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

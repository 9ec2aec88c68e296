// A UsageError means the request itself is wrong (a flag, a query parameter, a value): the CLI
// prints the message with the usage text and exits with status 2, the HTTP API answers 400.

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

// Why a service could not start, said in one line with what to do about it: the executable
// prints it as it is (no stack trace), and `flowscope up` repeats a child's on the terminal.
// exitCode 2 marks a configuration that cannot work (e.g. a TLS file that does not check), as
// for bad usage; 1 a condition of the machine (a port in use, a data directory held).
export class StartError extends Error {
  override readonly name = 'StartError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** A listen error as a StartError when the address is taken; anything else unchanged. */
export function listenError(err: Error, address: string, flag: string): Error {
  if (/EADDRINUSE|address already in use/.test(err.message) || (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new StartError(`${address} is already in use (another flowscope process?): stop it, or choose another ${flag}`);
  }
  if (/EACCES/.test(err.message) || (err as NodeJS.ErrnoException).code === 'EACCES') {
    return new StartError(`no permission to listen on ${address}: choose a port above 1023, or another ${flag}`);
  }
  return err;
}

// What the server says when it cannot start: what went wrong, in the
// terms of the command line, and what to do about it.

/**
 * What to say of a listen that threw `error`: for an IOError, its code in
 * one line naming the flags to change; otherwise the error's message.
 */
export function listenFailure(host: string, port: number, error: unknown, reusePort: boolean): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error instanceof Error ? error.message : String(error);
  const where = `listen ${host.includes(':') ? `[${host}]` : host}:${port}: ${code}`;
  switch (code) {
    case 'EADDRINUSE':
      return `${where}: something else listens on that port; stop it, or choose another --port (0 picks a free one)`;
    case 'EACCES':
      return `${where}: this user may not listen on port ${port} (ports below 1024 need privileges); choose --port 1024 or above`;
    case 'EADDRNOTAVAIL':
      return `${where}: --host ${host} is not an address of this machine; use 127.0.0.1, or 0.0.0.0 or :: for every interface`;
    case 'EAFNOSUPPORT':
      return `${where}: this machine has no ${host.includes(':') ? 'IPv6' : 'IPv4'}; choose a --host of the other family`;
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return reusePort
        ? `${where}: this OS has no SO_REUSEPORT for --accept-mode reuseport; use --accept-mode single`
        : where;
    default:
      return where;
  }
}

/** A --root that cannot be served: `code` is node:fs's error code, or null when it is not a directory. */
export function rootFailure(root: string, code: string | null): string {
  switch (code) {
    case null:
      return `--root ${root}: not a directory; give the directory whose files to serve`;
    case 'ENOENT':
      return `--root ${root}: ENOENT: no such directory; give a directory that exists`;
    case 'EACCES':
    case 'EPERM':
      return `--root ${root}: ${code}: permission denied; give a directory this user can read`;
    default:
      return `--root ${root}: ${code}; give a readable directory`;
  }
}

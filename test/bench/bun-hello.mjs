// The Bun.serve peer of the HTTP hello benchmark: "Hello, World!" as
// text/plain, one thread (Bun.serve's default), 127.0.0.1 on a free port.
// Plain JavaScript run by Bun itself (not compiled by tsc: `Bun` is not a
// Node global). Prints `listening PORT`; exits on SIGTERM.
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch() {
    return new Response('Hello, World!', { headers: { 'Content-Type': 'text/plain' } });
  },
});
process.stdout.write(`listening ${server.port}\n`);
process.on('SIGTERM', () => process.exit(0));

// localAddress / remoteAddress report {address, port, family}.
import { expect } from 'chai';
import { forEachBackend } from './support/backends';
import { connectedPair, hasIPv6Loopback, type Host } from './support/sockets';

forEachBackend('socket addresses', (scope) => {
  const cases: [Host, 'IPv4' | 'IPv6'][] = [
    ['127.0.0.1', 'IPv4'],
    ['::1', 'IPv6'],
  ];
  for (const [host, family] of cases) {
    it(`reports local and remote addresses of a connection over ${host}`, function () {
      if (host === '::1' && !hasIPv6Loopback()) this.skip(); // this machine has no IPv6 loopback
      const io = scope.create();
      const { listener, client, server, port } = connectedPair(io, host);
      const listening = io.localAddress(listener);
      expect(listening).to.deep.equal({ address: host, port, family });
      expect(port).to.be.within(1, 65535);
      const clientLocal = io.localAddress(client);
      expect(clientLocal.address).to.equal(host);
      expect(clientLocal.family).to.equal(family);
      expect(clientLocal.port).to.be.within(1, 65535);
      expect(io.remoteAddress(client)).to.deep.equal({ address: host, port, family });
      expect(io.localAddress(server)).to.deep.equal({ address: host, port, family });
      expect(io.remoteAddress(server)).to.deep.equal(clientLocal);
    });
  }

  it('listens on the port asked for', function () {
    const io = scope.create();
    const probe = io.listen('127.0.0.1', 0);
    const { port } = io.localAddress(probe);
    io.deinit(); // frees the port
    const again = scope.create();
    const listener = again.listen('127.0.0.1', port);
    expect(again.localAddress(listener).port).to.equal(port);
  });

  it('lets two listeners share a port with reusePort', function () {
    if (process.platform === 'win32') this.skip(); // SO_REUSEPORT does not exist on Windows
    const io = scope.create();
    const first = io.listen('127.0.0.1', 0, { reusePort: true });
    const { port } = io.localAddress(first);
    const second = io.listen('127.0.0.1', port, { reusePort: true });
    expect(io.localAddress(second).port).to.equal(port);
  });
});

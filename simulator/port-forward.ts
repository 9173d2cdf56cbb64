// Reaching a lab from the host: the lab's network namespace has no route out and none in, so
// its API and node consoles listen on unix sockets in the lab's state folder (a path is
// reachable across network namespaces, an address is not), and the lab's owner, which stays
// in the host's namespace, forwards a localhost TCP port to each of them.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface PortForward {
  readonly port: number;
  readonly target: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:port (0 = any free port) and pipes each connection to the unix socket. */
export function forwardLocalPort(target: string, port = 0, host = '127.0.0.1'): Promise<PortForward> {
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target);
    open.add(client); open.add(upstream);
    const end = () => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream); };
    client.on('error', end); upstream.on('error', end);
    client.on('close', end); upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        target,
        close: () => new Promise<void>((res) => {
          for (const s of open) s.destroy();
          server.close(() => res());
        }),
      });
    });
  });
}

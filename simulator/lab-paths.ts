// Where a lab keeps its state: one folder per lab, holding the owner's pid, the control
// socket, the provisioner's data, and a folder per node (disks, sockets, logs). Pure: the
// folder is chosen by the composition root, everything under it is decided here.
//
// Unix socket paths are limited to 107 bytes; state folders live under short roots
// ($XDG_STATE_HOME or ~/.local/state), and labPaths() refuses a root that would overflow.
import { join } from 'node:path';
import { RackforgeError } from '../lib/errors.ts';

export interface NodeStatePaths {
  dir: string;
  qmpSocket: string;
  serialSocket: string;
  serialLog: string;
  qemuLog: string;
  disk(name: string): string;
  ovmfVars: string;
}

export interface LabPaths {
  root: string;
  /** The definition the running lab was started from, with nodes added since. */
  definition: string;
  ownerPid: string;
  /** Written by the owner once the lab runs: URLs, ports, pids (JSON). */
  ready: string;
  ownerLog: string;
  runnerLog: string;
  control: string;
  apiSocket: string;
  provisionerData: string;
  bridgeLog: string;
  node(name: string): NodeStatePaths;
}

const SOCKET_PATH_MAX = 107;
// A socket of a node with a 16-character name; longer names are checked one by one.
const TYPICAL_SUFFIX = '/nodes/' + 'n'.repeat(16) + '/serial.sock';

function socketPath(path: string): string {
  if (Buffer.byteLength(path) > SOCKET_PATH_MAX) {
    throw new RackforgeError('LAB_HOST', `${path} is longer than the ${SOCKET_PATH_MAX} bytes a unix socket path may have: choose a shorter --state-dir or node name`);
  }
  return path;
}

export function labPaths(root: string): LabPaths {
  if (Buffer.byteLength(root + TYPICAL_SUFFIX) > SOCKET_PATH_MAX) {
    throw new RackforgeError('LAB_HOST', `lab state folder ${root} is too long for unix sockets (${SOCKET_PATH_MAX} bytes with the node sockets under it); choose a shorter --state-dir`);
  }
  return {
    root,
    definition: join(root, 'lab.json'),
    ownerPid: join(root, 'owner.pid'),
    ready: join(root, 'ready.json'),
    ownerLog: join(root, 'owner.log'),
    runnerLog: join(root, 'runner.log'),
    control: join(root, 'control.sock'),
    apiSocket: join(root, 'api.sock'),
    provisionerData: join(root, 'provisioner'),
    bridgeLog: join(root, 'bridge.log'),
    node(name: string): NodeStatePaths {
      const dir = join(root, 'nodes', name);
      return {
        dir,
        qmpSocket: socketPath(join(dir, 'qmp.sock')),
        serialSocket: socketPath(join(dir, 'serial.sock')),
        serialLog: join(dir, 'serial.log'),
        qemuLog: join(dir, 'qemu.log'),
        disk: (disk: string) => join(dir, `${disk}.img`),
        ovmfVars: join(dir, 'OVMF_VARS.fd'),
      };
    },
  };
}

/** The default state root for a lab: $XDG_STATE_HOME/rackforge/labs/<lab> (~/.local/state/...). */
export function defaultLabStateDir(lab: string, env: Readonly<Record<string, string | undefined>>): string {
  const base = env['XDG_STATE_HOME'] || join(env['HOME'] || '/tmp', '.local', 'state');
  return join(base, 'rackforge', 'labs', lab);
}

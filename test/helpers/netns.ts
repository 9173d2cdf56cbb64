// Network-namespace tests without real root: runInNetns runs a bash script in a fresh user +
// network namespace (`unshare -Urn`), where the script is root over its own network stack and
// can make interfaces, addresses, routes and further namespaces. Nothing it does reaches the
// host's network, and everything it started dies with it.
//
// A test namespace starts with nothing but a down lo. Start the script with NETNS_PRELUDE,
// which brings lo up and defines these shell functions:
//
//   netns_new VAR            start a nested network namespace (a "client machine"), held open by
//                            a sleeping process whose pid is stored in $VAR
//   in_netns PID CMD...      run CMD inside that namespace (nsenter -t PID -n)
//   netns_veth PID HOSTIF PEERIF [HOSTCIDR] [PEERCIDR] [PEERMAC]
//                            a veth pair: HOSTIF here, PEERIF inside PID's namespace, both up
//
// which is: `unshare -n sleep infinity &` for the namespace, `ip link add HOSTIF type veth peer
// name PEERIF netns $PID` for the link, `nsenter -t $PID -n ip ...` to configure the far side.
// This works unprivileged because the user namespace that owns both network namespaces is ours.
// clientNetnsScript() writes those calls for you; the suite in test/interface-port-netns.test.ts
// is a worked example (a DHCP-style server with two client namespaces).
//
// Inside the script, `unshare -Ur CMD` runs CMD with no network capability over these
// namespaces, like an ordinary user on a host: binding a port below 1024 fails with EACCES and
// neighbour-table changes with EPERM. (Such a CMD cannot nsenter the client namespaces.)
//
// The holders are background jobs of the script: wait for your own jobs by pid (`wait $pid`),
// since a bare `wait` (or `wait %1`) waits for the holders too and hangs until the timeout.
//
// The script runs under `bash -euo pipefail` with the repository root as working directory and
// $NODE (this Node binary) and $REPO_ROOT in the environment, so `"$NODE" --import tsx file.ts`
// runs TypeScript inside the namespace.
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface NetnsOptions {
  /** Hard limit: the whole process tree is killed when it passes (default 15 s). */
  timeoutMs?: number;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Aborting kills the whole process tree, like the timeout. */
  signal?: AbortSignal;
}

export interface NetnsResult {
  /** Exit status of the script (null when killed). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the timeout or the signal killed it. */
  killed: boolean;
}

/** Quotes one word for a bash command line. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Brings lo up and defines netns_new, in_netns and netns_veth (see the top of this file). */
export const NETNS_PRELUDE = `
ip link set lo up
__netns_pids=()
__netns_cleanup() { local p; for p in "\${__netns_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap __netns_cleanup EXIT
netns_new() {
  local self pid i
  self=$(readlink /proc/self/ns/net)
  unshare -n sleep infinity &
  pid=$!
  __netns_pids+=("$pid")
  # unshare(2) runs just after the fork: wait until the process really is in a new namespace.
  for i in $(seq 1 500); do
    if [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null || echo gone)" = gone ]; then echo "netns_new: unshare -n failed" >&2; return 1; fi
    if [ "$(readlink "/proc/$pid/ns/net")" != "$self" ]; then break; fi
    sleep 0.01
  done
  nsenter -t "$pid" -n ip link set lo up
  printf -v "$1" '%s' "$pid"
}
in_netns() { local pid=$1; shift; nsenter -t "$pid" -n "$@"; }
netns_veth() {
  local pid=$1 hostif=$2 peerif=$3 hostcidr=\${4:-} peercidr=\${5:-} peermac=\${6:-}
  ip link add "$hostif" type veth peer name "$peerif" netns "$pid"
  if [ -n "$hostcidr" ]; then ip addr add "$hostcidr" dev "$hostif"; fi
  if [ -n "$peermac" ]; then in_netns "$pid" ip link set "$peerif" address "$peermac"; fi
  if [ -n "$peercidr" ]; then in_netns "$pid" ip addr add "$peercidr" dev "$peerif"; fi
  ip link set "$hostif" up
  in_netns "$pid" ip link set "$peerif" up
}
`;

export interface ClientNetns {
  /** Shell variable that receives the namespace's holder pid (use as "$VAR" later). */
  pidVar: string;
  /** Veth end in the test namespace. */
  hostIf: string;
  /** Veth end in the client namespace. */
  peerIf: string;
  hostCidr?: string;
  peerCidr?: string;
  peerMac?: string;
}

/** Script lines (after NETNS_PRELUDE) for a nested client namespace joined to this one by a veth pair. */
export function clientNetnsScript(c: ClientNetns): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.pidVar)) throw new Error(`clientNetnsScript: ${c.pidVar} is not a shell variable name`);
  const args = [c.hostIf, c.peerIf, c.hostCidr ?? '', c.peerCidr ?? '', c.peerMac ?? ''].map(shellQuote).join(' ');
  return `netns_new ${c.pidVar}\nnetns_veth "$${c.pidVar}" ${args}\n`;
}

/** Script lines for a veth pair with both ends in the current namespace, up, with optional addresses. */
export function vethPairScript(a: string, b: string, cidrA?: string, cidrB?: string): string {
  const lines = [`ip link add ${shellQuote(a)} type veth peer name ${shellQuote(b)}`];
  if (cidrA) lines.push(`ip addr add ${shellQuote(cidrA)} dev ${shellQuote(a)}`);
  if (cidrB) lines.push(`ip addr add ${shellQuote(cidrB)} dev ${shellQuote(b)}`);
  lines.push(`ip link set ${shellQuote(a)} up`, `ip link set ${shellQuote(b)} up`);
  return `${lines.join('\n')}\n`;
}

/** Pids of the processes whose user namespace is `userNs` (a `user:[inode]` link text). */
function processesInUserNs(userNs: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/user`) === userNs) pids.push(Number(name));
    } catch {
      /* exited, or not ours to inspect */
    }
  }
  return pids;
}

/**
 * Runs `unshare -Urn --fork --kill-child bash -euo pipefail -c <script>`: a fresh user and
 * network namespace. Never rejects on a failing script; rejects only when unshare cannot start.
 * When the script ends, times out or is aborted, every process left in its process group or
 * its user namespace (daemons that called setsid included) is killed.
 */
export function runInNetns(script: string, opts: NetnsOptions = {}): Promise<NetnsResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-Urn', '--fork', '--kill-child', 'bash', '-euo', 'pipefail', '-c', script], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, NODE: process.execPath, REPO_ROOT, ...opts.env },
      // Its own process group, so one kill reaches every process the script started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    let settled = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));

    // The namespace's identity, read once unshare has entered it, finds processes that left
    // the process group. Never our own namespace: that scan would kill the test runner.
    const ownUserNs = readlinkSync('/proc/self/ns/user');
    let userNs: string | undefined;
    const probeUntil = Date.now() + 2000;
    const probe = setInterval(() => {
      try {
        const ns = readlinkSync(`/proc/${child.pid}/ns/user`);
        if (ns !== ownUserNs) userNs = ns;
      } catch {
        /* unshare already gone */
      }
      if (userNs !== undefined || Date.now() > probeUntil || child.exitCode !== null || child.signalCode !== null) clearInterval(probe);
    }, 2);

    const killAll = (): void => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* the group is already gone */
        }
      }
      if (userNs === undefined) return;
      for (const pid of processesInUserNs(userNs)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    };
    const finish = (code: number | null): void => {
      if (settled) return;
      settled = true;
      clearInterval(probe);
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, stdout, stderr, killed });
    };
    const abort = (): void => {
      killed = true;
      killAll();
    };
    const timer = setTimeout(abort, opts.timeoutMs ?? 15_000);
    opts.signal?.addEventListener('abort', abort, { once: true });
    if (opts.signal?.aborted) abort();
    child.once('error', (err) => {
      settled = true;
      clearInterval(probe);
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      reject(err);
    });
    // Background jobs the script left behind would outlive it and hold the pipes open; once
    // they are killed the pipes close. The grace period covers a holder we could not find.
    child.once('exit', (code) => {
      killAll();
      setTimeout(() => finish(code), 1000).unref();
    });
    child.once('close', (code) => finish(code));
  });
}

// Starts a real provisioner (SQLite store in a fresh temp dir, random port on 127.0.0.1)
// for end-to-end tests, and runs Debian's python3 against it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/log.ts';
import { startProvisioner, type RunningProvisioner } from '../../cli/compose-provisioner.ts';
import { encodeMethodCall, decodeMethodResponse, type XmlRpcValue } from '../../provisioner/protocol/xmlrpc.ts';

export const ADMIN_PASSWORD = 'cobbler';
export const PYTHON = '/usr/bin/python3';

export interface TestServer extends RunningProvisioner { dataDir: string; stop(): Promise<void> }

export async function startTestServer(opts: { memory?: boolean; maxBodyBytes?: number } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rf-e2e-'));
  const running = await startProvisioner({
    ...(opts.memory ? {} : { dataDir }),
    httpPort: 0,
    adminPassword: ADMIN_PASSWORD,
    log: silentLogger,
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
  return Object.assign(running, {
    dataDir,
    async stop() { await running.close(); rmSync(dataDir, { recursive: true, force: true }); },
  });
}

/** Runs a Python snippet with Debian's python3; `URL` is defined for it. Resolves stdout. */
export function runPython(url: string, code: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', `URL = ${JSON.stringify(url)}\n${code}`], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Minimal client on our own codec, for TS-side assertions. */
export async function rpc(apiUrl: string, method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue> {
  const res = await fetch(apiUrl, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: encodeMethodCall(method, params) });
  const out = decodeMethodResponse(Buffer.from(await res.arrayBuffer()));
  if ('fault' in out) throw Object.assign(new Error(out.fault.faultString), { fault: out.fault });
  return out.value;
}

/** A distro and the profile the Orchestra walkthrough names, created through the API. */
export async function seedProfile(apiUrl: string, token: string, profile = 'lucid-i386-juju'): Promise<void> {
  const d = await rpc(apiUrl, 'new_distro', token) as string;
  await rpc(apiUrl, 'modify_distro', d, 'name', 'lucid-i386', token);
  await rpc(apiUrl, 'modify_distro', d, 'arch', 'i386', token);
  await rpc(apiUrl, 'modify_distro', d, 'breed', 'ubuntu', token);
  await rpc(apiUrl, 'modify_distro', d, 'kernel', '/srv/boot/lucid/linux', token);
  await rpc(apiUrl, 'modify_distro', d, 'initrd', '/srv/boot/lucid/initrd.gz', token);
  await rpc(apiUrl, 'save_distro', d, token);
  const p = await rpc(apiUrl, 'new_profile', token) as string;
  await rpc(apiUrl, 'modify_profile', p, 'name', profile, token);
  await rpc(apiUrl, 'modify_profile', p, 'distro', 'lucid-i386', token);
  await rpc(apiUrl, 'save_profile', p, token);
}

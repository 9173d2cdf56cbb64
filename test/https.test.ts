// The API over TLS, as Ansible's Cobbler modules use it by default (use_ssl: true).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { silentLogger } from '../lib/log.ts';
import { startProvisioner, type RunningProvisioner } from '../cli/compose-provisioner.ts';
import { runPython } from './helpers/provisioner.ts';
import { runCli, cleanEnv } from './helpers/cli-processes.ts';

const run = promisify(execFile);

describe('HTTPS', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'rf-tls-'));
  const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
  let srv: RunningProvisioner;

  before(async () => {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=rackforge-test', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]);
    srv = await startProvisioner({ httpPort: 0, https: { port: 0, cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') }, adminPassword: 'pw', log: silentLogger });
  });
  after(async () => { await srv?.close(); rmSync(dir, { recursive: true, force: true }); });

  it('serves the same API to python3 verifying the certificate', async () => {
    assert.match(srv.httpsUrl ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
    const out = await runPython(`${srv.httpsUrl}/cobbler_api`, `
import ssl, xmlrpc.client
ctx = ssl.create_default_context(cafile=${JSON.stringify(cert)})
s = xmlrpc.client.ServerProxy(URL, context=ctx)
t = s.login("cobbler", "pw")
print(len(t), s.token_check(t), s.get_systems(), s.version())
`);
    assert.equal(out.trim(), '36 True [] 3.307');
  });

  it("serves Ansible's cobbler_system with its defaults (use_ssl, validate_certs) when the CA is trusted", async () => {
    const port = new URL(srv.httpsUrl!).port;
    const play = join(dir, 'tls.yml');
    writeFileSync(play, [
      '- hosts: localhost', '  connection: local', '  gather_facts: false', '  tasks:',
      '    - name: query over TLS', '      community.general.cobbler_system:', '        host: 127.0.0.1', `        port: ${port}`,
      '        username: cobbler', '        password: pw', '        state: query', '',
    ].join('\n'));
    const { stdout } = await run('/usr/bin/ansible-playbook', ['-i', 'localhost,', play], {
      env: { ...process.env, SSL_CERT_FILE: cert, ANSIBLE_HOME: join(dir, 'ah'), ANSIBLE_LOCAL_TEMP: join(dir, 'at'), ANSIBLE_NOCOLOR: '1',
        ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json', ANSIBLE_LOCALHOST_WARNING: 'false',
        ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false', NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
      timeout: 120_000,
    });
    const result = JSON.parse(stdout).plays[0].tasks[0].hosts.localhost;
    assert.equal(result.failed, undefined, JSON.stringify(result));
    assert.deepEqual(result.systems, []);
  });

  it('is refused by a client that does not trust the certificate', async () => {
    await assert.rejects(runPython(`${srv.httpsUrl}/cobbler_api`, 'import xmlrpc.client\nxmlrpc.client.ServerProxy(URL).ping()'), /CERTIFICATE_VERIFY_FAILED/);
  });

  it('serve refuses --https-port without readable key material, in one line', async () => {
    const r = await runCli(['serve', '--memory', '--http-port', '0', '--https-port', '0', '--tls-cert', cert, '--tls-key', join(dir, 'missing.pem')], cleanEnv());
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), /^rackforge: --tls-key .*missing\.pem: no such file$/);
    const r2 = await runCli(['serve', '--memory', '--http-port', '0', '--tls-cert', cert], cleanEnv());
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--tls-cert and --tls-key are used with --https-port/);
  });
});

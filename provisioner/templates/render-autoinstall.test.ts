import assert from 'node:assert/strict';
import { isRackforgeError, type ErrorCode } from '../../lib/errors.ts';
import { bootWorld } from '../boot/boot-fixtures.ts';
import { nopxeUrl, svcBase, triggerUrl } from '../boot/svc-urls.ts';
import { autoinstallVariables, DEFAULT_RENDER_LIMITS, renderAutoinstall } from './render-autoinstall.ts';
import { seedSampleTemplates } from './sample-templates.ts';
import { MemoryTemplateStore } from './template-store.ts';

function stores(templates: Record<string, string>, snippets: Record<string, string> = {}) {
  const t = new MemoryTemplateStore();
  const s = new MemoryTemplateStore();
  for (const [k, v] of Object.entries(templates)) t.write(k, v);
  for (const [k, v] of Object.entries(snippets)) s.write(k, v);
  return { templates: t, snippets: s };
}

const fails = (code: ErrorCode, ...patterns: RegExp[]) => (e: unknown) => {
  assert.ok(isRackforgeError(e, code), `expected ${code}, got ${String(e)}`);
  for (const p of patterns) assert.match(e.message, p);
  return true;
};

describe('renderAutoinstall', () => {
  it('renders variables, lenient if on absent keys, and default', async () => {
    const src = stores({ 't.ks': 'host {{ hostname }}\n{% if absent %}no{% else %}yes{% endif %} {{ absent | default: "d" }}' });
    assert.equal(await renderAutoinstall(src, 't.ks', { hostname: 'h1' }), 'host h1\nyes d');
  });

  it('a missing variable is an error naming it, the template and the line', async () => {
    const src = stores({ 't.ks': 'line one\nline two {{ mirror_host }}\n' });
    await assert.rejects(renderAutoinstall(src, 't.ks', {}), fails('TEMPLATE_MISSING_VARIABLE', /mirror_host/, /template t\.ks/, /line 2/));
  });

  it('a missing variable inside a snippet names the snippet and the template', async () => {
    const src = stores({ 't.ks': 'a\n{% include "done" %}' }, { done: 'x\ny\n{{ nopxe }}' });
    await assert.rejects(renderAutoinstall(src, 't.ks', {}), fails('TEMPLATE_MISSING_VARIABLE', /snippet done line 3/, /'nopxe'/, /template t\.ks/));
  });

  it('a missing nested key is an error too', async () => {
    const src = stores({ 't.ks': '{{ interfaces.eth9.mac_address }}' });
    await assert.rejects(renderAutoinstall(src, 't.ks', { interfaces: {} }), fails('TEMPLATE_MISSING_VARIABLE', /interfaces\.eth9/));
  });

  it('includes and renders snippets by name; render sees the variables too', async () => {
    const src = stores({ 't.ks': '{% include "a" %}|{% render "sub/b" %}' }, { a: 'A={{ v }}', 'sub/b': 'B={{ v }}' });
    assert.equal(await renderAutoinstall(src, 't.ks', { v: 1 }), 'A=1|B=1');
  });

  it('including an unknown snippet is an error naming it', async () => {
    const src = stores({ 't.ks': 'x\n{% include "nope" %}' });
    await assert.rejects(renderAutoinstall(src, 't.ks', {}), fails('TEMPLATE_NOT_FOUND', /snippet 'nope' not found/, /template t\.ks line 2/));
  });

  for (const bad of ['../etc/passwd', '/etc/passwd', 'a/../../b', '..', 'sub//x', '.hidden', 'x y']) {
    it(`refuses the path-like snippet name ${JSON.stringify(bad)}`, async () => {
      const src = stores({ 't.ks': `{% include ${JSON.stringify(bad)} %}` }, { passwd: 'leak' });
      await assert.rejects(renderAutoinstall(src, 't.ks', {}), fails('TEMPLATE_INVALID', /invalid snippet name/));
    });
  }

  it('stops a snippet that includes itself', async () => {
    const src = stores({ 't.ks': '{% include "loop" %}' }, { loop: 'x{% include "loop" %}' });
    await assert.rejects(renderAutoinstall(src, 't.ks', {}, { ...DEFAULT_RENDER_LIMITS, maxIncludes: 20 }), fails('TEMPLATE_LIMIT', /more than 20 snippet inclusions/));
  });

  it('refuses unknown filters and tags', async () => {
    await assert.rejects(renderAutoinstall(stores({ 't.ks': '{{ x | bogus }}' }), 't.ks', { x: 1 }), fails('TEMPLATE_INVALID', /undefined filter: bogus/));
    await assert.rejects(renderAutoinstall(stores({ 't.ks': '{% bogus %}' }), 't.ks', {}), fails('TEMPLATE_INVALID', /bogus/));
  });

  it('does not reach JavaScript internals of values', async () => {
    await assert.rejects(renderAutoinstall(stores({ 't.ks': '{{ s.constructor }}' }), 't.ks', { s: 'x' }), fails('TEMPLATE_MISSING_VARIABLE'));
  });

  it('limits the output size', async () => {
    const src = stores({ 't.ks': '{% for i in (1..1000) %}0123456789{% endfor %}' });
    await assert.rejects(renderAutoinstall(src, 't.ks', {}, { ...DEFAULT_RENDER_LIMITS, maxOutputBytes: 5000 }), fails('TEMPLATE_LIMIT', /output exceeds 5000 bytes/));
  });

  it('an unknown or invalid template name is an error', async () => {
    await assert.rejects(renderAutoinstall(stores({}), 'nope.ks', {}), fails('TEMPLATE_NOT_FOUND', /nope\.ks/));
    await assert.rejects(renderAutoinstall(stores({}), '../x', {}), fails('TEMPLATE_INVALID'));
  });
});

describe('autoinstallVariables', () => {
  it('hoists autoinstall_meta, withholds secrets, adds the install URLs last', () => {
    const vars = autoinstallVariables(
      { name: 's', server: '10.0.0.1', http_server: '10.0.0.1:8080', power_pass: 'pw', ldap_search_passwd: 'x', autoinstall_meta: { tree: 'http://t', name: 'meta-wins', nopxe_url: 'spoof', power_pass: 'p2' } },
      { install_token: 'tok', nopxe_url: 'http://n', pre_trigger_url: 'http://pre', post_trigger_url: 'http://post' },
    );
    assert.equal(vars['tree'], 'http://t');
    assert.equal(vars['name'], 'meta-wins');
    assert.equal(vars['nopxe_url'], 'http://n');
    assert.equal(vars['http_server'], '10.0.0.1:8080');
    assert.equal('power_pass' in vars, false);
    assert.equal('ldap_search_passwd' in vars, false);
  });
});

describe('sample templates', () => {
  const TOKEN = '0123456789abcdef0123456789abcdef';
  const w = bootWorld({ settings: { http_port: 8080 } });
  const src = { templates: new MemoryTemplateStore(), snippets: new MemoryTemplateStore() };
  const seeded = seedSampleTemplates(src);

  it('are seeded when absent, and existing ones are kept', () => {
    assert.deepEqual(seeded.templates, ['default.ks', 'rackforge-node.sh', 'sample-autoinstall.yaml', 'sample.ks', 'sample.seed']);
    assert.deepEqual(seeded.snippets, ['autoinstall_done', 'autoinstall_start']);
    const mine = { templates: new MemoryTemplateStore(), snippets: new MemoryTemplateStore() };
    mine.templates.write('sample.ks', '# mine');
    const again = seedSampleTemplates(mine);
    assert.equal(mine.templates.read('sample.ks'), '# mine');
    assert.equal(again.templates.includes('sample.ks'), false);
  });

  const vars = (system: string) => {
    const blended = w.inv.blended('system', system);
    const base = svcBase(blended);
    return autoinstallVariables(blended, {
      install_token: TOKEN,
      nopxe_url: nopxeUrl(base, system, TOKEN),
      pre_trigger_url: triggerUrl(base, 'pre', 'system', system, TOKEN),
      post_trigger_url: triggerUrl(base, 'post', 'system', system, TOKEN),
    });
  };
  const nopxe = (s: string) => `http://10.0.0.1:8080/cblr/svc/op/nopxe/system/${s}/token/${TOKEN}`;

  it('sample.seed renders a Debian preseed for web01', async () => {
    const out = await renderAutoinstall(src, 'sample.seed', vars('web01'));
    assert.match(out, /^# preseed for web01 rendered by rackforge$/m);
    assert.match(out, /^d-i netcfg\/get_hostname string web01$/m);
    assert.match(out, /^d-i netcfg\/get_domain string lab\.example$/m);
    assert.match(out, /^d-i mirror\/suite string bookworm$/m);
    assert.match(out, /^d-i passwd\/root-password-crypted password \$1\$/m);
    assert.match(out, new RegExp(`^d-i preseed/early_command string wget -q -O /dev/null 'http://10\\.0\\.0\\.1:8080/cblr/svc/op/trig/mode/pre/system/web01/token/${TOKEN}' \\|\\| curl .* \\|\\| true$`, 'm'));
    const late = /^d-i preseed\/late_command string (.*)$/m.exec(out)?.[1] ?? '';
    assert.ok(late.includes(`'${nopxe('web01')}'`), late);
    assert.ok(late.includes('/trig/mode/post/system/web01/'), late);
    assert.doesNotMatch(out, /\{\{|\{%/);
  });

  it('default.ks (the template of profiles that name none) renders with no variables set', async () => {
    const out = await renderAutoinstall(src, 'default.ks', vars('web01'));
    assert.match(out, /^# default autoinstall file for web01, rendered by rackforge$/m);
    assert.doesNotMatch(out, /\{\{|\{%/);
  });

  it('rackforge-node.sh renders the node installer\'s settings: image, checksum, event, nopxe and controller URLs', async () => {
    const out = await renderAutoinstall(src, 'rackforge-node.sh', vars('web01'));
    assert.match(out, /^RF_SYSTEM='web01'$/m);
    assert.match(out, /^RF_HOSTNAME='web01'$/m);
    assert.match(out, new RegExp(`^RF_TOKEN='${TOKEN}'$`, 'm'));
    assert.match(out, /^RF_IMAGE_URL='http:\/\/10\.0\.0\.1:8080\/cblr\/links\/[a-z0-9-]+\/node\.img'$/m);
    assert.match(out, new RegExp(`^RF_EVENT_URL='http://10\\.0\\.0\\.1:8080/cblr/svc/op/event/system/web01/token/${TOKEN}'$`, 'm'));
    assert.match(out, new RegExp(`^RF_NOPXE_URL='${nopxe('web01').replace(/[.]/g, '\\.')}'$`, 'm'));
    assert.match(out, /^RF_CONTROLLER_URL='http:\/\/10\.0\.0\.1:8080\/api\/v1'$/m);
    assert.match(out, /^RF_DISK='\/dev\/vda'$/m);
  });

  it('sample.ks renders a kickstart for db01 with the tree from autoinstall_meta', async () => {
    const out = await renderAutoinstall(src, 'sample.ks', vars('db01'));
    assert.match(out, /^url --url=http:\/\/mirror\.example\/rocky\/9\/BaseOS\/x86_64\/os$/m);
    assert.match(out, /^rootpw --iscrypted \$1\$/m);
    assert.match(out, /^network --bootproto=dhcp$/m);
    assert.match(out, new RegExp(`%post\\nwget -q -O /dev/null '${nopxe('db01').replace(/[.]/g, '\\.')}'`));
    assert.match(out, /%pre\nwget .*\/trig\/mode\/pre\/system\/db01\//);
  });

  it('sample-autoinstall.yaml renders cloud-init user-data for ub01', async () => {
    const out = await renderAutoinstall(src, 'sample-autoinstall.yaml', vars('ub01'));
    assert.match(out, /^#cloud-config\n/);
    assert.match(out, /^ {4}hostname: ub01$/m);
    assert.match(out, new RegExp(`late-commands:\\n    - \\|\\n      wget -q -O /dev/null '${nopxe('ub01').replace(/[.]/g, '\\.')}'`));
  });

  it('sample.ks without a tree fails closed, naming tree', async () => {
    const v = vars('web01');
    await assert.rejects(renderAutoinstall(src, 'sample.ks', v), fails('TEMPLATE_MISSING_VARIABLE', /'tree'/, /sample\.ks line \d+/));
  });

  it('profile renders leave nopxe out', async () => {
    const blended = w.inv.blended('profile', 'debian12-x86_64');
    const base = svcBase(blended);
    const out = await renderAutoinstall(src, 'sample.seed', autoinstallVariables(blended, {
      install_token: '', nopxe_url: '', pre_trigger_url: triggerUrl(base, 'pre', 'profile', 'debian12-x86_64'), post_trigger_url: triggerUrl(base, 'post', 'profile', 'debian12-x86_64'),
    }));
    assert.doesNotMatch(out, /nopxe/);
    assert.match(out, /late_command string wget -q -O \/dev\/null 'http:\/\/10\.0\.0\.1:8080\/cblr\/svc\/op\/trig\/mode\/post\/profile\/debian12-x86_64'/);
  });
});

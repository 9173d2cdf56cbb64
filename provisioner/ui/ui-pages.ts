// The web UI's pages, rendered from plain view models (pure: no store, no clock, no I/O). What
// people look at while machines boot: every system with its install state, one system's
// install stages and boot events, the DHCP leases, the profiles and distros.
import type { BootEvent } from '../boot/boot-events.ts';
import type { InstallStatus } from '../boot/install-status.ts';
import type { LeaseRecord } from '../store/store.ts';
import { Html, html } from './html.ts';

export interface InterfaceView { name: string; mac: string; ip: string; dnsName: string }

export interface SystemRow {
  name: string;
  profile: string;
  hostname: string;
  interfaces: InterfaceView[];
  netboot: boolean;
  install: InstallStatus['state'];
  lastEvent?: BootEvent;
}

export interface OverviewModel {
  version: string;
  systems: SystemRow[];
  totalSystems: number;
  /** 1-based page of `pageSize` systems. */
  page: number;
  pageSize: number;
  profiles: Array<{ name: string; distro: string; parent: string }>;
  distros: Array<{ name: string; arch: string; kernel: string }>;
}

export interface SystemModel {
  name: string;
  /** The stored record's scalar fields, secrets already redacted, in name order. */
  fields: Array<[string, string]>;
  interfaces: InterfaceView[];
  install: InstallStatus;
  /** The newest boot events, oldest first. */
  events: BootEvent[];
}

export interface LeasesModel { leases: LeaseRecord[]; now: number }

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2733}
header{background:#1d2733;color:#fff;padding:.6em 1.2em;display:flex;gap:1.5em;align-items:baseline}
header a{color:#cfe3ff;text-decoration:none}header strong{font-size:1.1em}
main{padding:1em 1.2em}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border-bottom:1px solid #dde3ea;padding:.25em .7em;text-align:left;vertical-align:top}
th{background:#f3f6f9}code{font-size:.95em}.muted{color:#6b7785}
.state{padding:0 .5em;border-radius:.6em;font-size:.9em}
.registered,.installed{background:#d9f2dd}.installing{background:#fff2c6}.failed{background:#ffd9d6}.none{background:#eceff3}
`;

/** Pages people watch while machines boot reload themselves this often. */
export const REFRESH_SECONDS = 10;

export function layout(title: string, body: Html, o: { refresh?: boolean } = {}): Html {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · rackforge</title>
${o.refresh ? html`<meta http-equiv="refresh" content="${REFRESH_SECONDS}">` : ''}
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${new Html(STYLE)}</style></head>
<body><header><strong>rackforge</strong><a href="/ui/">Systems</a><a href="/ui/leases">Leases</a><a href="/cobbler_api">API</a></header>
<main><h1>${title}</h1>${body}</main></body></html>
`;
}

const when = (at: number): string => new Date(at * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const stateBadge = (s: InstallStatus['state']): Html => html`<span class="state ${s}">${s}</span>`;
const systemLink = (name: string): Html => html`<a href="/ui/systems/${encodeURIComponent(name)}">${name}</a>`;

export function renderOverview(m: OverviewModel): Html {
  const pages = Math.max(1, Math.ceil(m.totalSystems / m.pageSize));
  const rows = m.systems.map((s) => html`<tr><td>${systemLink(s.name)}</td><td>${s.profile}</td><td>${s.hostname}</td>
<td>${s.interfaces.map((i) => html`<div><code>${i.mac}</code> ${i.ip}</div>`)}</td>
<td>${s.netboot ? 'on' : 'off'}</td><td>${stateBadge(s.install)}</td>
<td>${s.lastEvent ? html`<span class="muted">${when(s.lastEvent.at)}</span> ${s.lastEvent.kind}: ${s.lastEvent.detail}` : html`<span class="muted">none</span>`}</td></tr>`);
  const nav = pages > 1
    ? html`<p>Page ${m.page} of ${pages}. ${m.page > 1 ? html`<a href="/ui/?page=${m.page - 1}">previous</a>` : ''} ${m.page < pages ? html`<a href="/ui/?page=${m.page + 1}">next</a>` : ''}</p>`
    : '';
  return layout('Systems', html`
<p class="muted">${m.totalSystems} systems, ${m.profiles.length} profiles, ${m.distros.length} distros. rackforge ${m.version}.</p>
${m.totalSystems === 0 ? html`<p>No systems yet: add one with <code>rackforge system add</code> or the API's <code>new_system</code>.</p>` : html`
<table><thead><tr><th>system</th><th>profile</th><th>hostname</th><th>interfaces</th><th>netboot</th><th>install</th><th>last boot event</th></tr></thead>
<tbody>${rows}</tbody></table>${nav}`}
<h2>Profiles</h2>
<table><thead><tr><th>profile</th><th>distro</th><th>parent</th></tr></thead><tbody>
${m.profiles.map((p) => html`<tr><td>${p.name}</td><td>${p.distro}</td><td>${p.parent}</td></tr>`)}</tbody></table>
<h2>Distros</h2>
<table><thead><tr><th>distro</th><th>arch</th><th>kernel</th></tr></thead><tbody>
${m.distros.map((d) => html`<tr><td>${d.name}</td><td>${d.arch}</td><td><code>${d.kernel}</code></td></tr>`)}</tbody></table>`, { refresh: true });
}

export function renderSystem(m: SystemModel): Html {
  return layout(`System ${m.name}`, html`
<p>Install: ${stateBadge(m.install.state)}${m.install.ip ? html` at ${m.install.ip}` : ''}</p>
${m.install.stages.length > 0 ? html`<table><thead><tr><th>stage</th><th>at</th><th>detail</th></tr></thead><tbody>
${m.install.stages.map((st) => html`<tr><td>${st.stage}</td><td>${st.at}</td><td>${st.detail}</td></tr>`)}</tbody></table>` : ''}
<h2>Interfaces</h2>
<table><thead><tr><th>interface</th><th>MAC</th><th>IP</th><th>DNS name</th></tr></thead><tbody>
${m.interfaces.map((i) => html`<tr><td>${i.name}</td><td><code>${i.mac}</code></td><td>${i.ip}</td><td>${i.dnsName}</td></tr>`)}</tbody></table>
<h2>Boot events</h2>
${m.events.length === 0 ? html`<p class="muted">None yet.</p>` : html`<table><thead><tr><th>at</th><th>event</th><th>MAC</th><th>IP</th><th>detail</th></tr></thead><tbody>
${m.events.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.kind}</td><td><code>${e.mac ?? ''}</code></td><td>${e.ip ?? ''}</td><td>${e.detail}</td></tr>`)}</tbody></table>`}
<h2>Fields</h2>
<table><tbody>${m.fields.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</tbody></table>`, { refresh: true });
}

export function renderLeases(m: LeasesModel): Html {
  return layout('Leases', m.leases.length === 0 ? html`<p class="muted">No leases.</p>` : html`
<table><thead><tr><th>IP</th><th>MAC</th><th>state</th><th>expires</th><th>hostname</th><th>subnet</th></tr></thead><tbody>
${m.leases.map((l) => html`<tr><td>${l.ip}</td><td><code>${l.mac}</code></td><td>${l.state}${l.state !== 'released' && l.expiresAt <= m.now ? ' (expired)' : ''}</td><td>${when(l.expiresAt)}</td><td>${l.hostname ?? ''}</td><td>${l.subnet}</td></tr>`)}</tbody></table>`);
}

export function renderError(status: number, message: string): Html {
  return layout(status === 404 ? 'Not found' : 'Error', html`<p>${message}</p>`);
}

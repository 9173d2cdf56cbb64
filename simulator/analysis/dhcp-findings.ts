// Diagnosis rules about DHCP: nobody answers, the answer has no boot file, the address is
// refused over and over, a request is never acknowledged, two servers answer. Pure functions of
// the report; each names the frames that show it.
import type { DhcpServerReport, MachineReport, TimelineEntry } from './capture-report.ts';
import { atTime, entriesOf, evidenceFrames, listWords, type DiagnosisContext, type Finding } from './findings.ts';

/** A DISCOVER this close to the end of the capture may still be answered. */
const ANSWER_GRACE_SECONDS = 4;

type DhcpEntry = Extract<TimelineEntry, { kind: 'dhcp' }>;

const isReply = (e: DhcpEntry): boolean => e.dhcp.direction === 'reply';
const answers = (e: DhcpEntry): boolean => isReply(e) && (e.dhcp.type === 'OFFER' || e.dhcp.type === 'ACK');

export function noOfferFindings(m: MachineReport, ctx: DiagnosisContext): Finding[] {
  const dhcp = entriesOf(m, 'dhcp');
  const discovers = dhcp.filter((e) => e.dhcp.type === 'DISCOVER');
  if (discovers.length === 0) return [];
  const answered = new Set(dhcp.filter(answers).map((e) => e.dhcp.xid));
  const unanswered = discovers.filter((e) => !answered.has(e.dhcp.xid));
  if (unanswered.length === 0) return [];
  const xids = [...new Set(unanswered.map((e) => e.dhcp.xidHex))];
  const span = unanswered.at(-1)!.t - unanswered[0]!.t;
  const frames = evidenceFrames(unanswered.flatMap((e) => e.frames));
  const hint = 'Check that the DHCP server runs and listens on this network segment (or that the relay\'s helper address points at it) and that nothing drops UDP 67/68; '
    + 'rackforge answers only machines in its inventory unless unknown machines are allowed, so check a system has this MAC.';
  if (answered.size === 0) {
    return [{
      code: 'NO_OFFER', severity: 'error', frames, hint,
      summary: `${m.mac} sent ${discovers.length} DHCP DISCOVER${discovers.length > 1 ? 's' : ''} (xid ${listWords(xids, 4)}) over ${span.toFixed(1)} s and no DHCP server offered an address.`,
    }];
  }
  // It did get answers: only a last attempt left unanswered is worth saying (a server that went away).
  const last = discovers.at(-1)!;
  if (answered.has(last.dhcp.xid) || ctx.report.file.lastT - last.t < ANSWER_GRACE_SECONDS) return [];
  const lastRun = unanswered.filter((e) => e.frames[0]! > (dhcp.filter(answers).at(-1)?.frames[0] ?? 0));
  if (lastRun.length === 0) return [];
  return [{
    code: 'NO_OFFER', severity: 'warning', frames: evidenceFrames(lastRun.flatMap((e) => e.frames)), hint,
    summary: `${m.mac} got DHCP offers earlier, but its last ${lastRun.length} DISCOVER${lastRun.length > 1 ? 's' : ''} (from ${atTime(lastRun[0]!.t)}) got none.`,
  }];
}

export function offerWithoutBootFileFindings(m: MachineReport): Finding[] {
  const replies = entriesOf(m, 'dhcp').filter((e) => answers(e) && e.dhcp.netbootClient);
  if (replies.length === 0) return [];
  if (replies.some((e) => e.dhcp.bootFile !== null || e.dhcp.proxy)) return [];
  const servers = [...new Set(replies.map((e) => e.dhcp.server ?? e.dhcp.srcIp))];
  const first = replies[0]!;
  const client = first.dhcp.vendorClass ?? (first.dhcp.architectures[0] ? `arch ${first.dhcp.architectures[0].code}` : 'PXE');
  return [{
    code: 'OFFER_WITHOUT_BOOT_FILE',
    severity: 'error',
    summary: `${m.mac} is a network boot client (${client}) and got ${replies.length} DHCP answer${replies.length > 1 ? 's' : ''} from ${listWords(servers)}`
      + `${first.dhcp.address ? ` (address ${first.dhcp.address})` : ''}, but none named a boot file (option 67 and the file field are empty) and no ProxyDHCP answered.`,
    frames: evidenceFrames(replies.flatMap((e) => e.frames)),
    hint: 'Give the machine a boot file (ISC dhcpd "filename", dnsmasq "dhcp-boot", or a ProxyDHCP); with rackforge check that netboot is enabled for the system and its profile has a boot loader for this architecture.',
  }];
}

export function nakLoopFindings(m: MachineReport): Finding[] {
  const dhcp = entriesOf(m, 'dhcp');
  const naks = dhcp.filter((e) => isReply(e) && e.dhcp.type === 'NAK');
  if (naks.length < 2) return [];
  const nakXids = new Set(naks.map((e) => e.dhcp.xid));
  const requests = dhcp.filter((e) => e.dhcp.type === 'REQUEST' && nakXids.has(e.dhcp.xid));
  const asked = [...new Set(requests.map((e) => e.dhcp.requestedIp ?? e.dhcp.ciaddr).filter((x): x is string => x !== null))];
  if (naks.length === 2 && asked.length !== 1) return [];
  const servers = [...new Set(naks.map((e) => e.dhcp.server ?? e.dhcp.srcIp))];
  return [{
    code: 'NAK_LOOP',
    severity: naks.length >= 3 ? 'error' : 'warning',
    summary: `DHCP server ${listWords(servers)} refused ${m.mac} with NAK ${naks.length} times${asked.length > 0 ? `; it kept asking for ${listWords(asked)}` : ''}.`,
    frames: evidenceFrames([...naks, ...requests].flatMap((e) => e.frames)),
    hint: 'The address the machine asks for is not one this server will give it (wrong subnet, a reservation for another MAC, or two servers disagreeing); clear the stale lease or fix the reservation.',
  }];
}

export function noAckFindings(m: MachineReport, ctx: DiagnosisContext): Finding[] {
  const dhcp = entriesOf(m, 'dhcp');
  const offered = new Set(dhcp.filter((e) => isReply(e) && e.dhcp.type === 'OFFER').map((e) => e.dhcp.xid));
  const settled = new Set(dhcp.filter((e) => isReply(e) && (e.dhcp.type === 'ACK' || e.dhcp.type === 'NAK')).map((e) => e.dhcp.xid));
  const lastT = ctx.report.file.lastT;
  const stuck = dhcp.filter((e) => e.dhcp.type === 'REQUEST' && offered.has(e.dhcp.xid) && !settled.has(e.dhcp.xid));
  const byXid = new Map<number, DhcpEntry[]>();
  for (const e of stuck) byXid.set(e.dhcp.xid, [...(byXid.get(e.dhcp.xid) ?? []), e]);
  const out: Finding[] = [];
  for (const [, reqs] of byXid) {
    const last = reqs.at(-1)!;
    if (lastT - last.t < ANSWER_GRACE_SECONDS) continue;
    const laterAck = dhcp.some((e) => isReply(e) && e.dhcp.type === 'ACK' && e.frames[0]! > last.frames[0]!);
    const server = last.dhcp.server;
    out.push({
      code: 'DHCP_NO_ACK',
      severity: laterAck ? 'warning' : 'error',
      summary: `${m.mac} requested ${last.dhcp.requestedIp ?? 'its offered address'}${server ? ` from ${server}` : ''} ${reqs.length} time${reqs.length > 1 ? 's' : ''} (xid ${last.dhcp.xidHex}) and got neither ACK nor NAK.`,
      frames: evidenceFrames(reqs.flatMap((e) => e.frames)),
      hint: 'The server that made the offer did not confirm it: check its log for the REQUEST (a failover peer or lease database problem), and that replies are not dropped between server and client.',
    });
  }
  return out;
}

interface ServerAnswer {
  id: string;
  frames: number[];
  bootFile: boolean;
}

/** Non-proxy servers that answered the machine, in order of their first answer. */
function answeringServers(m: MachineReport): ServerAnswer[] {
  const by = new Map<string, ServerAnswer>();
  for (const e of entriesOf(m, 'dhcp')) {
    if (!isReply(e) || e.dhcp.proxy) continue;
    const id = e.dhcp.server ?? e.dhcp.srcIp;
    let s = by.get(id);
    if (!s) {
      s = { id, frames: [], bootFile: false };
      by.set(id, s);
    }
    s.frames.push(...e.frames);
    if (e.dhcp.bootFile !== null) s.bootFile = true;
  }
  return [...by.values()];
}

export function rogueServerFindings(m: MachineReport): Finding[] {
  const servers = answeringServers(m);
  if (servers.length < 2) return [];
  const bound = servers.find((s) => s.id === m.leaseFrom);
  const others = servers.filter((s) => s !== bound);
  const bootServers = servers.filter((s) => s.bootFile);
  const wrongOne = bound !== undefined && !bound.bootFile && bootServers.length > 0;
  const describe = (s: ServerAnswer): string => `${s.id} (frame ${s.frames[0]}${s.bootFile ? ', gives boot files' : ', no boot file'})`;
  const summary = bound
    ? `${servers.length} DHCP servers answered ${m.mac}: it took its lease from ${describe(bound)}; ${listWords(others.map(describe))} also answered.`
    : `${servers.length} DHCP servers answered ${m.mac}: ${listWords(servers.map(describe))}.`;
  return [{
    code: 'ROGUE_DHCP_SERVER',
    severity: wrongOne || bootServers.length === 0 || !bound ? 'error' : 'warning',
    summary: wrongOne ? `${summary} The lease came from the server without boot files, so the machine cannot network boot.` : summary,
    frames: evidenceFrames(servers.flatMap((s) => s.frames.slice(0, 5))),
    hint: 'Only one DHCP server should answer on a provisioning network: find the other one by its MAC (switch port, ARP table) and stop it or make it ignore these machines; DHCP snooping on the switch blocks such servers.',
  }];
}

/** The capture-level view: every server handing out addresses, when there is more than one. */
export function networkRogueFindings(servers: readonly DhcpServerReport[]): Finding[] {
  const dhcp = servers.filter((s) => s.role === 'dhcp' && s.offers + s.acks > s.proxyReplies);
  if (dhcp.length < 2) return [];
  const describe = (s: DhcpServerReport): string =>
    `${s.id} (MAC ${listWords(s.sourceMacs, 2) || 'unknown'}, ${s.offers} offers, ${s.acks} acks, ${s.bootFiles.length > 0 ? `boot files ${listWords(s.bootFiles, 3)}` : 'no boot file'}, ${s.boundClients.length} clients bound)`;
  return [{
    code: 'ROGUE_DHCP_SERVER',
    severity: 'error',
    summary: `${dhcp.length} DHCP servers hand out addresses on this network: ${listWords(dhcp.map(describe))}.`,
    frames: evidenceFrames(dhcp.flatMap((s) => s.frames.slice(0, 5))),
    hint: 'Only one DHCP server should answer on a provisioning network: find the other one by its MAC (switch port, ARP table) and stop it or make it ignore these machines; DHCP snooping on the switch blocks such servers.',
  }];
}

// Summarises a V8 .cpuprofile: top functions by self time, and by inclusive time, plus self time
// per area (node internals, hono, ioredis, hanglink, GC...).
//   node --import tsx bench/cpuprofile-top.ts /tmp/prof/CPU.*.cpuprofile [top=25]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(url: string): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  if (pkg !== null) return `${pkg[1]}/${pkg[2]?.split('/').slice(-2).join('/')}`;
  const dist = /\/dist\/(.*)$/.exec(path);
  return dist !== null ? `hanglink/${dist[1]}` : path;
}

export function area(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native / V8 builtins)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}${url.includes('/http') || url.includes('_http') ? ' (http)' : ''}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) return pkg[1] ?? url;
  if (url.includes('/dist/')) return 'hanglink (dist/)';
  return url;
}

export function summarise(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: Node) => `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;

  // timeDeltas[i+1] is the time until the next sample: that much is charged to sample i.
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const leaf = byId.get(id);
    if (leaf === undefined) return;
    total += ms;
    self.set(key(leaf), (self.get(key(leaf)) ?? 0) + ms);
    const a = area(leaf.callFrame.url, leaf.callFrame.functionName);
    if (a !== '(idle)') areas.set(a, (areas.get(a) ?? 0) + ms);
    const seen = new Set<string>();
    for (let n: Node | undefined = leaf; n !== undefined; n = byId.get(parent.get(n.id) ?? -1)) {
      const k = key(n);
      if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
      seen.add(k);
    }
  });

  const idle = self.get('(idle)  ') ?? 0;
  const busy = total - idle;
  self.delete('(idle)  ');
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => `${ms.toFixed(0).padStart(7)} ms ${((ms / busy) * 100).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  const skip = /^\((root|program|idle)\)|^\(anonymous\)  $/;
  const inclusiveTop = new Map([...inclusive].filter(([k]) => !skip.test(k)));
  return [
    `${file}: ${(total / 1000).toFixed(1)} s sampled (whole process life), ${(idle / 1000).toFixed(1)} s idle, ${(busy / 1000).toFixed(1)} s busy: percentages are of busy time`,
    `\nself time by area:\n${list(areas, 15)}`,
    `\ntop ${top} functions by self time:\n${list(self, top)}`,
    `\ntop ${top} functions by inclusive time:\n${list(inclusiveTop, top)}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: cpuprofile-top.ts <file.cpuprofile> [top]');
  console.log(summarise(file, top === undefined ? 25 : Number(top)));
}

// Domain patterns in persona network rules: `example.com`, `*.example.com`,
// optionally with `:port`. Parsing is strict and normalizing (lower case, no
// trailing dot) so that no odd spelling widens a rule.

export interface DomainPattern {
  /** true for `*.example.com`: any subdomain, never the apex itself. */
  readonly wildcard: boolean;
  /** Lower-case host without the `*.` prefix or a trailing dot. */
  readonly host: string;
  /** The only port allowed, or undefined for the default web ports (80, 443). */
  readonly port: number | undefined;
}

const LABEL_RE = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4ISH_RE = /^[0-9a-fx.]+$/;

function looksLikeIp(host: string): boolean {
  return host.includes(':') || host.startsWith('[') || (IPV4ISH_RE.test(host) && /^[0-9]/.test(host) && host.split('.').every((l) => /^(0x[0-9a-f]*|[0-9]+)$/.test(l)));
}

/** Returns a problem description, or undefined when the pattern is acceptable. */
export function checkDomainPattern(raw: string): string | undefined {
  const parsed = parseDomainPattern(raw);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** Parses a pattern; returns a problem description (string) when it is not acceptable. */
export function parseDomainPattern(raw: string): DomainPattern | string {
  const quoted = JSON.stringify(raw);
  if (typeof raw !== 'string' || raw.length === 0) return 'must be a domain pattern like example.com or *.example.com';
  if (raw.length > 260) return `${quoted.slice(0, 40)}... is too long`;
  let text = raw.trim().toLowerCase();
  if (text === '*' || text === '*.*') return `${quoted} is too broad`;
  let port: number | undefined;
  const colon = text.lastIndexOf(':');
  if (colon !== -1 && !text.startsWith('[')) {
    const portText = text.slice(colon + 1);
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      return `${quoted} has an invalid port`;
    }
    port = Number(portText);
    text = text.slice(0, colon);
  }
  if (text.endsWith('.')) text = text.slice(0, -1);
  const wildcard = text.startsWith('*.');
  const host = wildcard ? text.slice(2) : text;
  if (host.includes('*')) return `${quoted}: a wildcard is only allowed as a leading "*."`;
  if (looksLikeIp(host)) return `${quoted} is an IP address; network rules name domains`;
  const labels = host.split('.');
  if (!labels.every((l) => LABEL_RE.test(l))) return `${quoted} is not a valid domain name`;
  if (wildcard && labels.length < 2) return `${quoted} is too broad`;
  if (!wildcard && labels.length < 2 && host !== 'localhost') return `${quoted} is not a full domain name (add the top-level domain)`;
  if (host === 'localhost') return `${quoted}: the host's loopback is never reachable from a sandbox`;
  return { wildcard, host, port };
}

// The renderer's pure logic: the feed's bounded buffer and the persona form model.
import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../main/api/contract.js';
import { FeedBuffer } from '../../renderer/feed/feed-buffer.js';
import { dataFromForm, formFromData, groupErrors } from '../../renderer/personas/form-model.js';

const ev = (n: number): ApiEvent => ({
  id: String(n).padStart(26, '0'), ts: new Date(n).toISOString(), session: 's', persona: 'p', agent: { kind: 'shell', version: null },
  on_behalf_of: 'me', kind: 'exec', tool: null, target: `t${n}`, decision: null, reason: null, detail: {},
});
const range = (a: number, b: number): ApiEvent[] => Array.from({ length: b - a }, (_, i) => ev(a + i));

describe('FeedBuffer', () => {
  it('keeps at most max events, dropping the oldest while following the tail', () => {
    const b = new FeedBuffer(10);
    b.reset(range(0, 5), false);
    expect(b.append(range(5, 8))).toBe(0);
    expect(b.append(range(8, 14))).toBe(4);
    expect(b.items.map((e) => e.target)).toEqual(range(4, 14).map((e) => e.target));
    expect(b.hasOlder).toBe(true);
  });

  it('paging older past max drops the newest and detaches from the live tail until reset', () => {
    const b = new FeedBuffer(10);
    b.reset(range(10, 18), true);
    b.prepend(range(4, 10), true);
    expect(b.items).toHaveLength(10);
    expect(b.items[0]?.target).toBe('t4');
    expect(b.detached).toBe(true);
    const v = b.version;
    expect(b.append(range(18, 21))).toBe(0);
    expect(b.missed).toBe(3);
    expect(b.version).toBeGreaterThan(v);
    b.reset(range(18, 21), true);
    expect(b.detached).toBe(false);
    expect(b.missed).toBe(0);
  });
});

describe('persona form model', () => {
  it('round-trips data through the form, keeping fields the form does not show', () => {
    const data = {
      version: 1, name: 'n', display_name: 'N', owner: 'o', purpose: 'p', agent: 'shell', execution_mode: 'approve',
      filesystem: { write: ['{workspace}'], read_deny: [], allow_sensitive: ['.vscode'] },
      network: { allow: ['a.example.com', 'b.example.com'] },
      credentials: { ANTHROPIC_API_KEY: 'secret:t', GITHUB_TOKEN: { secret: 'gh', hosts: ['api.github.com', 'github.com'] }, LEGACY: { secret: 'l', inject: 'env' } },
      limits: { max_runtime: '1h', max_tool_calls: 10, drift_threshold: 3 },
    };
    expect(formFromData(data).credentials).toBe('ANTHROPIC_API_KEY=secret:t\nGITHUB_TOKEN=secret:gh hosts=api.github.com,github.com\nLEGACY=secret:l inject=env');
    const back = dataFromForm(formFromData(data), data);
    expect(back).toEqual(data);
  });

  it('a field the file leaves out stays out while the form shows its default', () => {
    const data = { version: 1, name: 'n', owner: 'o', purpose: 'p', agent: 'shell' };
    expect(formFromData(data).execution_mode).toBe('approve');
    expect(dataFromForm(formFromData(data), data)).toEqual(data);
    expect(dataFromForm({ ...formFromData(data), execution_mode: 'autonomous' }, data)).toEqual({ ...data, execution_mode: 'autonomous' });
  });

  it('lists are one item per line; empty optional fields disappear', () => {
    const f = { ...formFromData({ name: 'x' }), network_allow: ' a.example.com \n\n b.example.com ', max_runtime: '', credentials: 'A=secret:a\nBROKEN' };
    const d = dataFromForm(f);
    expect(d.network).toEqual({ allow: ['a.example.com', 'b.example.com'] });
    expect(d.credentials).toEqual({ A: 'secret:a', BROKEN: '' });
    expect(d.limits).toBeUndefined();
  });

  it('puts server errors on their form field', () => {
    const g = groupErrors([
      { field: 'network.allow[2]', message: '"*.com" is too broad' },
      { field: 'credentials.TOKEN', message: 'must be secret:NAME' },
      { field: 'owner', message: 'is required (text)' },
      { field: 'limits.drift_threshold', message: 'must be at least 2' },
      { field: '', message: 'line 3: bad indentation' },
    ]);
    expect(g.byField.network_allow).toEqual(['line 3: "*.com" is too broad']);
    expect(g.byField.credentials).toEqual(['TOKEN: must be secret:NAME']);
    expect(g.byField.owner).toEqual(['is required (text)']);
    expect(g.general).toEqual(['limits.drift_threshold: must be at least 2', 'line 3: bad indentation']);
  });
});

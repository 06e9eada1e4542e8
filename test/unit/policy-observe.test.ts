// execution_mode: observe at the tool layer: what approve mode would ask
// about is allowed and recorded as a would-be decision; deny rules still deny.
import { describe, expect, it } from 'vitest';
import { compileToolRules, decideToolCall } from '../../sandbox/policy/tool-rules.js';
import type { ToolRuleLists } from '../../sandbox/policy/tool-rules.js';

const ctx = { workspace: '/ws', home: '/home/p' };
const decide = (tools: Partial<ToolRuleLists>, tool: string, input: Record<string, unknown>) =>
  decideToolCall(compileToolRules({ allow: [], ask: [], deny: [], ...tools }, ctx), { tool, input }, 'observe');

describe('execution_mode: observe', () => {
  it('allows an unmatched call, recording that approve would ask', () => {
    expect(decide({}, 'Bash', { command: 'ls' })).toEqual({
      decision: 'allow',
      reason: 'execution_mode: observe (would ask: execution_mode: approve)',
      wouldBe: { decision: 'ask', reason: 'execution_mode: approve' },
    });
  });

  it('allows a call an ask rule matches, naming the rule', () => {
    expect(decide({ ask: ['Bash(npm publish:*)'] }, 'Bash', { command: 'npm publish --tag next' })).toEqual({
      decision: 'allow',
      reason: 'execution_mode: observe (would ask: tools.ask: Bash(npm publish:*))',
      wouldBe: { decision: 'ask', reason: 'tools.ask: Bash(npm publish:*)', matched: 'Bash(npm publish:*)' },
    });
    expect(decide({ ask: ['Edit(secrets/**)'] }, 'Edit', { file_path: '/ws/secrets/a' }).wouldBe?.matched).toBe('Edit(secrets/**)');
  });

  it('keeps allow and deny decisions as they are, deny rules included', () => {
    expect(decide({ allow: ['Bash(ls:*)'] }, 'Bash', { command: 'ls -la' })).toEqual({ decision: 'allow', reason: 'tools.allow: Bash(ls:*)', matched: 'Bash(ls:*)' });
    expect(decide({ deny: ['Bash(git push:*)'] }, 'Bash', { command: 'git push origin' }).decision).toBe('deny');
    expect(decide({ deny: ['WebFetch(domain:evil.example)'] }, 'WebFetch', { url: 'https://evil.example/x' }).decision).toBe('deny');
    expect(decide({}, 'Bash', { command: 42 }).decision).toBe('deny');
  });

  it('lets a call that might match a deny rule once expanded go on to be decided at each exec, recording the would-be ask', () => {
    const d = decide({ deny: ['Bash(git push:*)'] }, 'Bash', { command: 'git $SUB origin' });
    expect(d.decision).toBe('allow');
    expect(d.reason).toMatch(/^execution_mode: observe; .*may match tools\.deny: Bash\(git push:\*\).*: decided at each exec$/);
    expect(d.wouldBe).toMatchObject({ decision: 'ask', reason: expect.stringMatching(/^tools\.deny: Bash\(git push:\*\) \(may match/) });
  });

  it('still asks about a call that might match a deny rule the exec logger cannot decide', () => {
    const d = decide({ deny: ['Bash(cd /secret:*)'] }, 'Bash', { command: '$CMD /secret' });
    expect(d.decision).toBe('ask');
    expect(d.wouldBe).toBeUndefined();
  });
});

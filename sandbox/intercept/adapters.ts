// Picks the adapter for a persona's agent kind.
import { parseDuration, type Persona } from '../../personas/schema.js';
import { shellAdapter, type AgentAdapter } from './adapter.js';
import { claudeAdapter } from './claude.js';
import { codexAdapter } from './codex.js';
import { geminiAdapter } from './gemini.js';

export interface AdapterContext {
  readonly workspace: string;
  readonly personaHome: string;
  readonly hookTimeoutSeconds: number;
  readonly env?: NodeJS.ProcessEnv;
}

export function adapterFor(persona: Persona, ctx: AdapterContext): AgentAdapter {
  switch (persona.agent) {
    case 'claude':
      return claudeAdapter(persona, ctx);
    case 'codex':
      return codexAdapter(persona, ctx);
    case 'gemini':
      return geminiAdapter(persona, ctx);
    case 'shell':
      return shellAdapter;
  }
}

/** The hook waits for the broker longer than an approval may take. */
export function hookTimeoutSeconds(persona: Persona): number {
  return Math.ceil((parseDuration(persona.limits.approval_timeout) ?? 300_000) / 1000) + 10;
}

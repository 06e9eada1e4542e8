// Picks the adapter for a persona's agent kind.
import type { Persona } from '../../personas/schema.js';
import { shellAdapter, type AgentAdapter } from './adapter.js';

export function adapterFor(persona: Persona, _ctx: { readonly workspace: string }): AgentAdapter {
  switch (persona.agent) {
    case 'shell':
    case 'claude':
    case 'codex':
    case 'gemini':
      return { ...shellAdapter, kind: persona.agent };
  }
}

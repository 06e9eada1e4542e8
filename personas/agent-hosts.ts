// The model APIs personae knows: the host each agent kind talks to, the
// variables that carry an API key for it, and the variable that points the
// agent (and so its key) at another host. The agent adapters allow these
// hosts; the short credential form `secret:NAME` binds its key to them.

/** The model API host of each agent kind (its adapter adds it to the persona's network). */
export const AGENT_API_HOSTS = {
  claude: ['api.anthropic.com'],
  codex: ['api.openai.com'],
  gemini: ['generativelanguage.googleapis.com'],
  shell: [],
} as const satisfies Record<string, readonly string[]>;

export type ModelAgent = 'claude' | 'codex' | 'gemini';

/** Variables that hold a model API key (or token), and whose API it is. */
export const MODEL_API_KEYS: Readonly<Record<string, ModelAgent>> = {
  ANTHROPIC_API_KEY: 'claude',
  ANTHROPIC_AUTH_TOKEN: 'claude',
  CLAUDE_CODE_OAUTH_TOKEN: 'claude',
  OPENAI_API_KEY: 'codex',
  GEMINI_API_KEY: 'gemini',
  GOOGLE_API_KEY: 'gemini',
};

/** The variable (in personae's own environment) that points an agent at another API base URL. */
export const BASE_URL_VARIABLES: Readonly<Record<ModelAgent, string>> = {
  claude: 'PERSONAE_ANTHROPIC_BASE_URL',
  codex: 'PERSONAE_OPENAI_BASE_URL',
  gemini: 'PERSONAE_GEMINI_BASE_URL',
};

/** The host[:port] of a base URL (`https://host:8443/v1` -> `host:8443`), or undefined when there is none or it is not a URL. */
export function baseUrlAuthority(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.hostname === '' ? undefined : u.host.toLowerCase();
  } catch {
    return undefined;
  }
}

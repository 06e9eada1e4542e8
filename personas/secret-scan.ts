// Secrets have no place in a persona file (credentials are `secret:NAME`
// references to the local store). A preset shared through a team's repository
// is scanned before it is installed: well-known token shapes, private keys,
// and any value held in the local secret store. Pure.

const TOKEN_SHAPES: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b/, 'a GitHub token'],
  [/\bgithub_pat_[A-Za-z0-9_]{40,}\b/, 'a GitHub token'],
  [/\bglpat-[A-Za-z0-9_-]{20,}\b/, 'a GitLab token'],
  [/\bsk-ant-[A-Za-z0-9_-]{20,}\b/, 'an Anthropic API key'],
  [/\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}\b/, 'an OpenAI API key'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/, 'a Google API key'],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, 'an AWS access key'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}\b/, 'a Slack token'],
  [/\bnpm_[A-Za-z0-9]{36}\b/, 'an npm token'],
  [/\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, 'a JSON Web Token'],
];

/** What looks like a secret in `text` (`a GitHub token on line 12`), or undefined. */
export function findSecretLike(text: string, known: Readonly<Record<string, string>> = {}): string | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    for (const [re, what] of TOKEN_SHAPES) if (re.test(line)) return `${what} on line ${i + 1}`;
    for (const [name, value] of Object.entries(known)) {
      if (value.length >= 8 && line.includes(value)) return `the value of the stored secret ${name} on line ${i + 1}`;
    }
  }
  return undefined;
}

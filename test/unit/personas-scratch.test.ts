import { test } from 'vitest';
import { parsePersonaText } from '../../personas/loader.js';
const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
test('j', () => { const r = parsePersonaText(deep, 'd.json', 'json'); process.stdout.write(JSON.stringify(r).slice(0, 300) + '\n'); });
test('y', () => { const r = parsePersonaText(deep, 'd.yaml'); process.stdout.write(JSON.stringify(r).slice(0, 300) + '\n'); });
test('z', () => { const r = parsePersonaText(deep, 'd.json', 'json'); console.log(r); });

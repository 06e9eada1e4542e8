import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { PERSONA_SCHEMA_ID, personaJsonSchema, personaJsonSchemaText } from '../../personas/json-schema.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../personas/persona.schema.json', import.meta.url));

describe('persona JSON Schema', () => {
  test('carries $id, title and the field descriptions', () => {
    const schema = personaJsonSchema() as {
      $id: string;
      title: string;
      properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.$id).toBe(PERSONA_SCHEMA_ID);
    expect(schema.title).toMatch(/persona/);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['version', 'name', 'owner', 'purpose', 'agent']);
    expect(schema.properties['filesystem']?.properties?.['write']?.description).toMatch(/Empty means nothing is writable/);
    for (const [key, prop] of Object.entries(schema.properties)) expect(prop.description, key).toBeTruthy();
  });

  // Run with UPDATE_SCHEMA=1 to rewrite the committed file after a schema change.
  test('personas/persona.schema.json is up to date', () => {
    const generated = personaJsonSchemaText();
    if (process.env['UPDATE_SCHEMA'] === '1') writeFileSync(SCHEMA_FILE, generated);
    let committed = '';
    try {
      committed = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      // missing: fails below
    }
    expect(committed, 'personas/persona.schema.json is stale: run UPDATE_SCHEMA=1 npx vitest run test/unit/personas-json-schema').toBe(generated);
  });
});

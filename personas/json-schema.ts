// The persona file format as JSON Schema, for editors (yaml-language-server,
// VS Code). Generated from PersonaSchema, so the two never drift; the
// committed copy is personas/persona.schema.json (a unit test keeps it fresh).
import * as z from 'zod/mini';
import { PersonaSchema } from './schema.js';

export const PERSONA_SCHEMA_ID = 'urn:personae:persona:1';
export const PERSONA_SCHEMA_TITLE = 'personae persona file (version 1)';

/** JSON Schema (draft 2020-12) of what a persona file may contain (the input side: defaults are optional). */
export function personaJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(PersonaSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, $id: PERSONA_SCHEMA_ID, title: PERSONA_SCHEMA_TITLE, ...rest };
}

/** The schema as the committed file's text. */
export function personaJsonSchemaText(): string {
  return `${JSON.stringify(personaJsonSchema(), null, 2)}\n`;
}

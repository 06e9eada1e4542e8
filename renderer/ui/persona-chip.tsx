import { personaHue } from './format.js';

/** The persona's name on its own colour. */
export function PersonaChip({ name }: { name: string }) {
  const hue = personaHue(name);
  return (
    <span className="chip" data-persona={name} style={{ background: `hsl(${hue} 70% 92%)`, color: `hsl(${hue} 55% 28%)`, borderColor: `hsl(${hue} 45% 78%)` }}>
      {name}
    </span>
  );
}

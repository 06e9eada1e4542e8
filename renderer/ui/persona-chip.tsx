import { usePersonaHue } from './persona-colours.js';

/** The persona's name on its own colour (no two personas on screen share one). */
export function PersonaChip({ name }: { name: string }) {
  const hue = usePersonaHue(name);
  return (
    <span className="chip" data-persona={name} data-hue={hue} style={{ background: `hsl(${hue} 70% 92%)`, color: `hsl(${hue} 55% 28%)`, borderColor: `hsl(${hue} 45% 78%)` }}>
      {name}
    </span>
  );
}

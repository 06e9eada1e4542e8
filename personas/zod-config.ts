// zod's mini API comes without error messages (every issue says "Invalid
// input"): give it the English ones the classic API sets up. Imported by the
// persona schema, whose issues reach people (see issue-format.ts).
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

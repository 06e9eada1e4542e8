import { describe, expect, it } from 'vitest';
import { passwdFor } from '../../sandbox/launch/passwd.js';

describe("the sandbox's /etc/passwd", () => {
  it("points the user's entry at the persona's HOME, and leaves the rest as it is", () => {
    const host = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh\nbob:x:1001:1001::/home/bob:/bin/sh\n';
    expect(passwdFor(host, 1000, '/p/homes/night')).toBe('root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice,,,:/p/homes/night:/bin/zsh\nbob:x:1001:1001::/home/bob:/bin/sh\n');
    expect(passwdFor(host, 0, '/p/homes/night').split('\n')[0]).toBe('root:x:0:0:root:/p/homes/night:/bin/bash');
    expect(passwdFor(host, 4242, '/p')).toBe(host);
    expect(passwdFor('garbage\n\n', 0, '/p')).toBe('garbage\n\n');
  });
});

import { describe, expect, it } from 'vitest';
import { loopbackListeners } from '../../sandbox/launch/bridge-watch.js';

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0C38 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4639186 1 00000000c190263b 100 0 0 10 0
   1: 0100007F:0C39 0100007F:826A 06 00000000:00000000 03:0000176F 00000000     0        0 0 3 00000000d725f538
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4639190 1 0000000064cfc650 100 0 0 10 0
`;

describe('loopbackListeners', () => {
  it('keeps listening sockets on 127.0.0.1 only, by port, with their inode', () => {
    expect([...loopbackListeners(TABLE)]).toEqual([[3128, '4639186']]);
  });

  it('an empty or garbled table has none', () => {
    expect(loopbackListeners('').size).toBe(0);
    expect(loopbackListeners('header\nnot a table\n').size).toBe(0);
  });
});

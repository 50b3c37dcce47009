// The reader of bench/write-floor.ts: opens N TCP connections to the writer and reads (and
// drops) everything, like N idle chat clients. Prints "ready" once every connection is open.
// Usage: node bench/write-floor-reader.mjs <port> <connections>
import { connect } from 'node:net';

const port = Number(process.argv[2]);
const total = Number(process.argv[3]);
const BATCH = 250;
let open = 0;

function openBatch() {
  const n = Math.min(BATCH, total - open);
  let pending = n;
  for (let i = 0; i < n; i++) {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      if (--pending === 0) {
        open += n;
        if (open < total) openBatch();
        else process.stdout.write('ready\n');
      }
    });
    socket.on('data', () => {});
    socket.on('error', (err) => {
      process.stderr.write(`reader: ${err.message}\n`);
      process.exit(1);
    });
  }
}

openBatch();
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

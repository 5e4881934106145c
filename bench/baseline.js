// Baseline: the cheapest possible redirect on node:http. Same status, a Location of the size the
// gateway sends and the same extra headers, so the difference is the gateway's own work.
import { createServer } from 'node:http';

const location =
  'https://item.taobao.com/item.htm?id=500&hl_cid=V1StGXR8_Z5jdHi6B-myT&hl_lid=Ab3dE6gH&hl_nid=note-500&hl_ts=1700000000&hl_kid=bench&hl_sig=3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const headers = { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer-when-downgrade', 'content-length': '0' };

const server = createServer((request, response) => {
  response.writeHead(302, headers);
  response.end();
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`baseline: listening on ${server.address().port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
